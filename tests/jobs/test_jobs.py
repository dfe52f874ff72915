"""Background jobs: an import and a report started from their pages, followed on the job's page
while they run, their results linked when done, failures and interruptions shown as such."""

from __future__ import annotations

import io
import re
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from survey.campaigns.operations import create_campaign
from survey.extensions import db
from survey.frame.importing import ROWS_PER_PROGRESS, import_customers
from survey.jobs.operations import queue_job
from survey.jobs.tasks import customer_import
from survey.models import AuditEvent, Customer, Job, JobKind, JobState, Report, utcnow
from survey.reporting.operations import REPORT_STAGES, generate_report
from survey.reporting.synthetic import seed_synthetic_responses
from survey.worker.registry import JOB_TYPES, register_job_type
from tests.conftest import wait_for_jobs
from tests.frame.conftest import HEADER, csv_bytes
from tests.frame.test_views import log_in

GOOD = csv_bytes([HEADER, ["C1", "a@exemple.fr", "06 12 34 56 78", "", "", "pro"],
                  ["C2", "b@exemple.fr", "", "en", "", "retail"]])


@pytest.fixture
def app(app):
    app.config["JOBS_PROGRESS_INTERVAL"] = 0.05  # progress reaches the page at once
    return app


def post_file(client, data: bytes, **fields):
    return client.post("/manage/customers?lang=en", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "base.csv"), **fields})


def page_until(client, url: str, text: str, timeout: float = 10):
    """The job's page, read again (as its script does) until it shows `text`."""
    deadline = time.monotonic() + timeout
    while True:
        page = client.get(url)
        if text in page.text or time.monotonic() > deadline:
            return page
        time.sleep(0.05)


def campaign_with_answers(app, respondents: int = 60) -> str:
    with app.app_context():
        campaign = create_campaign(db.session, "barometre-2026", programme="Baromètre",
                                   year=2026, questionnaire_key="nf-relation-client",
                                   actor="test")  # fmt: skip
        if respondents:
            seed_synthetic_responses(db.session, campaign, rng_seed=3,
                                     n_respondents=respondents)  # fmt: skip
        db.session.commit()
        return campaign.slug


# --- the import ------------------------------------------------------------------------------



@contextmanager
def handled_by(kind: str, handler):
    """The job type `kind` run by `handler` for the time of a test."""
    kept = JOB_TYPES[kind]
    register_job_type(kind, handler, max_attempts=kept.max_attempts,
                      interrupted=kept.interrupted)
    try:
        yield
    finally:
        JOB_TYPES[kind] = kept


def in_a_worker(app) -> threading.Thread:
    """A worker thread running the queued jobs (as `barometre worker` does)."""
    thread = threading.Thread(target=wait_for_jobs, args=(app,), daemon=True)
    thread.start()
    return thread


def queued_import(app) -> int:
    """A queued customer import, as the customers page starts one; its id."""
    with app.app_context():
        job = queue_job(db.session, JobKind.CUSTOMER_IMPORT, actor="test", user_id=None)
        db.session.commit()
        return job.id

def test_an_import_shows_its_progress_while_it_runs_then_its_result(app, client) -> None:
    """The job waits on an event half-way, as a large file would keep it busy: its page shows
    the rows checked, follows the job, and a second import is refused meanwhile."""
    log_in(app, client, "manager")
    release = threading.Event()
    with app.app_context():
        job = queue_job(db.session, JobKind.CUSTOMER_IMPORT, actor="test", user_id=None,
                        exclusive=True, payload=GOOD, parameters={"_filename": "base.csv"})
        db.session.commit()
        job_id = job.id

    def slow_work(ctx):
        ctx.progress.stage("checking", 0, 1000)
        ctx.progress.advance(500)
        assert release.wait(20), "the test never released the job"
        return customer_import(ctx)

    url = f"/manage/jobs/{job_id}?lang=en"
    with handled_by(JobKind.CUSTOMER_IMPORT.value, slow_work):
        worker = in_a_worker(app)
        try:
            page = page_until(client, url, "500 of about 1,000 rows")
            assert page.status_code == 200
            assert "Checking the rows of the file: 500 of about 1,000 rows (50 %)." in page.text
            assert re.search(r'<progress id="job-progress"[^>]*max="1000" value="500"', page.text)
            assert '<div role="status">' in page.text
            # It follows the job by a script reading it again, never by reloading itself.
            assert 'data-job-running' in page.text and "/static/jobs/job.js" in page.text
            assert 'http-equiv="refresh"' not in page.text
            assert page.headers["Cache-Control"] == "no-store"
            # Meanwhile a second import is refused with a reason, and nothing else is queued.
            refused = post_file(client, GOOD)
            assert refused.status_code == 200
            assert "Another import is in progress" in refused.text
            assert f'href="/manage/jobs/{job_id}"' in refused.text  # "Follow its progress"
            with app.app_context():
                assert db.session.scalar(select(func.count()).select_from(Job)) == 1
        finally:
            release.set()
            worker.join(60)
    page = client.get(url)
    assert "Customers imported: 2 created, 0 updated." in page.text
    assert 'data-job-running' not in page.text
    assert 'href="/manage/campaigns"' in page.text  # what comes next: a campaign's sample
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 2
        done = db.session.get(Job, job_id)
        assert done.state == JobState.SUCCEEDED and done.finished_at is not None
        assert done.result["import_id"] is not None and done.result["rows_created"] == 2


def test_an_import_started_from_its_page_runs_in_the_background(app, client) -> None:
    log_in(app, client, "manager")
    posted = post_file(client, GOOD)
    assert posted.status_code == 303
    location = posted.headers["Location"]
    assert re.fullmatch(r"/manage/jobs/\d+", location)
    wait_for_jobs(app)
    page = client.get(location + "?lang=en")
    assert "Customers imported: 2 created, 0 updated." in page.text
    assert '<span class="kpi-value">2</span>' in page.text  # the counts of the file
    with app.app_context():
        job = db.session.scalars(select(Job)).one()
        assert (job.kind, job.state, job.stage) == ("customer_import", "succeeded", "writing")
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-3:] == ["job.start", "customers.import", "job.finish"]
        finish = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "job.finish")).one()  # fmt: skip
        assert finish.summary["state"] == "succeeded" and finish.summary["rows_total"] == 2
        trail = str([e.summary for e in db.session.scalars(select(AuditEvent))])
        assert "exemple.fr" not in trail and "base.csv" not in trail


def test_rejected_rows_are_listed_on_the_job_page_and_nothing_is_imported(app, client) -> None:
    log_in(app, client, "manager")
    data = csv_bytes([HEADER, ["C1", "jean.dupont@", "", "", "", ""],
                      ["C2", "b@exemple.fr", "", "", "", ""]])
    location = post_file(client, data).headers["Location"]
    wait_for_jobs(app)
    page = client.get(location + "?lang=en")
    assert "1 rows are rejected: nothing was imported." in page.text
    assert 'role="alert"' in page.text and "j***@" in page.text and "jean.dupont" not in page.text
    assert 'href="/manage/customers">Import a file again' in page.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_a_file_that_is_not_a_table_is_refused_at_once_without_a_job(app, client) -> None:
    log_in(app, client, "manager")
    page = post_file(client, b"\x00\x01binary")
    assert page.status_code == 200 and "binary data" in page.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_the_import_reports_rows_and_stages_as_it_goes(app) -> None:
    rows = [[f"C{i}", f"c{i}@exemple.fr", "", "", "", "pro"] for i in range(25_000)]
    counts, stages = [], []
    with app.app_context():
        report = import_customers(db.session, csv_bytes([HEADER, *rows]), "big.csv",
                                  actor="test", on_rows=counts.append,
                                  on_stage=stages.append)  # fmt: skip
        db.session.rollback()
    assert counts == [ROWS_PER_PROGRESS, 2 * ROWS_PER_PROGRESS]
    assert stages == ["checking", "comparing", "writing"] and report.rows_created == 25_000


# --- failures and interruptions --------------------------------------------------------------


def test_a_failing_job_is_shown_failed_with_its_message(app, client) -> None:
    """A campaign without answers cannot be reported: the job fails and says why."""
    slug = campaign_with_answers(app, respondents=0)
    log_in(app, client, "manager")
    location = client.post(f"/manage/campaigns/{slug}/reports",
                           data={"lang": "en"}).headers["Location"]  # fmt: skip
    wait_for_jobs(app)
    page = client.get(location + "?lang=en")
    assert "Failed" in page.text and 'role="alert"' in page.text
    assert "The work stopped with this error: campaign &#39;barometre-2026&#39;" in page.text
    assert "No report was stored." in page.text and 'data-job-running' not in page.text
    with app.app_context():
        job = db.session.scalars(select(Job)).one()
        assert job.state == JobState.FAILED and "barometre-2026" in job.error
        assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_an_unexpected_error_is_reported_without_its_internals(app, client) -> None:
    log_in(app, client, "manager")
    job_id = queued_import(app)

    def broken(ctx):
        raise KeyError("internal detail")

    with handled_by(JobKind.CUSTOMER_IMPORT.value, broken):
        wait_for_jobs(app)
    page = client.get(f"/manage/jobs/{job_id}?lang=en")
    assert "unexpected error (KeyError)" in page.text and "internal detail" not in page.text
    assert "Nothing was changed in the customer base." in page.text


def test_a_running_job_whose_heartbeat_stopped_is_shown_interrupted(app, client) -> None:
    """Its worker died on its last attempt: the page says failed and that nothing changed; a
    new import may start, and the dead job is closed as failed by the next worker."""
    log_in(app, client, "manager")
    with app.app_context():
        job = queue_job(db.session, JobKind.CUSTOMER_IMPORT, actor="test", user_id=None)
        job.state, job.started_at, job.stage, job.done, job.total = (
            "running", utcnow() - timedelta(minutes=10), "writing", 0, None)
        job.heartbeat_at = utcnow() - timedelta(minutes=9)
        job.attempts, job.claimed_by = job.max_attempts, "dead-worker"
        db.session.commit()
        dead = job.id
    page = client.get(f"/manage/jobs/{dead}?lang=en")
    assert "The import was interrupted before it finished" in page.text
    assert "Nothing was changed: start it again." in page.text
    assert 'data-job-running' not in page.text
    assert client.get("/manage/customers?lang=en").text.count("An import is in progress") == 0
    assert post_file(client, GOOD).status_code == 303
    wait_for_jobs(app)
    with app.app_context():
        closed = db.session.get(Job, dead)
        assert closed.state == JobState.FAILED and "interrupted" in closed.error
        assert closed.finished_at is not None


def test_a_job_whose_worker_died_is_taken_over_and_done_once(app, client) -> None:
    """A worker was killed in the middle of an import: its heartbeat stops, the page shows the
    job waiting again, and the next worker runs it from the start; the customers are written
    once."""
    log_in(app, client, "manager")
    location = post_file(client, GOOD).headers["Location"]
    job_id = int(location.rsplit("/", 1)[1])
    with app.app_context():
        job = db.session.get(Job, job_id)
        job.state, job.claimed_by, job.attempts, job.stage = "running", "killed", 1, "checking"
        job.heartbeat_at = utcnow() - timedelta(minutes=9)
        db.session.commit()
    page = client.get(location + "?lang=en")
    assert "data-job-running" in page.text and "interrupted" not in page.text
    assert wait_for_jobs(app) == 1
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.state, job.attempts, job.claimed_by) == ("succeeded", 2, None)
        assert job.payload is None  # the customer file is not kept once the job has ended
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 2
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions.count("job.requeue") == 1 and actions.count("customers.import") == 1


def test_a_running_job_with_a_recent_heartbeat_still_runs_and_blocks_a_second_import(
    app, client
) -> None:
    """Another worker runs it: its heartbeat is what counts."""
    log_in(app, client, "manager")
    with app.app_context():
        job = queue_job(db.session, JobKind.CUSTOMER_IMPORT, actor="test", user_id=None)
        job.state, job.stage, job.done, job.total = "running", "checking", 20_000, 80_000
        db.session.commit()
        job_id = job.id
    page = client.get(f"/manage/jobs/{job_id}?lang=en")
    assert "20,000 of about 80,000 rows (25 %)" in page.text
    refused = post_file(client, GOOD)
    assert "Another import is in progress" in refused.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 1


# --- reports ---------------------------------------------------------------------------------


def test_a_report_job_links_to_the_generated_report(app, client) -> None:
    slug = campaign_with_answers(app)
    log_in(app, client, "manager")
    posted = client.post(f"/manage/campaigns/{slug}/reports", data={"lang": "fr"})
    assert posted.status_code == 303
    wait_for_jobs(app)
    page = client.get(posted.headers["Location"] + "?lang=en")
    with app.app_context():
        report = db.session.scalars(select(Report)).one()
        job = db.session.scalars(select(Job)).one()
        assert job.campaign_id == report.campaign_id and job.result["report_id"] == report.id
        assert job.stage == "saving"
    link = f"/manage/campaigns/{slug}/reports/{report.id}"
    assert f'href="{link}">Read the report' in page.text
    assert client.get(link).status_code == 200
    # French too.
    assert "Lire le rapport" in client.get(posted.headers["Location"] + "?lang=fr").text


def test_a_report_goes_through_its_stages_in_order(app) -> None:
    slug = campaign_with_answers(app)
    stages: list[str] = []
    with app.app_context():
        from survey.campaigns.operations import get_campaign

        generate_report(db.session, get_campaign(db.session, slug), lang="en",
                        instance_path=app.instance_path, actor="test",
                        progress=stages.append)  # fmt: skip
        db.session.rollback()
    assert stages == list(REPORT_STAGES)


def test_a_running_report_shows_its_step(app, client) -> None:
    slug = campaign_with_answers(app, respondents=0)
    log_in(app, client, "auditor")
    with app.app_context():
        from survey.campaigns.operations import get_campaign

        job = queue_job(db.session, JobKind.REPORT, actor="test", user_id=None,
                        campaign_id=get_campaign(db.session, slug).id)  # fmt: skip
        job.state, job.stage = "running", "charts"
        db.session.commit()
        job_id = job.id
    page = client.get(f"/manage/jobs/{job_id}?lang=en")
    assert "Step 3 of 5: Drawing the charts." in page.text
    assert re.search(r'<progress id="job-progress"[^>]*max="5" value="2"', page.text)


# --- who may follow a job --------------------------------------------------------------------


def test_import_jobs_are_for_managers_and_report_jobs_for_readers(app, client) -> None:
    slug = campaign_with_answers(app, respondents=0)
    with app.app_context():
        from survey.campaigns.operations import get_campaign

        imported = queue_job(db.session, JobKind.CUSTOMER_IMPORT, actor="test", user_id=None)
        reported = queue_job(db.session, JobKind.REPORT, actor="test", user_id=None,
                             campaign_id=get_campaign(db.session, slug).id)  # fmt: skip
        db.session.commit()
        ids = imported.id, reported.id
    assert client.get(f"/manage/jobs/{ids[0]}").status_code == 302  # to the login page
    log_in(app, client, "auditor")
    assert client.get(f"/manage/jobs/{ids[0]}").status_code == 403
    assert client.get(f"/manage/jobs/{ids[1]}").status_code == 200
    assert client.get("/manage/jobs/999999").status_code == 404
    assert client.post(f"/manage/campaigns/{slug}/reports", data={"lang": "fr"}).status_code == 403


def test_a_running_job_page_works_without_script(app, client) -> None:
    log_in(app, client, "manager")
    job_id = queued_import(app)
    page = client.get(f"/manage/jobs/{job_id}?lang=en")
    assert 'http-equiv="refresh"' not in page.text
    assert f'href="/manage/jobs/{job_id}">Show the progress now' in page.text
