"""The auditor's pack downloaded from the reports page."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import select

from survey.auditpack.verify import verify_pack
from survey.campaigns.operations import create_campaign
from survey.extensions import db
from survey.models import AuditEvent, User
from survey.reporting.operations import generate_report
from survey.reporting.synthetic import seed_synthetic_responses
from tests.trust.helpers import logged_in, make_user

SLUG = "barometre-2026"


@pytest.fixture
def reported(app):
    """A closed campaign with a French report computed from its data, and an auditor."""
    with app.app_context():
        campaign = create_campaign(
            db.session, SLUG, programme="Baromètre service client", year=2026,
            questionnaire_key="nf-relation-client", actor="test",
        )  # fmt: skip
        seed_synthetic_responses(db.session, campaign, rng_seed=2026, n_respondents=120)
        campaign.status = "closed"
        db.session.commit()
        generate_report(db.session, campaign, lang="fr",
                        instance_path=app.config["INSTANCE_PATH"], actor="test")
        db.session.commit()
    make_user(app, "auditor@pack.example", "auditor")
    return app


def test_the_pack_an_auditor_downloads_opens_and_verifies(reported, tmp_path):
    auditor = logged_in(reported, "auditor@pack.example")
    page = auditor.get(f"/manage/campaigns/{SLUG}/reports?lang=fr").get_data(as_text=True)
    assert "Télécharger le dossier d'audit" in page
    assert f'href="/manage/campaigns/{SLUG}/audit-pack.zip"' in page
    page = auditor.get(f"/manage/campaigns/{SLUG}/reports?lang=en").get_data(as_text=True)
    assert "Download the auditor's pack" in page and "Without the report's PDF" in page

    # Asked in English, while only a French report exists: the French one, said in the manifest.
    response = auditor.get(f"/manage/campaigns/{SLUG}/audit-pack.zip?lang=en")
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and f"{SLUG}-audit-pack-fr.zip" in disposition
    assert "no-store" in response.headers["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.testzip() is None
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["campaign"]["slug"] == SLUG and manifest["report"]["lang"] == "fr"
    assert manifest["report"]["pdf"] is None and manifest["report"]["pdf_note"]

    saved = tmp_path / "pack.zip"
    saved.write_bytes(response.data)
    result = verify_pack(saved)  # what `barometre audit verify-pack` runs
    assert result.ok, result.differences
    assert result.files == len(manifest["files"]) and result.numbers > 10

    with reported.app_context():
        made = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "campaign.audit_pack")).all()
        assert len(made) == 1
        auditor_id = db.session.scalar(select(User.id).where(User.email == "auditor@pack.example"))
        assert made[0].actor == f"user:{auditor_id}" and made[0].actor_id == auditor_id
        assert made[0].summary["sha256"] and made[0].summary["pdf"] is False


def test_the_pack_follows_the_readers_language_when_a_report_exists_in_it(reported):
    with reported.app_context():
        from survey.campaigns.operations import get_campaign

        generate_report(db.session, get_campaign(db.session, SLUG), lang="en",
                        instance_path=reported.config["INSTANCE_PATH"], actor="test")
        db.session.commit()
    auditor = logged_in(reported, "auditor@pack.example")
    for lang in ("fr", "en"):
        response = auditor.get(f"/manage/campaigns/{SLUG}/audit-pack.zip?lang={lang}")
        assert response.status_code == 200
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            assert json.loads(archive.read("manifest.json"))["report"]["lang"] == lang


def test_a_campaign_without_a_current_report_sends_back_to_the_reports_page(app):
    with app.app_context():
        campaign = create_campaign(
            db.session, SLUG, programme="Baromètre service client", year=2026,
            questionnaire_key="nf-relation-client", actor="test",
        )  # fmt: skip
        seed_synthetic_responses(db.session, campaign, rng_seed=1, n_respondents=60)
        db.session.commit()
    make_user(app, "auditor@pack.example", "auditor")
    auditor = logged_in(app, "auditor@pack.example")
    response = auditor.get(f"/manage/campaigns/{SLUG}/audit-pack.zip?lang=en",
                           follow_redirects=True)
    assert response.status_code == 200
    assert b"cannot be made" in response.data and b"generate the report first" in response.data
    with app.app_context():
        assert not db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "campaign.audit_pack")).all()


def test_unknown_campaign_is_404_and_anonymous_is_sent_to_login(reported):
    auditor = logged_in(reported, "auditor@pack.example")
    assert auditor.get("/manage/campaigns/no-such-campaign/audit-pack.zip").status_code == 404
    anonymous = reported.test_client().get(f"/manage/campaigns/{SLUG}/audit-pack.zip")
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]
