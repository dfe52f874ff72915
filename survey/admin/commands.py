"""The audit trail on the command line."""

from __future__ import annotations

import json

import click

from survey.commandline import with_appcontext


@click.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def audit_verify(as_json: bool) -> None:
    """Check the hash chain of the audit trail and name the first broken link."""
    from survey.audit import verify_chain
    from survey.extensions import db as database

    result = verify_chain(database.session)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "events": result.events,
                    "ok": result.ok,
                    "first_broken_id": result.first_broken_id,
                    "reason": result.reason,
                }
            )
        )
    elif result.ok:
        click.echo(f"audit trail intact: {result.events} events")
    else:
        click.echo(
            f"audit trail broken at event {result.first_broken_id}: {result.reason}", err=True
        )
    if not result.ok:
        raise SystemExit(2)


# Registered on `barometre` by `survey.cli`.
COMMANDS = (audit,)
