"""Background work on any number of machines: the job queue, the worker process, the scheduler.

The public API, for packages that add background work:

- `register_job_type(name, "package.module:function", max_attempts=3)`, then
  `enqueue(session, name, actor=..., parameters={...})` (the caller commits);
- `register_periodic_task(PeriodicTask(name, "package.module:function", every=timedelta(...)))`,
  overridable with `BAROMETRE_SCHEDULE_<NAME>`;
- handlers and periodic functions receive a `JobContext`; `TransientJobError` asks for a retry.

Put registrations in the package's `tasks.py`: every `survey.<package>.tasks` is imported at
start. `barometre worker` runs them (`survey.worker.process`).
"""

from survey.worker.queue import enqueue, run_pending_jobs
from survey.worker.registry import (
    JobContext,
    JobType,
    TransientJobError,
    UnknownJobType,
    register_job_type,
)
from survey.worker.scheduler import PeriodicTask, register_periodic_task

__all__ = [
    "JobContext",
    "JobType",
    "PeriodicTask",
    "TransientJobError",
    "UnknownJobType",
    "enqueue",
    "register_job_type",
    "register_periodic_task",
    "run_pending_jobs",
]
