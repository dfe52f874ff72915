"""Jobs: queueing a long operation, following its progress, and telling how it ended.

Jobs are run by `barometre worker` processes (`survey.worker`), never by the web process. A
job's stored `state` is what its worker last wrote. What its page shows is decided in one
place, `job_state`: a running job whose heartbeat is older than `stale_after` belongs to a
worker that died; another worker takes it over (it shows as waiting again) until it has used
its attempts, then it is failed as interrupted. Nothing was half done: an import writes in one
transaction, a report stores its row and file with the job's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.models import Job, JobKind, JobState, utcnow
from survey.worker.queue import STALE_AFTER, enqueue

ACTIVE = (JobState.QUEUED.value, JobState.RUNNING.value)
FINISHED = (JobState.SUCCEEDED.value, JobState.FAILED.value)


class JobError(ValueError):
    """A job cannot be started (another one holds what it needs); the message says why."""


@dataclass(frozen=True)
class JobStatus:
    """How a job stands now, as its page shows it."""

    state: JobState
    interrupted: bool  # failed because its worker died too often, not because of its work

    @property
    def finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)


def job_state(
    job: Job,
    *,
    now: datetime | None = None,
    stale_after: timedelta = STALE_AFTER,
) -> JobStatus:
    """The job's state, with a stale heartbeat read as a takeover to come (waiting) or, once
    its attempts are spent, as an interruption (failed)."""
    stored = JobState(job.state)
    if stored.value in FINISHED or stored is JobState.QUEUED:
        return JobStatus(stored, interrupted=False)
    if job.heartbeat_at < (now or utcnow()) - stale_after:
        if job.attempts < job.max_attempts:
            return JobStatus(JobState.QUEUED, interrupted=False)
        return JobStatus(JobState.FAILED, interrupted=True)
    return JobStatus(stored, interrupted=False)


def queue_job(
    session: Session,
    kind: JobKind | str,
    *,
    actor: str,
    user_id: int | None,
    campaign_id: int | None = None,
    parameters: dict[str, Any] | None = None,
    payload: bytes | None = None,
    exclusive: bool = False,
    stale_after: timedelta = STALE_AFTER,
) -> Job:
    """Add a queued job and record its start; the caller commits, then a worker runs it.

    `exclusive`: refuse (`JobError`) while another job of this kind is queued or running, so
    that two imports never check the base against each other.
    """
    kind = JobKind(kind).value if isinstance(kind, JobKind) else kind
    if session.get_bind().dialect.name == "postgresql":
        # Starters queue here, so that two requests never both see "no import running".
        # (SQLite: every transaction takes the write lock first.)
        session.execute(text("SELECT pg_advisory_xact_lock(7264)"))
    if exclusive:
        for other in active_jobs(session, kind, stale_after=stale_after):
            raise JobError(
                f"job {other.id} ({kind.replace('_', ' ')}) is already "
                f"{other.state}: wait for it to finish before starting another"
            )
    return enqueue(session, kind, actor=actor, user_id=user_id, campaign_id=campaign_id,
                   parameters=parameters, payload=payload)


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
    engine: Engine, job_id: int, stage: str | None, done: int, total: int | None,
    *, worker_id: str | None = None,
) -> None:
    """Commit a running job's progress and heartbeat, in a short transaction of its own (only
    while `worker_id`, when given, still holds the job)."""
    condition = [Job.id == job_id, Job.state == JobState.RUNNING.value]
    if worker_id is not None:
        condition.append(Job.claimed_by == worker_id)
    with engine.begin() as connection:
        connection.execute(
            update(Job)
            .where(*condition)
            .values(stage=stage, done=done, total=total, heartbeat_at=utcnow())
        )


def active_jobs(
    session: Session,
    kind: JobKind | str,
    *,
    campaign_id: int | None = None,
    stale_after: timedelta = STALE_AFTER,
) -> list[Job]:
    """Queued or running jobs of `kind` (of a campaign when given) not given up for dead."""
    kind = JobKind(kind).value if isinstance(kind, JobKind) else kind
    query = select(Job).where(Job.kind == kind, Job.state.in_(ACTIVE))
    if campaign_id is not None:
        query = query.where(Job.campaign_id == campaign_id)
    now = utcnow()
    return [
        job for job in session.scalars(query.order_by(Job.id))
        if not job_state(job, now=now, stale_after=stale_after).interrupted
    ]  # fmt: skip
