"""`barometre followups`: the daily digest, delivering staff notifications, service levels,
the list of follow-ups and its export."""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime

import click

from survey.commandline import BadInput, with_appcontext
from survey.csvsafe import safe_dict


@click.group()
def followups() -> None:
    """The closed loop: digests, notifications, service levels, lists."""


@followups.command()
@click.option("--at", "at", help="Build the digest as of this moment (ISO 8601, UTC if no "
              "offset; default: now). The digest's day is that moment's day in "
              "BAROMETRE_TIMEZONE.")
@click.option("--no-send", is_flag=True, help="Queue the digests without sending them.")
@with_appcontext
def digest(at: str | None, no_send: bool) -> None:
    """Queue today's digest to each manager and admin (once a day each, however many times or
    places this runs), then send what is queued."""
    from flask import current_app

    from survey.extensions import db as database
    from survey.followups.notifications import build_digest, run_digest

    now = _moment(at)
    if no_send:
        result = build_digest(database.session, now=now)
        database.session.commit()
    else:
        result, sent = run_digest(database.session, current_app.config, now=now)
    click.echo(f"digest of {result.day.isoformat()}: {result.queued} queued, "
               f"{result.already} already queued earlier")
    if not no_send:
        click.echo(f"notifications: {sent.sent} sent, {sent.retrying} to retry, "
                   f"{sent.failed} failed")


@followups.command()
@with_appcontext
def notify() -> None:
    """Send the staff notifications still queued (assignments, digests)."""
    from flask import current_app

    from survey.extensions import db as database
    from survey.followups.notifications import deliver

    sent = deliver(database.session, current_app.config)
    click.echo(f"notifications: {sent.sent} sent, {sent.retrying} to retry, {sent.failed} failed")


@followups.command("service-levels")
@click.argument("programme")
@click.option("--callback-days", type=int, help="Working days a callback request may wait.")
@click.option("--detractor-days", type=int, help="Working days a dissatisfied customer's "
              "follow-up may wait.")
@with_appcontext
def service_levels(programme: str, callback_days: int | None,
                   detractor_days: int | None) -> None:
    """Show or change a programme's service levels (in working days)."""
    from sqlalchemy import select

    from survey.extensions import db as database
    from survey.followups.operations import FollowUpError, set_service_levels
    from survey.models import Programme

    found = database.session.scalar(select(Programme).where(Programme.name == programme))
    if found is None:
        raise BadInput(f"programme: no programme named {programme!r}")
    if callback_days is not None or detractor_days is not None:
        try:
            set_service_levels(
                database.session, found,
                callback_days=found.callback_days if callback_days is None else callback_days,
                detractor_days=found.detractor_days if detractor_days is None else detractor_days,
                actor="cli")
        except FollowUpError as error:
            raise BadInput(f"--callback-days/--detractor-days: {error}") from error
        database.session.commit()
    click.echo(f"{found.name}: callback requests {found.callback_days} working days, "
               f"dissatisfied customers {found.detractor_days} working days")


@followups.command("list")
@click.option("--state", default="active", show_default=True,
              type=click.Choice(["active", "open", "in_progress", "closed", "all"]))
@click.option("--overdue", is_flag=True, help="Only those past their due date.")
@click.option("--campaign", help="Only this campaign's (its slug).")
@click.option("--format", "fmt", default="text", show_default=True,
              type=click.Choice(["text", "csv", "json"]))
@with_appcontext
def list_(state: str, overdue: bool, campaign: str | None, fmt: str) -> None:
    """List follow-ups (no customer's contact details or answers), as text, CSV or JSON."""
    from survey.extensions import db as database
    from survey.followups.operations import QueueFilters, filtered_query, is_overdue, ordering
    from survey.models import utcnow

    filters = QueueFilters(state=state, overdue=overdue, campaign=campaign)
    now = utcnow()
    items = database.session.scalars(
        filtered_query(filters, user_id=None, now=now).order_by(*ordering("due"))).all()
    rows = [{
        "id": item.id, "campaign": item.campaign.slug, "kind": item.kind, "status": item.status,
        "score": item.score, "owner": item.owner.email if item.owner else None,
        "created_at": item.created_at.isoformat(timespec="seconds"),
        "due_at": item.due_at.isoformat(timespec="seconds") if item.due_at else None,
        "overdue": is_overdue(item, now), "outcome": item.outcome,
    } for item in items]  # fmt: skip
    if fmt == "json":
        click.echo(json.dumps({"follow_ups": rows}, ensure_ascii=False))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["id"])
        writer.writeheader()
        writer.writerows(safe_dict(row) for row in rows)
    else:
        for row in rows:
            late = " OVERDUE" if row["overdue"] else ""
            click.echo(f"{row['id']}\t{row['campaign']}\t{row['kind']}\t{row['status']}\t"
                       f"due {row['due_at'] or '-'}{late}\t{row['owner'] or '-'}")
        click.echo(f"{len(rows)} follow-up(s)")


def _moment(text: str | None) -> datetime:
    from survey.models import utcnow

    if not text:
        return utcnow()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise BadInput(f"--at: {text!r} is not an ISO 8601 date and time") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Registered on `barometre` by `survey.cli`.
COMMANDS = (followups,)
