"""Jobs: queueing a long operation, following its progress, and telling how it ended.

A job's stored `state` is what its thread last wrote. Whether it still runs is decided in one
place, `job_state`: a queued or running job whose heartbeat is older than `stale_after` belongs
to a process that died (a crash, a kill, a restart) and is failed. Nothing was half done: an
import writes in one transaction, a report stores its row and file at the very end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.models import Job, JobKind, JobState, utcnow

#: A job is interrupted when its heartbeat is older than this (its thread beats every few
#: seconds; SQLite's single write lock can hold a beat back while an import writes).
STALE_AFTER = timedelta(minutes=2)

ACTIVE = (JobState.QUEUED.value, JobState.RUNNING.value)
FINISHED = (JobState.SUCCEEDED.value, JobState.FAILED.value)

#: The error of a job found interrupted, by kind: what the person needs to know next.
INTERRUPTED = {
    JobKind.CUSTOMER_IMPORT.value: "the import was interrupted before it finished (the server "
    "stopped); nothing was changed: start it again",
    JobKind.REPORT.value: "the report was interrupted before it finished (the server stopped); "
    "no report was stored: generate it again",
}


class JobError(ValueError):
    """A job cannot be started (another one holds what it needs); the message says why."""


@dataclass(frozen=True)
class JobStatus:
    """How a job stands now, as its page shows it."""

    state: JobState
    interrupted: bool  # failed because its process died, not because of its work

    @property
    def finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)


def job_state(
    job: Job,
    *,
    now: datetime | None = None,
    stale_after: timedelta = STALE_AFTER,
    running_here: bool = False,
) -> JobStatus:
    """The job's state, with a stale heartbeat read as failure.

    `running_here` says this process holds the job in its pool: then it is alive whatever its
    heartbeat (SQLite's write lock may have held the beats back).
    """
    stored = JobState(job.state)
    if stored.value in FINISHED or running_here:
        return JobStatus(stored, interrupted=False)
    if job.heartbeat_at < (now or utcnow()) - stale_after:
        return JobStatus(JobState.FAILED, interrupted=True)
    return JobStatus(stored, interrupted=False)


def queue_job(
    session: Session,
    kind: JobKind,
    *,
    actor: str,
    user_id: int | None,
    campaign_id: int | None = None,
    parameters: dict[str, Any] | None = None,
    exclusive: bool = False,
    is_running_here: Callable[[int], bool] = lambda job_id: False,
    stale_after: timedelta = STALE_AFTER,
) -> Job:
    """Add a queued job and record its start; the caller commits, then submits it to a runner.

    `exclusive`: refuse (`JobError`) while another job of this kind is queued or running, so
    that two imports never check the base against each other. Stale jobs found on the way are
    closed as failed, so that the table says what the pages show.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Starters queue here, so that two requests never both see "no import running".
        # (SQLite: every transaction takes the write lock first.)
        session.execute(text("SELECT pg_advisory_xact_lock(7264)"))
    active = session.scalars(select(Job).where(Job.state.in_(ACTIVE)).order_by(Job.id)).all()
    now = utcnow()
    for other in active:
        status = job_state(other, now=now, stale_after=stale_after,
                           running_here=is_running_here(other.id))  # fmt: skip
        if status.interrupted:
            close_interrupted_job(session, other, now=now)
        elif exclusive and other.kind == kind.value:
            raise JobError(
                f"job {other.id} ({kind.value.replace('_', ' ')}) is already "
                f"{other.state}: wait for it to finish before starting another"
            )
    job = Job(
        kind=kind.value, campaign_id=campaign_id, user_id=user_id,
        state=JobState.QUEUED.value, parameters=dict(parameters or {}), heartbeat_at=now,
    )  # fmt: skip
    session.add(job)
    session.flush()
    record_event(
        session, "job.start", actor=actor, actor_id=user_id, object_type="job",
        object_id=job.id, campaign_id=campaign_id,
        summary={"kind": kind.value, "parameters": job.parameters},
    )  # fmt: skip
    return job


def close_interrupted_job(session: Session, job: Job, *, now: datetime | None = None) -> None:
    """Record that a job's process died: failed, with the message for its kind."""
    now = now or utcnow()
    job.state = JobState.FAILED.value
    job.error = INTERRUPTED[job.kind]
    job.finished_at = now
    record_event(
        session, "job.finish", actor="system", object_type="job", object_id=job.id,
        campaign_id=job.campaign_id,
        summary={"kind": job.kind, "state": JobState.FAILED.value, "interrupted": True},
    )  # fmt: skip


def mark_running(session: Session, job_id: int) -> Job:
    """The job's thread took it: running from now. Raises `JobError` unless it is queued."""
    job = session.get(Job, job_id)
    if job is None or job.state != JobState.QUEUED.value:
        raise JobError(f"job {job_id} is not queued: it cannot be started")
    now = utcnow()
    job.state = JobState.RUNNING.value
    job.started_at = now
    job.heartbeat_at = now
    return job


def finish_job(
    session: Session,
    job_id: int,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    summary: dict[str, Any] | None = None,
    stage: str | None = None,
) -> Job:
    """Record the end of a job: succeeded with `result`, or failed with `error`; `stage` is
    the last one it reached (on failure: where it failed).

    `summary` adds to the audit event what the result says without personal data (ids,
    counts); the result itself may hold masked rejects, which stay out of the trail.
    """
    job = session.get(Job, job_id)
    if job is None:
        raise JobError(f"job {job_id} does not exist")
    now = utcnow()
    state = JobState.FAILED if error is not None else JobState.SUCCEEDED
    job.state = state.value
    job.result = result
    job.error = error
    job.finished_at = now
    job.heartbeat_at = now
    if stage is not None:
        job.stage = stage
    if state is JobState.SUCCEEDED and job.total is not None:
        job.done = job.total
    record_event(
        session, "job.finish", actor=f"job:{job.id}", actor_id=job.user_id, object_type="job",
        object_id=job.id, campaign_id=job.campaign_id,
        summary={"kind": job.kind, "state": state.value, **(summary or {})},
    )  # fmt: skip
    return job


def write_progress(
    engine: Engine, job_id: int, stage: str | None, done: int, total: int | None
) -> None:
    """Commit a running job's progress and heartbeat, in a short transaction of its own."""
    with engine.begin() as connection:
        connection.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.RUNNING.value)
            .values(stage=stage, done=done, total=total, heartbeat_at=utcnow())
        )


def active_jobs(
    session: Session,
    kind: JobKind,
    *,
    campaign_id: int | None = None,
    is_running_here: Callable[[int], bool] = lambda job_id: False,
    stale_after: timedelta = STALE_AFTER,
) -> list[Job]:
    """Queued or running jobs of `kind` (of a campaign when given) that are still alive."""
    query = select(Job).where(Job.kind == kind.value, Job.state.in_(ACTIVE))
    if campaign_id is not None:
        query = query.where(Job.campaign_id == campaign_id)
    now = utcnow()
    return [
        job for job in session.scalars(query.order_by(Job.id))
        if not job_state(job, now=now, stale_after=stale_after,
                         running_here=is_running_here(job.id)).interrupted
    ]  # fmt: skip
