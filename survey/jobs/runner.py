"""A running job's progress, and the ticker thread that commits it with the heartbeat.

A worker (`survey.worker.queue.run_claimed_job`) runs a job's handler in its thread; the
handler reports progress to a `Progress` object in memory (an attribute assignment: free for
the import's loop); a ticker thread commits it, with the heartbeat, in short transactions of
its own every `PROGRESS_INTERVAL` seconds, so the job's page can read it. On SQLite the ticker
waits while the work holds the single write lock (an import's final transaction): the progress
then shows the stage that began it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from survey.extensions import db

log = logging.getLogger(__name__)

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
    def __init__(self, app: Flask, job_id: int, progress: Progress, interval: float,
                 worker_id: str | None = None) -> None:
        super().__init__(name=f"barometre-job-{job_id}-ticker", daemon=True)
        self.app, self.job_id, self.progress, self.interval = app, job_id, progress, interval
        self.worker_id = worker_id
        self.stopping = threading.Event()

    def run(self) -> None:
        from survey.jobs.operations import write_progress

        with self.app.app_context():
            engine = db.engine
        while not self.stopping.is_set():
            self.progress.changed.wait(self.interval)
            self.progress.changed.clear()
            if self.stopping.is_set():
                break
            try:
                write_progress(engine, self.job_id, *self.progress.snapshot,
                               worker_id=self.worker_id)
            except SQLAlchemyError:  # a locked SQLite database: the next tick tries again
                log.warning("job %s: progress not written", self.job_id, exc_info=True)

    def stop(self, wait: bool = True) -> None:
        self.stopping.set()
        self.progress.changed.set()
        if wait:
            self.join()
