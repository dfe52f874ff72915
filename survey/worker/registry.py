"""What background work exists: job types and the context their handlers receive.

A job type names a handler, a function of a `JobContext`:

    from survey.worker import JobContext, register_job_type

    def build_pack(ctx: JobContext) -> dict:
        campaign = ctx.session.get(Campaign, ctx.campaign_id)
        ctx.progress.stage("packing")
        ...                       # write with ctx.session; do not commit the final writes
        return {"pack_id": pack.id}          # the job's result (what its page shows)

    register_job_type("audit_pack", "survey.auditpack.tasks:audit_pack", max_attempts=2)

and anything queues one with `survey.worker.enqueue(session, "audit_pack", ...)`. The worker
commits the handler's writes in the transaction that records the job's end, so that a job whose
worker dies before that commit changed nothing and runs again elsewhere: every job is done
exactly once. A handler may commit earlier (to end a long read), but what it commits before
its end must be safe to do twice.

A handler returns the job's result (a JSON-able dict, or None), or `(result, summary)` where
`summary` adds ids and counts (never personal data) to the audit event of its end. Raising a
`ValueError` fails the job with its message, shown to the person; `TransientJobError` (or a
lost database connection, or an `OSError`) queues it again after a backoff, up to the type's
`max_attempts`; anything else fails it as an unexpected error (details in the worker's log).

Registrations live in a `tasks.py` module of the package that owns the work: every
`survey.<package>.tasks` module is imported by `load_task_modules` (at application start), so a
new package needs no other change.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from survey.jobs.runner import Progress


class TransientJobError(RuntimeError):
    """A failure worth trying again later (a provider down, a lock): the job is re-queued."""


class UnknownJobType(LookupError):
    """No job type of this name is registered."""


@dataclass
class JobContext:
    """What a handler gets: its job's identity and inputs, a database session, its progress."""

    app: Flask
    session: Session
    job_id: int
    kind: str
    parameters: dict[str, Any]
    user_id: int | None
    campaign_id: int | None
    attempt: int  # 1 for the first run, 2 after a retry or a takeover...
    progress: Progress
    worker_id: str
    now: datetime
    _payload: Callable[[], bytes | None] = field(repr=False, default=lambda: None)

    @property
    def actor(self) -> str:
        """Who the audit trail names for what the job does."""
        return f"job:{self.job_id}"

    @property
    def payload(self) -> bytes | None:
        """The bytes queued with the job (an uploaded file), read on demand."""
        return self._payload()


Handler = Callable[[JobContext], Any]


def resolve(target: str | Callable[..., Any]) -> Callable[..., Any]:
    """A function from "package.module:function" (or the function itself)."""
    if callable(target):
        return target
    module_name, _, attribute = target.partition(":")
    if not attribute:
        raise ValueError(f"{target!r} is not of the form 'package.module:function'")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class JobType:
    name: str
    handler: str | Handler
    max_attempts: int = 3
    # Shown when the job is given up after its worker died `max_attempts` times.
    interrupted: str = "the job was interrupted (its worker stopped) too many times: start it again"

    def function(self) -> Handler:
        return resolve(self.handler)


JOB_TYPES: dict[str, JobType] = {}
_LOCK = threading.Lock()


def register_job_type(
    name: str,
    handler: str | Handler,
    *,
    max_attempts: int = 3,
    interrupted: str | None = None,
) -> JobType:
    """Declare a kind of job; registering the same name again replaces it (module reloads)."""
    if not name or len(name) > 50:
        raise ValueError(f"job type name {name!r} must have 1 to 50 characters")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    job_type = JobType(name, handler, max_attempts,
                       *(() if interrupted is None else (interrupted,)))
    with _LOCK:
        JOB_TYPES[name] = job_type
    return job_type


def job_type(name: str) -> JobType:
    load_task_modules()
    try:
        return JOB_TYPES[name]
    except KeyError:
        raise UnknownJobType(f"no job type {name!r} is registered") from None


_loaded = False


def load_task_modules() -> None:
    """Import every `survey.<package>.tasks` module once, so that its registrations run."""
    global _loaded
    if _loaded:
        return
    import survey

    with _LOCK:
        if _loaded:
            return
        names = sorted(
            info.name for info in pkgutil.iter_modules(survey.__path__) if info.ispkg
        )
    for package in names:
        spec = importlib.util.find_spec(f"survey.{package}.tasks")
        if spec is not None:
            importlib.import_module(f"survey.{package}.tasks")
    _loaded = True
