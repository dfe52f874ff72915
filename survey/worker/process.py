"""`barometre worker`: one process that sends messages, runs jobs and keeps the schedule.

Three loops in three threads, each with its own application context and database session:

- the sender (`survey.distribution.worker.Sender`), as `barometre send` runs it;
- the jobs: recover dead workers' jobs, claim the next due one, run it, again;
- the scheduler: queue the periodic tasks that are due (`survey.worker.scheduler`).

Any number of workers may run, on any machines, against one database. SIGTERM (systemd's stop)
lets the job in hand and the batch in hand finish, then stops; a worker killed outright has its
job taken over by another worker once its heartbeat is `stale_after` old (or at once by itself
when it restarts under the same `--worker-id`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from flask import Flask

from survey.distribution.worker import Sender, SenderSettings, default_worker_id
from survey.extensions import db
from survey.worker.queue import claim_job, recover_stale_jobs, run_claimed_job, stale_after
from survey.worker.scheduler import queue_due_tasks, schedule

log = logging.getLogger(__name__)

#: Seconds between two looks at the queue when it was empty, and at the schedule.
IDLE_SLEEP = 1.0
SCHEDULER_TICK = 15.0


class Worker:
    def __init__(self, app: Flask, *, worker_id: str | None = None, send: bool = True,
                 jobs: bool = True, scheduler: bool = True,
                 sender_settings: SenderSettings | None = None,
                 idle_sleep: float | None = None, tick: float | None = None) -> None:
        self.app = app
        self.worker_id = worker_id or default_worker_id()
        self.stop = threading.Event()
        self.idle_sleep = float(app.config.get("WORKER_IDLE_SLEEP", IDLE_SLEEP)
                                if idle_sleep is None else idle_sleep)
        self.tick = float(app.config.get("SCHEDULER_TICK", SCHEDULER_TICK)
                          if tick is None else tick)
        self.stale = stale_after(app)
        self.intervals = schedule(app.config) if scheduler else {}
        self.sender = Sender(app, worker_id=self.worker_id, settings=sender_settings) \
            if send else None
        if self.sender is not None and "reminders" in self.intervals:
            self.sender.queues_reminders = False
        self.run_jobs = jobs
        self.errors: list[BaseException] = []

    def run(self) -> None:
        """Run until `stop` is set (SIGTERM), then let the loops finish what they hold."""
        threads = []
        if self.sender is not None:
            threads.append(self._thread("sender", self._send))
        if self.run_jobs:
            threads.append(self._thread("jobs", self._jobs))
        if self.intervals:
            threads.append(self._thread("scheduler", self._schedule))
        for thread in threads:
            thread.start()
        try:
            while any(thread.is_alive() for thread in threads):
                if self.stop.wait(0.5):
                    if self.sender is not None:
                        self.sender.stop.set()
                    break
        finally:
            self.stop.set()
            if self.sender is not None:
                self.sender.stop.set()
            for thread in threads:
                thread.join()

    def _thread(self, name: str, target: Callable[[], None]) -> threading.Thread:
        def guarded() -> None:
            with self.app.app_context():
                try:
                    target()
                except BaseException as error:  # noqa: BLE001 - a dead loop stops the worker
                    log.exception("worker %s: the %s loop stopped", self.worker_id, name)
                    self.errors.append(error)
                    self.stop.set()
                finally:
                    db.session.remove()

        return threading.Thread(target=guarded, name=f"barometre-{name}", daemon=True)

    def _send(self) -> None:
        assert self.sender is not None
        self.sender.run()

    def _jobs(self) -> None:
        recover_stale_jobs(db.session, stale=self.stale, own_worker_id=self.worker_id)
        last_recovery = time.monotonic()
        while not self.stop.is_set():
            if time.monotonic() - last_recovery >= min(30.0, self.stale.total_seconds() / 4):
                recover_stale_jobs(db.session, stale=self.stale)
                last_recovery = time.monotonic()
            job_id = _retrying(lambda: claim_job(db.session, self.worker_id))
            if job_id is None:
                self.stop.wait(self.idle_sleep)
                continue
            log.info("job claimed", extra={"fields": {"event": "job.claim", "job": job_id,
                                                      "worker": self.worker_id}})
            state = run_claimed_job(self.app, job_id, self.worker_id)
            log.info("job ended", extra={"fields": {"event": "job.end", "job": job_id,
                                                    "state": state, "worker": self.worker_id}})

    def _schedule(self) -> None:
        while not self.stop.is_set():
            _retrying(lambda: queue_due_tasks(db.session, self.intervals,
                                              actor=f"worker:{self.worker_id}"[:100]))
            self.stop.wait(self.tick)


def _retrying(step: Callable[[], object]) -> object:
    """One step of a loop; a database error (a restart, a lost connection) is logged and the
    loop goes on at its next turn rather than killing the worker."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return step()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("worker: database error, trying again", exc_info=True)
        time.sleep(1.0)
        return None


__all__ = ["Worker", "timedelta"]
