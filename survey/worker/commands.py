"""`barometre worker`: the sender, the background jobs and the scheduler in one process."""

from __future__ import annotations

import click

from survey.commandline import BadInput, with_appcontext


@click.command()
@click.option("--worker-id", help="Name of this worker (default host:pid); restarting under "
              "the same name takes back at once what it had in hand.")
@click.option("--once", is_flag=True, help="Queue the periodic tasks that are due, run every "
              "due job and send what is due, then stop.")
@click.option("--no-send", is_flag=True, help="Do not send messages (jobs and schedule only).")
@click.option("--no-schedule", is_flag=True, help="Do not queue periodic tasks.")
@with_appcontext
def worker(worker_id: str | None, once: bool, no_send: bool, no_schedule: bool) -> None:
    """Run background work: sending, jobs (imports, reports...) and periodic tasks."""
    import signal

    from flask import current_app

    from survey.distribution.backends import BackendConfigurationError
    from survey.extensions import db
    from survey.worker.process import Worker
    from survey.worker.queue import run_pending_jobs
    from survey.worker.scheduler import ScheduleError, queue_due_tasks, schedule

    app = current_app._get_current_object()
    try:
        intervals = {} if no_schedule else schedule(app.config)
    except ScheduleError as exc:
        raise BadInput(str(exc)) from exc
    if once:
        if intervals:
            queue_due_tasks(db.session, intervals, actor="cli")
        ran = run_pending_jobs(app, worker_id=worker_id or "cli")
        sent = 0
        if not no_send:
            from survey.distribution.worker import Sender

            try:
                sent = Sender(app, worker_id=worker_id).run(once=True).sent
            except BackendConfigurationError as exc:
                raise BadInput(str(exc)) from exc
        click.echo(f"jobs run {ran}, messages sent {sent}")
        return
    try:
        process = Worker(app, worker_id=worker_id, send=not no_send,
                         scheduler=not no_schedule)
    except BackendConfigurationError as exc:
        raise BadInput(str(exc)) from exc
    signal.signal(signal.SIGTERM, lambda *_: process.stop.set())
    click.echo(f"worker {process.worker_id} started (tasks: "
               f"{', '.join(sorted(process.intervals)) or 'none'})", err=True)
    try:
        process.run()
    except KeyboardInterrupt:
        process.stop.set()
    if process.errors:
        raise SystemExit(1)


# Registered on `barometre` by `survey.cli`.
COMMANDS = (worker,)
