"""The job queue in the database: queueing, claiming, running, and taking over dead workers' jobs.

One table (`job`) holds all background work. A worker claims the oldest queued job whose
`run_after` has come, in a transaction of its own (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
that workers never take the same row; on SQLite every transaction begins IMMEDIATE, which
serialises claims). While the handler runs, a ticker thread commits its progress and heartbeat.
The handler's writes and the job's end are committed together, and only while the job is still
claimed by this worker: a job taken over by another worker (its heartbeat looked dead) has the
first run's writes rolled back. A running job whose heartbeat is older than `stale_after` is
queued again for any worker (`recover_stale_jobs`), or failed after `max_attempts` runs.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.clients.scope import client_scope
from survey.extensions import db
from survey.jobs.runner import PROGRESS_INTERVAL, Progress, _Ticker
from survey.models import Job, JobState, utcnow
from survey.worker.registry import JobContext, TransientJobError, job_type

log = logging.getLogger(__name__)

#: A running job whose heartbeat is older than this belongs to a dead worker.
STALE_AFTER = timedelta(minutes=2)
#: Retry delays: base × 2^(attempt-1), capped, with jitter.
BACKOFF_BASE = 10.0
BACKOFF_MAX = 600.0


def stale_after(app: Flask) -> timedelta:
    seconds = app.config.get("JOBS_STALE_AFTER_SECONDS")
    return timedelta(seconds=float(seconds)) if seconds else STALE_AFTER


def enqueue(
    session: Session,
    kind: str,
    *,
    actor: str,
    user_id: int | None = None,
    campaign_id: int | None = None,
    parameters: dict[str, Any] | None = None,
    payload: bytes | None = None,
    run_after: datetime | None = None,
    max_attempts: int | None = None,
) -> Job:
    """Queue a job of a registered kind; the caller commits (a worker then runs it).

    Parameters whose name begins with `_` (a file's name, who asked) are for the handler only:
    they stay out of the audit trail.

    Raises `survey.worker.UnknownJobType` for a kind nobody registered.
    """
    declared = job_type(kind)
    now = utcnow()
    job = Job(
        kind=kind, campaign_id=campaign_id, user_id=user_id, state=JobState.QUEUED.value,
        parameters=dict(parameters or {}), payload=payload, heartbeat_at=now,
        run_after=run_after or now, attempts=0,
        max_attempts=max_attempts or declared.max_attempts,
    )  # fmt: skip
    session.add(job)
    session.flush()
    record_event(
        session, "job.start", actor=actor, actor_id=user_id, object_type="job",
        object_id=job.id, campaign_id=campaign_id, client_id=job.client_id,
        summary={"kind": kind, "parameters": {key: value for key, value in job.parameters.items()
                                              if not key.startswith("_")}},
    )  # fmt: skip
    return job


def claim_job(session: Session, worker_id: str, *, now: datetime | None = None) -> int | None:
    """Take the next due job for `worker_id` and commit the claim; its id, or None."""
    now = now or utcnow()
    due = (
        select(Job.id)
        .where(Job.state == JobState.QUEUED.value, Job.run_after <= now)
        .order_by(Job.run_after, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    job_id = session.scalar(due)
    if job_id is None:
        session.commit()
        return None
    session.execute(
        update(Job).where(Job.id == job_id)
        .values(state=JobState.RUNNING.value, claimed_by=worker_id, attempts=Job.attempts + 1,
                heartbeat_at=now, started_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    session.commit()
    return job_id


def recover_stale_jobs(
    session: Session, *, stale: timedelta, now: datetime | None = None,
    own_worker_id: str | None = None,
) -> int:
    """Queue again (or fail, after `max_attempts`) the running jobs of dead workers; how many.

    `own_worker_id`: a worker starting under a name takes back at once what it held before it
    died (its previous run cannot still be running).
    """
    now = now or utcnow()
    cutoff = now - stale
    dead = Job.heartbeat_at < cutoff
    if own_worker_id is not None:
        dead = or_(dead, Job.claimed_by == own_worker_id)
    rows = session.execute(
        select(Job.id, Job.kind, Job.attempts, Job.max_attempts, Job.campaign_id, Job.claimed_by)
        .where(Job.state == JobState.RUNNING.value, dead)
        .with_for_update(skip_locked=True)
    ).all()
    for job_id, kind, attempts, max_attempts, campaign_id, claimed_by in rows:
        if attempts >= max_attempts:
            try:
                message = job_type(kind).interrupted
            except LookupError:
                message = "the job was interrupted and its kind is no longer known"
            values: dict[str, Any] = {"state": JobState.FAILED.value, "error": message,
                                          "finished_at": now, "payload": None}
            action, summary = "job.finish", {"kind": kind, "state": "failed",
                                             "interrupted": True}
        else:
            values = {"state": JobState.QUEUED.value, "run_after": now, "stage": None}
            action, summary = "job.requeue", {"kind": kind, "attempts": attempts,
                                              "worker": claimed_by}
        session.execute(
            update(Job).where(Job.id == job_id, Job.state == JobState.RUNNING.value)
            .values(claimed_by=None, heartbeat_at=now, **values)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        record_event(session, action, actor="system", object_type="job", object_id=job_id,
                     campaign_id=campaign_id, summary=summary)  # fmt: skip
        log.warning("job %s (%s) of a stopped worker: %s", job_id, kind,
                    "failed" if action == "job.finish" else "queued again")
    session.commit()
    return len(rows)


def backoff(attempt: int) -> float:
    delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempt - 1))
    return random.uniform(delay / 2, delay)


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, TransientJobError | OSError):
        return True
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def run_claimed_job(app: Flask, job_id: int, worker_id: str,
                    interval: float | None = None) -> str:
    """Run a job this worker claimed, to its end; the state it ended in (or 'lost').

    Call within an application context; uses `db.session`.
    """
    session = db.session
    job = session.get(Job, job_id)
    if job is None or job.state != JobState.RUNNING.value or job.claimed_by != worker_id:
        session.rollback()
        return "lost"
    kind, parameters = job.kind, dict(job.parameters or {})
    user_id, campaign_id, attempt = job.user_id, job.campaign_id, job.attempts
    max_attempts, client_id = job.max_attempts, job.client_id
    session.rollback()  # no transaction held while the handler starts

    def payload() -> bytes | None:
        return session.scalar(select(Job.payload).where(Job.id == job_id))

    progress = Progress()
    interval = float(app.config.get("JOBS_PROGRESS_INTERVAL", PROGRESS_INTERVAL)) \
        if interval is None else interval
    ticker = _Ticker(app, job_id, progress, interval, worker_id=worker_id)
    ticker.start()
    context = JobContext(
        app=app, session=session, job_id=job_id, kind=kind, parameters=parameters,
        user_id=user_id, campaign_id=campaign_id, attempt=attempt, progress=progress,
        worker_id=worker_id, now=utcnow(), _payload=payload,
    )  # fmt: skip
    try:
        handler = job_type(kind).function()
        # The job's client's data only (none: the installation's work, unscoped).
        with client_scope(client_id):
            outcome = handler(context)
    except Exception as error:  # noqa: BLE001 - every failure ends or delays the job
        session.rollback()
        ticker.stop()
        if _is_transient(error) and attempt < max_attempts:
            log.warning("job %s (%s): transient failure, retried later: %s", job_id, kind,
                        error)
            return _retry(session, job_id, worker_id, f"{type(error).__name__}: {error}",
                          backoff(attempt))
        failure: dict[str, Any] | None = None
        if isinstance(error, ValueError | LookupError) and not isinstance(error, KeyError):
            message = str(error)
            if isinstance(getattr(error, "reason", None), str) and isinstance(
                    getattr(error, "params", None), dict):
                # A service's reason code and its values: the job's page says it in the
                # reader's language (`survey.jobs.views.REASONS`), the message is the log's.
                failure = {"reason": error.reason,
                           "reason_params": {key: str(value) for key, value
                                             in dict(getattr(error, "params", {})).items()}}
        else:
            log.exception("job %s (%s) failed", job_id, kind)
            message = f"unexpected error ({type(error).__name__}); the worker's log has details"
        return _end(session, job_id, worker_id, error=message, result=failure,
                    stage=progress.snapshot[0])
    # Not joined yet: on SQLite the ticker may be waiting for the write lock that the
    # handler's pending writes hold until `_end` commits them (its late write then changes
    # nothing: the job is no longer running).
    ticker.stop(wait=False)
    result, summary = (outcome if isinstance(outcome, tuple) else (outcome, None))
    try:
        return _end(session, job_id, worker_id, result=result, summary=summary,
                    stage=progress.snapshot[0])
    finally:
        ticker.join()


def _end(session: Session, job_id: int, worker_id: str, *, result: dict | None = None,
         summary: dict | None = None, error: str | None = None, stage: str | None) -> str:
    """Record the job's end with the handler's pending writes, if it is still ours."""
    now = utcnow()
    state = JobState.FAILED if error is not None else JobState.SUCCEEDED
    try:
        values: dict[str, Any] = {"state": state.value, "result": result, "error": error,
                                      "finished_at": now, "heartbeat_at": now, "payload": None,
                                      "claimed_by": None}
        if stage is not None:
            values["stage"] = stage
        mine = session.execute(
            update(Job).where(Job.id == job_id, Job.state == JobState.RUNNING.value,
                              Job.claimed_by == worker_id)
            .values(**values).execution_options(synchronize_session=False)
        ).rowcount  # fmt: skip
        if not mine:
            # Taken over while it ran: the other worker's run counts, this one's writes go.
            session.rollback()
            log.warning("job %s was taken over by another worker: its run here is discarded",
                        job_id)
            return "lost"
        if state is JobState.SUCCEEDED:
            # A job that ends well did all it counted towards (an unknown total stays null).
            session.execute(update(Job).where(Job.id == job_id, Job.total.is_not(None))
                            .values(done=Job.total).execution_options(synchronize_session=False))
        kind = session.scalar(select(Job.kind).where(Job.id == job_id))
        row = session.execute(select(Job.user_id, Job.campaign_id)
                              .where(Job.id == job_id)).one()
        record_event(
            session, "job.finish", actor=f"job:{job_id}", actor_id=row.user_id,
            object_type="job", object_id=job_id, campaign_id=row.campaign_id,
            summary={"kind": kind, "state": state.value, **(summary or {})},
        )  # fmt: skip
        session.commit()
    except SQLAlchemyError:
        # The heartbeat stops: another worker will take the job over and run it again.
        session.rollback()
        log.exception("job %s: its end could not be recorded", job_id)
        return "lost"
    return state.value


def _retry(session: Session, job_id: int, worker_id: str, error: str, delay: float) -> str:
    now = utcnow()
    try:
        session.execute(
            update(Job).where(Job.id == job_id, Job.claimed_by == worker_id,
                              Job.state == JobState.RUNNING.value)
            .values(state=JobState.QUEUED.value, claimed_by=None, error=error[:2000],
                    run_after=now + timedelta(seconds=delay), heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.exception("job %s: its retry could not be recorded", job_id)
        return "lost"
    return JobState.QUEUED.value


def run_pending_jobs(app: Flask, *, worker_id: str = "inline", limit: int | None = None,
                     now: datetime | None = None) -> int:
    """Run every due job in this thread until none is left (tests, `barometre worker --once`);
    how many ran."""
    ran = 0
    with app.app_context():
        try:
            while limit is None or ran < limit:
                recover_stale_jobs(db.session, stale=stale_after(app), now=now)
                job_id = claim_job(db.session, worker_id, now=now)
                if job_id is None:
                    break
                run_claimed_job(app, job_id, worker_id)
                ran += 1
        finally:
            db.session.remove()
    return ran
