"""Running jobs in threads of the web process, started on demand.

Each application has one `JobRunner` (`runner_for`), whose thread pool is created by the first
job. A job's thread opens its own application context, hence its own database session, and
runs the task's work function. The work reports progress to a `Progress` object in memory
(an attribute assignment: free for the import's loop); a ticker thread commits it, with the
heartbeat, in short transactions of its own every `PROGRESS_INTERVAL` seconds, so the job's page
can read it. On SQLite the ticker waits while the work holds the single write lock (an import's
final transaction): the progress then shows the stage that began it.

The command line does not use this: `barometre customers import` and `barometre report` run
in the foreground.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from survey.extensions import db
from survey.jobs.operations import STALE_AFTER, JobError, finish_job, mark_running, write_progress

log = logging.getLogger(__name__)

#: Threads per web process: jobs are few (one import at a time, the odd report).
MAX_WORKERS = 2
#: Seconds between two commits of a job's progress; a heartbeat is written at least as often.
PROGRESS_INTERVAL = 1.0

#: What a task gives the runner: a function of the job's session and progress, returning the
#: job's result (what its page shows) and the audit summary of its end (ids and counts, no
#: personal data). It commits its own data; raising fails the job, and a ValueError's message
#: (our services' way of saying what is wrong) is shown to the person.
Work = Callable[[Session, "Progress"], tuple[dict[str, Any], dict[str, Any]]]


class Progress:
    """A running job's stage and counts, set by its work and read by its ticker."""

    def __init__(self) -> None:
        # One tuple, replaced whole: the ticker never reads a stage with another stage's counts.
        self.snapshot: tuple[str | None, int, int | None] = (None, 0, None)
        self.changed = threading.Event()

    def stage(self, name: str, done: int = 0, total: int | None = None) -> None:
        """A stage begins; written at once rather than at the next tick."""
        self.snapshot = (name, done, total)
        self.changed.set()

    def advance(self, done: int) -> None:
        """Items done so far in this stage; a total that proves too small grows with it."""
        stage, _, total = self.snapshot
        self.snapshot = (stage, done, None if total is None else max(total, done))


class _Ticker(threading.Thread):
    def __init__(self, app: Flask, job_id: int, progress: Progress, interval: float) -> None:
        super().__init__(name=f"barometre-job-{job_id}-ticker", daemon=True)
        self.app, self.job_id, self.progress, self.interval = app, job_id, progress, interval
        self.stopping = threading.Event()

    def run(self) -> None:
        with self.app.app_context():
            engine = db.engine
        while not self.stopping.is_set():
            self.progress.changed.wait(self.interval)
            self.progress.changed.clear()
            if self.stopping.is_set():
                break
            try:
                write_progress(engine, self.job_id, *self.progress.snapshot)
            except SQLAlchemyError:  # a locked SQLite database: the next tick tries again
                log.warning("job %s: progress not written", self.job_id, exc_info=True)

    def stop(self) -> None:
        self.stopping.set()
        self.progress.changed.set()
        self.join()


def run_job(app: Flask, job_id: int, work: Work, interval: float = PROGRESS_INTERVAL) -> None:
    """Run one job to its end in this thread: running, the work, then succeeded or failed."""
    with app.app_context():
        session = db.session
        try:
            mark_running(session, job_id)
            session.commit()
        except (JobError, SQLAlchemyError):
            session.rollback()
            log.exception("job %s could not be started", job_id)
            db.session.remove()
            return
        progress = Progress()
        ticker = _Ticker(app, job_id, progress, interval)
        ticker.start()
        try:
            result, summary = work(session, progress)
        except Exception as error:  # noqa: BLE001 - every failure ends the job, with its reason
            session.rollback()
            ticker.stop()
            if isinstance(error, ValueError):
                message = str(error)
            else:
                log.exception("job %s failed", job_id)
                message = f"unexpected error ({type(error).__name__}); the server log has details"
            _finish(session, job_id, error=message, stage=progress.snapshot[0])
        else:
            # The work committed its data; a transaction it began afterwards (an expired
            # attribute read) only read, and on SQLite it would hold the write lock that the
            # ticker needs to write its last progress and stop.
            session.rollback()
            ticker.stop()
            _finish(session, job_id, result=result, summary=summary, stage=progress.snapshot[0])
        finally:
            db.session.remove()


def _finish(session: Session, job_id: int, **outcome: Any) -> None:
    try:
        finish_job(session, job_id, **outcome)
        session.commit()
    except SQLAlchemyError:
        # The heartbeat stops: the job's page will show it as interrupted.
        session.rollback()
        log.exception("job %s: its end could not be recorded", job_id)


class JobRunner:
    """The thread pool of one application, and the jobs it holds."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.max_workers = int(app.config.get("JOBS_MAX_WORKERS", MAX_WORKERS))
        self.interval = float(app.config.get("JOBS_PROGRESS_INTERVAL", PROGRESS_INTERVAL))
        self.stale_after = timedelta(
            seconds=float(app.config.get("JOBS_STALE_AFTER_SECONDS",
                                         STALE_AFTER.total_seconds()))
        )  # fmt: skip
        self._executor: ThreadPoolExecutor | None = None
        self._futures: dict[int, Future[None]] = {}
        self._lock = threading.Lock()

    def submit(self, job_id: int, work: Work) -> None:
        """Run a committed, queued job in the background."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.max_workers,
                                                    thread_name_prefix="barometre-job")
            future = self._executor.submit(run_job, self.app, job_id, work, self.interval)
            self._futures[job_id] = future
        future.add_done_callback(lambda done: self._forget(job_id, done))

    def _forget(self, job_id: int, done: Future[None]) -> None:
        with self._lock:
            self._futures.pop(job_id, None)
        if done.exception() is not None:  # run_job catches the work's errors: this is a bug
            log.error("job %s: its thread failed", job_id, exc_info=done.exception())

    def is_running_here(self, job_id: int) -> bool:
        with self._lock:
            return job_id in self._futures

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every job held now has ended; False if some still run after `timeout`."""
        with self._lock:
            pending = list(self._futures.values())
        _, not_done = wait_futures(pending, timeout=timeout)
        return not not_done

    def shutdown(self) -> None:
        """Wait for the jobs held, then free the threads (a new job starts a new pool)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


def runner_for(app: Flask) -> JobRunner:
    """The application's runner; `app` may be `flask.current_app`, whose object it keeps (the
    proxy means nothing in the job's thread)."""
    app = app._get_current_object() if hasattr(app, "_get_current_object") else app
    with _RUNNERS_LOCK:
        runner = app.extensions.get("barometre_jobs")
        if runner is None:
            runner = app.extensions["barometre_jobs"] = JobRunner(app)
        return runner


_RUNNERS_LOCK = threading.Lock()
