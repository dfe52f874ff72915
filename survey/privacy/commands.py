"""The retention purge on the command line."""

from __future__ import annotations

import click

from survey.clients.commands import client_option
from survey.commandline import with_appcontext


@click.command()
@click.option("--dry-run", is_flag=True, help="Say what would be erased, change nothing.")
@click.option("--retention-days", type=click.IntRange(min=0),
              help="Days after closing (default: the client's retention period, else "
                   "BAROMETRE_RETENTION_DAYS, 90).")
@with_appcontext
@client_option
def purge(dry_run: bool, retention_days: int | None) -> None:
    """Erase personal data of campaigns closed for longer than the retention period."""
    from pathlib import Path

    from flask import current_app

    from survey.clients.scope import current_client_id
    from survey.extensions import db as database
    from survey.privacy.operations import purge_personal_data, retention_days_of

    days = retention_days if retention_days is not None else retention_days_of(
        database.session, current_client_id(), current_app.config["RETENTION_DAYS"])
    outbox = Path(current_app.config["INSTANCE_PATH"]) / "outbox"
    summary = purge_personal_data(database.session, retention_days=days, dry_run=dry_run,
                                  actor="cli", outbox_folder=outbox)
    database.session.commit()
    verb = "would erase" if dry_run else "erased"
    campaigns = ", ".join(summary.campaigns) or "no campaign"
    click.echo(f"{verb}: {campaigns} (closed more than {days} days ago); "
               f"{summary.messages_blanked} message addresses, "
               f"{summary.invitations_unlinked} invitation links, "
               f"{summary.customers_erased} customers"
               + ("" if dry_run else f", {summary.texts_redacted} free texts masked, "
                  f"{summary.outbox_files_removed} outbox files"))


# Registered on `barometre` by `survey.cli`.
COMMANDS = (purge,)
