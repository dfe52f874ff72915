"""Managers' report pages: generation, the stored report served unchanged, dashboard, exports."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from survey.auth.operations import create_user
from survey.campaigns.operations import create_campaign
from survey.extensions import db
from survey.models import Report
from survey.reporting.synthetic import seed_synthetic_responses
from tests.conftest import wait_for_jobs

PASSWORD = "a-long-password-123"


@pytest.fixture
def campaign_slug(app):
    with app.app_context():
        campaign = create_campaign(
            db.session, "barometre-2026", programme="Baromètre", year=2026,
            questionnaire_key="nf-relation-client", actor="test",
        )  # fmt: skip
        seed_synthetic_responses(db.session, campaign, rng_seed=3, n_respondents=80)
        db.session.commit()
        return campaign.slug


def login(client, role):
    with client.application.app_context():
        create_user(db.session, f"{role}@example.org", role, PASSWORD, actor="test")
        db.session.commit()
    response = client.post("/login", data={"email": f"{role}@example.org", "password": PASSWORD})
    assert response.status_code in (302, 303)


def generate(client, slug, lang):
    """Ask for a report: it is generated in the background; wait for its job to end."""
    response = client.post(f"/manage/campaigns/{slug}/reports", data={"lang": lang})
    assert response.status_code == 303 and "/manage/jobs/" in response.headers["Location"]
    wait_for_jobs(client.application)
    return client.get(response.headers["Location"] + "?lang=en")


def test_generate_then_serve_the_stored_report_unchanged(app, client, campaign_slug):
    login(client, "manager")
    job_page = generate(client, campaign_slug, "en")
    assert "Report 1 generated." in job_page.text and "Read the report" in job_page.text
    with app.app_context():
        report = db.session.scalars(select(Report)).one()
        stored = Path(app.instance_path) / "reports" / f"{report.id}.html"
    served = client.get(f"/manage/campaigns/{campaign_slug}/reports/{report.id}")
    assert served.status_code == 200
    assert served.data == stored.read_bytes()
    csp = served.headers["Content-Security-Policy"]
    assert "sandbox allow-scripts" in csp and "script-src 'unsafe-inline'" in csp
    assert "connect-src" not in csp and "default-src 'none'" in csp
    listing = client.get(f"/manage/campaigns/{campaign_slug}/reports")
    assert f"/reports/{report.id}".encode() in listing.data
    assert "script-src 'self';" in listing.headers["Content-Security-Policy"]
    latest = client.get(f"/manage/campaigns/{campaign_slug}/reports/latest")
    assert latest.headers["Location"].endswith(f"/reports/{report.id}")


def test_a_changed_report_file_is_not_served(app, client, campaign_slug):
    login(client, "manager")
    generate(client, campaign_slug, "fr")
    with app.app_context():
        report = db.session.scalars(select(Report)).one()
    path = f"{app.instance_path}/reports/{report.id}.html"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("<!-- edited -->")
    assert client.get(f"/manage/campaigns/{campaign_slug}/reports/{report.id}").status_code == 410


def test_auditor_reads_and_exports_but_cannot_generate(client, campaign_slug):
    login(client, "auditor")
    assert client.get(f"/manage/campaigns/{campaign_slug}/reports").status_code == 200
    assert client.get(f"/manage/campaigns/{campaign_slug}/dashboard").status_code == 200
    refused = client.post(f"/manage/campaigns/{campaign_slug}/reports", data={"lang": "fr"})
    assert refused.status_code == 403
    # Issue #8: auditors download the exports (no personal data) to reproduce the numbers.
    assert client.get(f"/manage/campaigns/{campaign_slug}/export.csv").status_code == 200
    assert client.get("/manage/follow-ups").status_code == 403


def test_dashboard_and_export_download(client, campaign_slug):
    login(client, "manager")
    page = client.get(f"/manage/campaigns/{campaign_slug}/dashboard")
    assert page.status_code == 200
    assert b"<progress" in page.data and b"particulier" in page.data
    exported = client.get(f"/manage/campaigns/{campaign_slug}/export.csv")
    assert exported.status_code == 200
    assert exported.data.startswith(b"respondent,stratum,")
    design = client.get(f"/manage/campaigns/{campaign_slug}/export.design.json")
    assert design.json["strata"] == "stratum"
