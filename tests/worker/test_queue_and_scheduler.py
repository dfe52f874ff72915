"""The job queue and the scheduler: claimed once, retried, taken over, scheduled once."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import AuditEvent, Campaign, CampaignStatus, Job, ScheduledTask, utcnow
from survey.worker import (
    JobContext,
    PeriodicTask,
    TransientJobError,
    UnknownJobType,
    enqueue,
    register_job_type,
    register_periodic_task,
    run_pending_jobs,
)
from survey.worker.queue import claim_job, recover_stale_jobs, run_claimed_job
from survey.worker.registry import JOB_TYPES
from survey.worker.scheduler import (
    PERIODIC_TASKS,
    ScheduleError,
    parse_interval,
    queue_due_tasks,
    schedule,
)
from tests.survey.factories import make_campaign

CALLS: list[tuple[str, dict]] = []


def record_call(ctx: JobContext) -> dict:
    """A job that writes an audit event (its own work) and says what it got."""
    from survey.audit import record_event

    CALLS.append((ctx.kind, dict(ctx.parameters)))
    record_event(ctx.session, "test.work", actor=ctx.actor, summary={"n": ctx.parameters["n"]})
    return {"n": ctx.parameters["n"], "attempt": ctx.attempt}


@pytest.fixture(autouse=True)
def test_types():
    kept_types, kept_tasks = dict(JOB_TYPES), dict(PERIODIC_TASKS)
    CALLS.clear()
    register_job_type("test_record", "tests.worker.test_queue_and_scheduler:record_call")
    yield
    JOB_TYPES.clear()
    JOB_TYPES.update(kept_types)
    PERIODIC_TASKS.clear()
    PERIODIC_TASKS.update(kept_tasks)


def queue(app, kind: str = "test_record", **parameters) -> int:
    with app.app_context():
        job = enqueue(db.session, kind, actor="test", parameters=parameters)
        db.session.commit()
        return job.id


def test_a_queued_job_runs_once_and_commits_its_work_with_its_end(app) -> None:
    job_id = queue(app, n=1)
    assert run_pending_jobs(app) == 1
    assert run_pending_jobs(app) == 0
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.state, job.result, job.attempts) == ("succeeded", {"n": 1, "attempt": 1}, 1)
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == ["job.start", "test.work", "job.finish"]
    assert CALLS == [("test_record", {"n": 1})]


def test_an_unknown_kind_cannot_be_queued(app) -> None:
    with app.app_context(), pytest.raises(UnknownJobType, match="no job type 'nothing'"):
        enqueue(db.session, "nothing", actor="test")


def test_a_job_is_claimed_by_one_worker_only(app) -> None:
    """Several workers claiming at once share the jobs without overlap (SKIP LOCKED on
    PostgreSQL, the write lock on SQLite)."""
    ids = [queue(app, n=n) for n in range(12)]
    claimed: dict[str, list[int]] = {}

    def worker(name: str) -> None:
        with app.app_context():
            mine = claimed.setdefault(name, [])
            while (job_id := claim_job(db.session, name)) is not None:
                mine.append(job_id)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    every = [job_id for mine in claimed.values() for job_id in mine]
    assert sorted(every) == ids


def test_a_transient_failure_is_retried_later_then_gives_up(app) -> None:
    attempts: list[int] = []

    def flaky(ctx: JobContext) -> dict:
        attempts.append(ctx.attempt)
        raise TransientJobError("the provider is down")

    register_job_type("test_flaky", flaky, max_attempts=2)
    job_id = queue(app, "test_flaky")
    assert run_pending_jobs(app) == 1
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.state == "queued" and "provider is down" in job.error
        assert job.run_after > utcnow()  # not before its backoff
    assert run_pending_jobs(app) == 0
    assert run_pending_jobs(app, now=utcnow() + timedelta(hours=1)) == 1
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.state == "failed" and job.attempts == 2
    assert attempts == [1, 2]


def test_a_value_error_fails_the_job_with_its_message_and_nothing_it_wrote(app) -> None:
    def refused(ctx: JobContext) -> None:
        from survey.audit import record_event

        record_event(ctx.session, "test.work", actor=ctx.actor)
        raise ValueError("the campaign has no answers")

    register_job_type("test_refused", refused)
    job_id = queue(app, "test_refused")
    run_pending_jobs(app)
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.state, job.error, job.attempts) == ("failed", "the campaign has no answers", 1)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "test.work")) == 0


def test_a_dead_workers_job_is_taken_over_and_its_late_end_discarded(app) -> None:
    """Worker A claims a job and stalls past `stale_after`; B takes it over and does it; A's
    end, when it comes, finds the job no longer its own and rolls its work back."""
    job_id = queue(app, n=7)
    with app.app_context():
        assert claim_job(db.session, "A") == job_id
        db.session.get(Job, job_id).heartbeat_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
        assert recover_stale_jobs(db.session, stale=timedelta(minutes=2)) == 1
        assert claim_job(db.session, "B") == job_id
        assert run_claimed_job(app, job_id, "A") == "lost"
        assert run_claimed_job(app, job_id, "B") == "succeeded"
        job = db.session.get(Job, job_id)
        assert (job.state, job.attempts, job.result["attempt"]) == ("succeeded", 2, 2)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "test.work")) == 1


def test_a_job_whose_attempts_are_spent_is_failed_as_interrupted(app) -> None:
    job_id = queue(app, n=1)
    with app.app_context():
        claim_job(db.session, "A")
        job = db.session.get(Job, job_id)
        job.attempts, job.heartbeat_at = job.max_attempts, utcnow() - timedelta(minutes=10)
        db.session.commit()
        recover_stale_jobs(db.session, stale=timedelta(minutes=2))
        job = db.session.get(Job, job_id)
        assert job.state == "failed" and "interrupted" in job.error
    assert CALLS == []


def test_a_restarted_worker_takes_back_its_own_job_at_once(app) -> None:
    job_id = queue(app, n=1)
    with app.app_context():
        claim_job(db.session, "host:1")
        assert recover_stale_jobs(db.session, stale=timedelta(minutes=2)) == 0
        assert recover_stale_jobs(db.session, stale=timedelta(minutes=2),
                                  own_worker_id="host:1") == 1
        assert db.session.get(Job, job_id).state == "queued"


# --- the scheduler ---------------------------------------------------------------------------


def tick(ctx: JobContext) -> dict:
    CALLS.append(("tick", {}))
    return {"ticked": True}


def test_a_periodic_task_is_queued_once_across_workers_per_interval(app) -> None:
    register_periodic_task(PeriodicTask("test_tick", "tests.worker.test_queue_and_scheduler:tick",
                                        every=timedelta(hours=1)))
    intervals = {"test_tick": timedelta(hours=1)}
    now = utcnow()
    queued: list[list[str]] = []

    def scheduler() -> None:
        with app.app_context():
            queued.append(queue_due_tasks(db.session, intervals, now=now))
            db.session.remove()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(sum(queued, [])) == ["test_tick"]
    with app.app_context():
        # The run not ended yet: the next tick, even after the interval, queues nothing.
        assert queue_due_tasks(db.session, intervals, now=now + timedelta(hours=2)) == []
    assert run_pending_jobs(app) == 1
    assert CALLS == [("tick", {})]
    with app.app_context():
        job = db.session.scalars(select(Job).where(Job.kind == "scheduled")).one()
        assert job.result == {"task": "test_tick", "ticked": True}
        assert queue_due_tasks(db.session, intervals, now=now + timedelta(minutes=30)) == []
        assert queue_due_tasks(db.session, intervals, now=now + timedelta(hours=1)) == [
            "test_tick"]
        row = db.session.get(ScheduledTask, "test_tick")
        assert row.next_run_at == now + timedelta(hours=2)


def test_intervals_come_from_the_settings() -> None:
    assert parse_interval("90", "X") == timedelta(seconds=90)
    assert parse_interval("15m", "X") == timedelta(minutes=15)
    assert parse_interval(" 1d ", "X") == timedelta(days=1)
    assert parse_interval("off", "X") is None
    with pytest.raises(ScheduleError, match="BAROMETRE_SCHEDULE_RETENTION_PURGE is wrong"):
        parse_interval("weekly", "BAROMETRE_SCHEDULE_RETENTION_PURGE")
    intervals = schedule({}, {"BAROMETRE_SCHEDULE_RETENTION_PURGE": "off",
                              "BAROMETRE_SCHEDULE_CLOSE_FIELDWORK": "5m"})
    assert "retention_purge" not in intervals
    assert intervals["close_fieldwork"] == timedelta(minutes=5)
    assert intervals["reminders"] == timedelta(minutes=1)
    assert schedule({"SCHEDULE_REMINDERS": "30s"}, {})["reminders"] == timedelta(seconds=30)


def test_fieldwork_is_closed_by_the_scheduler_after_its_end_date(app) -> None:
    with app.app_context():
        today = date.today()
        ended = make_campaign(status=CampaignStatus.OPEN, fieldwork_start=today - timedelta(30),
                              fieldwork_end=today - timedelta(2))
        running = make_campaign(status=CampaignStatus.OPEN, fieldwork_start=today,
                                fieldwork_end=today + timedelta(10))
        db.session.commit()
        ids = ended.id, running.id
        assert queue_due_tasks(db.session, {"close_fieldwork": timedelta(minutes=15)}) == [
            "close_fieldwork"]
    run_pending_jobs(app)
    with app.app_context():
        assert db.session.get(Campaign, ids[0]).status == "closed"
        assert db.session.get(Campaign, ids[1]).status == "open"
        close = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "campaign.close")).one()
        assert close.actor.startswith("job:")


def test_worker_once_on_the_command_line_runs_due_jobs(app, runner) -> None:
    queue(app, n=3)
    result = runner.invoke(["worker", "--once", "--no-send", "--no-schedule"])
    assert result.exit_code == 0, result.output
    assert "jobs run 1" in result.output
    everything = runner.invoke(["worker", "--once"])
    assert everything.exit_code == 0, everything.output
    # the core's four periodic tasks and the follow-up loop's two (digest, staff emails)
    assert "jobs run 6, messages sent 0" in everything.output


def test_a_wrong_schedule_setting_is_bad_input(app, runner, monkeypatch) -> None:
    monkeypatch.setenv("BAROMETRE_SCHEDULE_REMINDERS", "sometimes")
    result = runner.invoke(["worker", "--once", "--no-send"])
    assert result.exit_code == 2
    assert "BAROMETRE_SCHEDULE_REMINDERS is wrong" in result.output
