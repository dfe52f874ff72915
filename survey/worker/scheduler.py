"""Periodic tasks, run by the workers, each run once across all of them.

    from datetime import timedelta
    from survey.worker import JobContext, PeriodicTask, register_periodic_task

    def seal_audit(ctx: JobContext) -> dict:
        ...                                  # ctx.session, ctx.now, ctx.actor
        return {"sealed": count}

    register_periodic_task(PeriodicTask("audit_seal", "survey.audit.tasks:seal_audit",
                                        every=timedelta(hours=1)))

Put the registration in the owning package's `tasks.py` (imported at start, see
`survey.worker.registry`). A run is a job of kind `scheduled` (parameters `{"task": name}`):
it has the job's guarantees (exactly once, retried, taken over from a dead worker) and its
function receives the job's `JobContext`; like a job handler, it leaves its final writes to be
committed with the run's end.

Every worker's scheduler looks at the tasks every few seconds. A task's row in
`scheduled_task` says when it runs next; the worker whose conditional UPDATE moves
`next_run_at` forward (from a time already past) queues the run in the same transaction, so two
workers never both queue it. A task whose previous run has not ended is not queued again.

The interval of a task is set by `BAROMETRE_SCHEDULE_<NAME>` (name upper-cased): a number of
seconds, or `30s`, `15m`, `6h`, `1d`; `off` disables the task on that worker.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from survey.models import Job, JobKind, JobState, ScheduledTask, utcnow
from survey.worker.registry import JobContext, load_task_modules, register_job_type, resolve

log = logging.getLogger(__name__)


class ScheduleError(ValueError):
    """A `BAROMETRE_SCHEDULE_*` value cannot be read; the message names the variable."""


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    function: str | Callable[[JobContext], Any]
    every: timedelta
    # The environment variable of its interval, written in full where the task is registered
    # (docs/configuration.md is checked against the names the code holds); by default
    # BAROMETRE_SCHEDULE_<NAME>.
    variable: str | None = None

    @property
    def setting(self) -> str:
        return self.variable or "BAROMETRE_SCHEDULE_" + re.sub(r"[^A-Z0-9]+", "_",
                                                               self.name.upper())


PERIODIC_TASKS: dict[str, PeriodicTask] = {}
_LOCK = threading.Lock()


def register_periodic_task(task: PeriodicTask) -> PeriodicTask:
    """Declare a periodic task (again under the same name: replaced)."""
    if not task.name or len(task.name) > 100:
        raise ValueError(f"periodic task name {task.name!r} must have 1 to 100 characters")
    if task.every <= timedelta(0):
        raise ValueError(f"periodic task {task.name!r}: `every` must be positive")
    with _LOCK:
        PERIODIC_TASKS[task.name] = task
    return task


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(raw: str, setting: str) -> timedelta | None:
    """`off` → None; `90`, `30s`, `15m`, `6h`, `1d` → the interval."""
    value = raw.strip().lower()
    if value in {"off", "none", "0", "no", "false"}:
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd]?)", value)
    if not match or float(match.group(1)) <= 0:
        raise ScheduleError(
            f"{setting} is wrong: {raw!r} is neither `off` nor an interval such as "
            "`90`, `30s`, `15m`, `6h` or `1d`"
        )
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2) or "s"])


def schedule(config: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None) -> dict[str, timedelta]:
    """The enabled tasks and their intervals, settings applied (Flask config key
    `SCHEDULE_<NAME>` first, then the environment's `BAROMETRE_SCHEDULE_<NAME>`)."""
    load_task_modules()
    config = config or {}
    environ = os.environ if environ is None else environ
    intervals: dict[str, timedelta] = {}
    for task in PERIODIC_TASKS.values():
        raw = config.get(task.setting.removeprefix("BAROMETRE_"))
        if raw is None:
            raw = environ.get(task.setting)
        if raw is None or str(raw).strip() == "":
            intervals[task.name] = task.every
            continue
        if isinstance(raw, timedelta):
            intervals[task.name] = raw
            continue
        interval = parse_interval(str(raw), task.setting)
        if interval is not None:
            intervals[task.name] = interval
    return intervals


def queue_due_tasks(session: Session, intervals: Mapping[str, timedelta], *,
                    now: datetime | None = None, actor: str = "scheduler") -> list[str]:
    """Queue a run of each task that is due, once across all workers; the names queued."""
    from survey.worker.queue import enqueue

    now = now or utcnow()
    queued = []
    for name, every in intervals.items():
        row = session.get(ScheduledTask, name)
        if row is None:
            _create_row(session, name, now)
            row = session.get(ScheduledTask, name)
        if row is None or row.next_run_at > now:
            session.commit()
            continue
        if row.last_job_id is not None and session.scalar(
            select(Job.id).where(Job.id == row.last_job_id,
                                 Job.state.in_((JobState.QUEUED.value, JobState.RUNNING.value)))
        ) is not None:
            session.commit()
            continue  # the previous run has not ended: never two at once
        moved = session.execute(
            update(ScheduledTask)
            .where(ScheduledTask.name == name, ScheduledTask.next_run_at <= now)
            .values(next_run_at=now + every, last_run_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:  # another worker queued it first
            session.rollback()
            continue
        job = enqueue(session, JobKind.SCHEDULED.value, actor=actor,
                      parameters={"task": name})
        job_id = job.id
        session.execute(update(ScheduledTask).where(ScheduledTask.name == name)
                        .values(last_job_id=job_id)
                        .execution_options(synchronize_session=False))
        session.commit()
        queued.append(name)
        log.info("periodic task %s queued as job %s", name, job_id)
    session.commit()  # nothing left open (on SQLite a transaction holds the write lock)
    return queued


def _create_row(session: Session, name: str, now: datetime) -> None:
    """The task's row, due now; a row another worker created at the same time is kept."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(ScheduledTask).values(name=name, next_run_at=now)
                    .on_conflict_do_nothing(index_elements=[ScheduledTask.name]))
    session.flush()


def run_periodic_task(ctx: JobContext) -> Any:
    """The handler of `scheduled` jobs: the task's own function."""
    load_task_modules()
    name = ctx.parameters.get("task")
    task = PERIODIC_TASKS.get(str(name))
    if task is None:
        raise LookupError(f"no periodic task {name!r} is registered")
    outcome = resolve(task.function)(ctx)
    result, summary = outcome if isinstance(outcome, tuple) else (outcome, None)
    return {"task": name, **(result or {})}, {"task": name, **(summary or {})}


register_job_type(JobKind.SCHEDULED.value, run_periodic_task, max_attempts=3)
