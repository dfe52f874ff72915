"""The audit trail on the command line."""

from __future__ import annotations

import json

import click

from survey.auditpack.commands import audit_pack, audit_verify_pack
from survey.commandline import BadInput, SystemFailure, with_appcontext


@click.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.option("--head", "head_hash", metavar="HASH",
              help="A head hash recorded earlier (printed in a report): the trail must reach it.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def audit_verify(head_hash: str | None, as_json: bool) -> None:
    """Check the chain of the audit trail, name the first broken link, and check that the
    trail still reaches the head recorded outside the database (exit 2 if not)."""
    from flask import current_app

    from survey.audit import AuditTrailError, read_head, verify_chain
    from survey.extensions import db as database

    if head_hash is not None and (len(head_hash) != 64
                                  or any(c not in "0123456789abcdef" for c in head_hash)):
        raise BadInput(f"--head {head_hash!r}: expected the 64 hexadecimal digits of a head hash")
    try:
        recorded = read_head(current_app.config["INSTANCE_PATH"])
    except AuditTrailError as exc:
        raise SystemFailure(str(exc)) from exc
    result = verify_chain(database.session, head=recorded, head_hash=head_hash)
    head = result.head
    if as_json:
        click.echo(json.dumps({
            "events": result.events, "ok": result.ok, "first_broken_id": result.first_broken_id,
            "reason": result.reason, "pending": result.pending,
            "head": head.as_dict() if head else None, "anchored": result.anchored,
        }))
    elif result.ok:
        click.echo(f"audit trail intact: {result.events} events sealed"
                   + (f", head {head.hash}" if head else ""))
        if result.pending:
            click.echo(f"{result.pending} newer events wait to be sealed "
                       "(the sender seals them; `barometre audit seal` does it now)")
        if recorded is None and head_hash is None:
            click.echo("no head recorded in the instance folder yet: the trail's end is "
                       "not anchored outside the database", err=True)
    elif result.first_broken_id is not None:
        click.echo(f"audit trail broken at event {result.first_broken_id}: {result.reason}",
                   err=True)
    else:
        click.echo(f"audit trail broken: {result.reason}", err=True)
    if not result.ok:
        raise SystemExit(2)


@audit.command("seal")
@with_appcontext
def audit_seal() -> None:
    """Seal the events waiting for it now, and record the head in the instance folder."""
    from flask import current_app

    from survey.audit import seal_pending_events
    from survey.extensions import db as database

    sealed = 0
    while True:
        result = seal_pending_events(database.session, key=current_app.config["AUDIT_KEY"],
                                     instance_path=current_app.config["INSTANCE_PATH"])
        sealed += result.sealed
        if result.sealed == 0:
            break
    head = result.head
    click.echo(f"sealed {sealed} events" + (f"; head {head.seq} {head.hash}" if head else ""))


# The auditor's pack has its own package; its commands belong to `barometre audit`.
audit.add_command(audit_pack)
audit.add_command(audit_verify_pack)

# Registered on `barometre` by `survey.cli`.
COMMANDS = (audit,)

