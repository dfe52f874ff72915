"""axe-core (WCAG 2.1 A and AA) on a background job's page in each of its states, in both
languages, at a desktop and a phone width.

The jobs are real rows in each state (the web pages start them the same way). A running job's
page follows it in place with a small script, never by reloading itself (axe-core's
`meta-refresh` rule, WCAG 2.2.1): a last test watches it do so.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from survey.auth.operations import create_user
from survey.campaigns.operations import create_campaign
from survey.extensions import db
from survey.jobs.operations import finish_job, mark_running, queue_job
from survey.models import Job, JobKind, utcnow
from tests.browser.test_respond_accessibility import (
    CHROMIUM,
    assert_accessible,
    browser,  # noqa: F401 - the module's Chromium, shared
)

pytestmark = [pytest.mark.browser]

EMAIL = "manager@jobs.example"
PASSWORD = "a-long-password-for-the-manager"



def job_pages(app) -> dict[str, str]:
    """One job in each state a person meets: name → the job page's path."""
    with app.app_context():
        session = db.session
        create_user(session, EMAIL, "manager", PASSWORD, actor="test")
        campaign = create_campaign(session, "barometre-2026", programme="Baromètre", year=2026,
                                   questionnaire_key="nf-relation-client", actor="test")
        pages: dict[str, int] = {}

        def job(kind, **values):
            item = queue_job(session, kind, actor="test", user_id=None,
                             campaign_id=None if kind is JobKind.CUSTOMER_IMPORT else campaign.id)
            for name, value in values.items():
                setattr(item, name, value)
            return item

        pages["import-running"] = job(JobKind.CUSTOMER_IMPORT, state="running",
                                      stage="checking", done=40_000, total=120_000).id
        pages["report-running"] = job(JobKind.REPORT, state="running", stage="charts").id
        refused = job(JobKind.CUSTOMER_IMPORT)
        mark_running(session, refused.id)
        finish_job(session, refused.id, result={
            "filename": "clients.csv", "sha256": "0" * 64, "rows_total": 3, "rows_valid": 2,
            "rows_rejected": 1, "rows_created": 2, "rows_updated": 0, "rows_unchanged": 0,
            "dry_run": False, "rejects_accepted": False, "imported": False, "refused": True,
            "import_id": None, "rejects_count": 1,
            "rejects": [{"line": 3, "column": "Courriel", "value": "j***@",
                         "reason": "invalid email: no domain"}],
        })
        pages["import-refused"] = refused.id
        imported = job(JobKind.CUSTOMER_IMPORT)
        mark_running(session, imported.id)
        finish_job(session, imported.id, result={
            "filename": "clients.csv", "sha256": "0" * 64, "rows_total": 2, "rows_valid": 2,
            "rows_rejected": 0, "rows_created": 2, "rows_updated": 0, "rows_unchanged": 0,
            "dry_run": False, "rejects_accepted": False, "imported": True, "refused": False,
            "import_id": 1, "rejects_count": 0, "rejects": [],
        })
        pages["import-done"] = imported.id
        failed = job(JobKind.REPORT)
        mark_running(session, failed.id)
        finish_job(session, failed.id, error="campaign 'barometre-2026': no complete response")
        pages["report-failed"] = failed.id
        pages["pack-running"] = job(JobKind.AUDIT_PACK, state="running", stage="pdf").id
        pack = job(JobKind.AUDIT_PACK)
        mark_running(session, pack.id)
        finish_job(session, pack.id, result={
            "output": f"packs/{pack.id}.zip", "sha256": "0" * 64, "size": 123_456,
            "files": 17, "lang": "fr", "report_id": 1, "pdf": False,
            "pdf_note": "the PDF could not be printed: Chromium is missing"})
        pages["pack-done"] = pack.id
        refused_pack = job(JobKind.AUDIT_PACK)
        mark_running(session, refused_pack.id)
        finish_job(session, refused_pack.id, error="no report", result={
            "reason": "no_report", "reason_params": {"campaign": "barometre-2026"}})
        pages["pack-failed"] = refused_pack.id
        pages["import-interrupted"] = job(
            JobKind.CUSTOMER_IMPORT, state="running", stage="writing",
            heartbeat_at=utcnow() - timedelta(hours=1)).id
        session.commit()
    return {name: f"/manage/jobs/{job_id}" for name, job_id in pages.items()}


def log_in(page, server: str) -> None:
    page.goto(f"{server}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed")
@pytest.mark.parametrize("width", [1280, 320])
def test_every_state_of_a_job_page_has_no_axe_violation(app, server, browser, width):  # noqa: F811
    pages = job_pages(app)
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, server)
    for name, path in pages.items():
        for lang in ("en", "fr"):
            page.goto(f"{server}{path}?lang={lang}")
            assert page.locator("h1").count() == 1, name
            assert_accessible(page, f"{name} ({lang}, {width} px)")
    # The customer base while an import runs: its notice links to the job.
    page.goto(f"{server}/manage/customers?lang=en")
    assert page.get_by_role("link", name="Follow its progress").count() == 1
    assert_accessible(page, f"customers with an import running ({width} px)")
    context.close()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed")
def test_a_running_job_page_follows_the_job_in_place(app, server, browser):  # noqa: F811
    """The progress changes on the page, then the result replaces it, with no reload: a mark
    left on the page's window survives both."""
    path = job_pages(app)["import-running"]
    job_id = int(path.rsplit("/", 1)[1])
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, server)
    page.goto(f"{server}{path}?lang=en")
    status = page.locator("[data-job-running] [role=status]")
    assert "40,000 of about 120,000 rows" in status.inner_text()
    page.evaluate("window.notReloaded = true")
    with app.app_context():
        job = db.session.get(Job, job_id)
        job.done, job.heartbeat_at = 90_000, utcnow()
        db.session.commit()
    expect(status).to_contain_text("90,000 of about 120,000 rows", timeout=15_000)
    with app.app_context():
        finish_job(db.session, job_id, error="the file changed while it was read")
        db.session.commit()
    expect(page.locator("[role=alert]")).to_contain_text(
        "the file changed while it was read", timeout=15_000
    )
    assert page.evaluate("window.notReloaded === true")
    assert page.locator("[data-job-running]").count() == 0
    assert_accessible(page, "a job page after following its job to the end")
    context.close()
