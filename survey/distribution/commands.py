"""The message sender on the command line."""

from __future__ import annotations

import click

from survey.commandline import BadInput, with_appcontext


@click.command()
@click.option("--once", is_flag=True, help="Send what is due, then stop.")
@click.option("--worker-id", help="Name of this worker (default host:pid); restarting under "
              "the same name re-queues at once what it had in flight.")
@click.option("--batch-size", type=click.IntRange(1, 1000), help="Messages per claim.")
@click.option("--stale-after", type=click.FloatRange(1), help="Seconds without a heartbeat "
              "after which another worker's claims are re-queued (default 120).")
@with_appcontext
def send(once: bool, worker_id: str | None, batch_size: int | None,
         stale_after: float | None) -> None:
    """Deliver queued invitations and reminders."""
    import signal

    from flask import current_app

    from survey.distribution.backends import BackendConfigurationError
    from survey.distribution.worker import Sender, SenderSettings

    settings = SenderSettings.from_config(current_app.config)
    if batch_size:
        settings.batch_size = batch_size
    if stale_after:
        settings.stale_after = stale_after
    sender = Sender(current_app._get_current_object(), worker_id=worker_id, settings=settings)
    # SIGTERM (serve --with-worker, systemd) finishes the batch in hand, then stops.
    signal.signal(signal.SIGTERM, lambda *_: sender.stop.set())
    click.echo(f"sender {sender.worker_id} started", err=True)
    try:
        stats = sender.run(once=once)
    except BackendConfigurationError as exc:
        raise BadInput(str(exc)) from exc
    except KeyboardInterrupt:
        return
    click.echo(
        f"sent {stats.sent}, retry later {stats.retried}, failed {stats.failed}, "
        f"cancelled {stats.cancelled}, reminders queued {stats.reminders}, re-queued after a "
        f"stopped worker {stats.requeued} (flagged possibly duplicated)"
    )


# Registered on `barometre` by `survey.cli`.
COMMANDS = (send,)
