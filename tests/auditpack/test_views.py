"""The auditor's pack asked for from the reports page, made by a worker, then downloaded.

The pack is a job (`survey.auditpack.tasks`): these tests queue it through the page and run it
with the worker's own code (`run_pending_jobs`: claim, run, record the end), as `barometre
worker` does.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from survey.auditpack.verify import verify_pack
from survey.campaigns.operations import create_campaign, get_campaign
from survey.extensions import db
from survey.models import AuditEvent, Job, JobOutput, User
from survey.reporting.operations import generate_report
from survey.reporting.synthetic import seed_synthetic_responses
from survey.worker.queue import run_pending_jobs
from tests.trust.helpers import logged_in, make_user

SLUG = "barometre-2026"
AUDITOR = "auditor@pack.example"


def _campaign_with_answers(app, *, respondents: int, closed: bool,
                           reports: tuple[str, ...] = ()) -> None:
    """A campaign with synthetic answers, its reports in `reports`' languages, and an
    auditor's account."""
    with app.app_context():
        campaign = create_campaign(
            db.session, SLUG, programme="Baromètre service client", year=2026,
            questionnaire_key="nf-relation-client", actor="test",
        )  # fmt: skip
        seed_synthetic_responses(db.session, campaign, rng_seed=respondents,
                                 n_respondents=respondents)
        if closed:
            campaign.status = "closed"
        db.session.commit()
        for lang in reports:
            generate_report(db.session, campaign, lang=lang,
                            instance_path=app.config["INSTANCE_PATH"], actor="test")
            db.session.commit()
    make_user(app, AUDITOR, "auditor")


@pytest.fixture
def reported(app):
    """A closed campaign with a French report computed from its data, and an auditor."""
    _campaign_with_answers(app, respondents=120, closed=True, reports=("fr",))
    return app


def _ask_for_pack(app, client, lang: str) -> int:
    """Press the page's button: the pack's job is queued and its page shown; its id."""
    asked = client.post(f"/manage/campaigns/{SLUG}/audit-pack?lang={lang}")
    assert asked.status_code == 303, asked.data[:300]
    job_id = int(re.search(r"/manage/jobs/(\d+)$", asked.headers["Location"]).group(1))
    waiting = client.get(f"/manage/jobs/{job_id}").get_data(as_text=True)
    assert "<progress" in waiting
    return job_id


def test_the_pack_an_auditor_asks_for_is_made_by_the_worker_then_downloaded(reported, tmp_path):
    auditor = logged_in(reported, AUDITOR)
    page = html.unescape(
        auditor.get(f"/manage/campaigns/{SLUG}/reports?lang=fr").get_data(as_text=True))
    assert "Constituer le dossier d'audit" in page
    assert f'action="/manage/campaigns/{SLUG}/audit-pack"' in page
    page = html.unescape(
        auditor.get(f"/manage/campaigns/{SLUG}/reports?lang=en").get_data(as_text=True))
    assert "Make the auditor's pack" in page and "made in the background" in page

    # Asked in English, while only a French report exists: the French one, said in the manifest.
    job_id = _ask_for_pack(reported, auditor, "en")
    page = html.unescape(
        auditor.get(f"/manage/campaigns/{SLUG}/reports?lang=en").get_data(as_text=True))
    assert "An auditor's pack is being made." in page and f"/manage/jobs/{job_id}" in page
    with reported.app_context():
        assert db.session.get(Job, job_id).state == "queued"  # the web process ran nothing
        assert not db.session.scalars(select(JobOutput)).all()

    assert run_pending_jobs(reported, worker_id="test-worker") == 1
    with reported.app_context():
        job = db.session.get(Job, job_id)
        assert job.state == "succeeded", job.error
        assert job.result["pdf"] is True and job.result["lang"] == "fr"  # printed by the worker
    done = html.unescape(auditor.get(f"/manage/jobs/{job_id}?lang=fr").get_data(as_text=True))
    assert "Le dossier d'audit est prêt" in done
    download = f"/manage/campaigns/{SLUG}/audit-packs/{job_id}.zip"
    assert f'href="{download}"' in done
    listed = auditor.get(f"/manage/campaigns/{SLUG}/reports?lang=fr").get_data(as_text=True)
    assert f'href="{download}"' in listed and "being made" not in listed

    response = auditor.get(download)
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and f"{SLUG}-audit-pack-fr.zip" in disposition
    assert "no-store" in response.headers["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.testzip() is None
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["campaign"]["slug"] == SLUG and manifest["report"]["lang"] == "fr"
    assert manifest["report"]["pdf"] == f"report/{SLUG}-report-fr.pdf"

    saved = tmp_path / "pack.zip"
    saved.write_bytes(response.data)
    result = verify_pack(saved)  # what `barometre audit verify-pack` runs
    assert result.ok, result.differences
    assert result.files == len(manifest["files"]) and result.numbers > 10

    with reported.app_context():
        made = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "campaign.audit_pack")).all()
        assert len(made) == 1
        auditor_id = db.session.scalar(select(User.id).where(User.email == AUDITOR))
        assert made[0].actor == f"user:{auditor_id}" and made[0].actor_id == auditor_id
        assert made[0].summary["sha256"] == job.result["sha256"] and made[0].summary["pdf"]


def test_a_pack_made_on_another_machine_is_sent_from_the_database(reported, tmp_path):
    auditor = logged_in(reported, AUDITOR)
    job_id = _ask_for_pack(reported, auditor, "fr")
    run_pending_jobs(reported, worker_id="test-worker")
    # This web server's instance folder has no copy (the worker ran elsewhere).
    copy = tmp_path / "instance-copy-gone"
    local = next((p for p in Path(reported.config["INSTANCE_PATH"]).rglob(f"{job_id}.zip")), None)
    assert local is not None
    local.rename(copy)
    response = auditor.get(f"/manage/campaigns/{SLUG}/audit-packs/{job_id}.zip")
    assert response.status_code == 200 and response.data == copy.read_bytes()
    # A changed copy is not sent: the database's, checked by its hash, is.
    local.write_bytes(b"PK changed")
    assert auditor.get(f"/manage/campaigns/{SLUG}/audit-packs/{job_id}.zip").data == \
        copy.read_bytes()


def test_the_pack_follows_the_readers_language_when_a_report_exists_in_it(reported):
    with reported.app_context():
        generate_report(db.session, get_campaign(db.session, SLUG), lang="en",
                        instance_path=reported.config["INSTANCE_PATH"], actor="test")
        db.session.commit()
    auditor = logged_in(reported, AUDITOR)
    asked = {lang: _ask_for_pack(reported, auditor, lang) for lang in ("fr", "en")}
    with reported.app_context():
        for job_id in asked.values():  # without the PDF: the language is what is tested
            db.session.get(Job, job_id).parameters = {"lang": db.session.get(
                Job, job_id).parameters["lang"], "pdf": False}
        db.session.commit()
    assert run_pending_jobs(reported, worker_id="test-worker") == 2
    for lang, job_id in asked.items():
        response = auditor.get(f"/manage/campaigns/{SLUG}/audit-packs/{job_id}.zip")
        assert response.status_code == 200
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        assert manifest["report"]["lang"] == lang
        assert manifest["report"]["pdf_note"] == "the PDF was left out when the pack was made"


def test_a_campaign_without_a_current_report_fails_the_job_in_the_readers_language(app):
    _campaign_with_answers(app, respondents=60, closed=False)
    auditor = logged_in(app, AUDITOR)
    job_id = _ask_for_pack(app, auditor, "fr")
    run_pending_jobs(app, worker_id="test-worker")
    french = html.unescape(auditor.get(f"/manage/jobs/{job_id}?lang=fr").get_data(as_text=True))
    assert (f"La campagne {SLUG} n'a pas de rapport calculé sur ses données actuelles : "
            "générez d'abord le rapport") in french
    assert "generate the report first" not in french  # no English inside the French page
    english = html.unescape(auditor.get(f"/manage/jobs/{job_id}?lang=en").get_data(as_text=True))
    assert "has no report computed from its current data: generate the report first" in english
    assert auditor.get(f"/manage/campaigns/{SLUG}/audit-packs/{job_id}.zip").status_code == 404
    with app.app_context():
        assert not db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "campaign.audit_pack")).all()


def test_unknown_campaign_or_pack_is_404_and_anonymous_is_sent_to_login(reported):
    auditor = logged_in(reported, AUDITOR)
    assert auditor.post("/manage/campaigns/no-such-campaign/audit-pack").status_code == 404
    assert auditor.get(f"/manage/campaigns/{SLUG}/audit-packs/999.zip").status_code == 404
    anonymous = reported.test_client()
    for answer in (anonymous.post(f"/manage/campaigns/{SLUG}/audit-pack"),
                   anonymous.get(f"/manage/campaigns/{SLUG}/audit-packs/1.zip")):
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
