"""Staff accounts on the command line."""

from __future__ import annotations

import sys

import click

from survey.commandline import BadInput, with_appcontext
from survey.models import Role


@click.group()
def users() -> None:
    """Manage accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--client", "client_slugs", multiple=True, metavar="SLUG",
              help="Limit the account to this client (repeatable; default: every client).")
@with_appcontext
def users_create(email: str, role: str, client_slugs: tuple[str, ...]) -> None:
    """Create an account; the password is read from stdin, or generated and printed once."""
    from survey.auth.operations import AccountError, create_user, generate_password
    from survey.clients.commands import resolve_client
    from survey.extensions import db as database
    from survey.models import UserClient

    limited_to = sorted({resolve_client(slug) for slug in client_slugs})
    from survey.clients.operations import ClientChoiceError, check_clients

    try:
        # An admin works for every client; a client's viewer for exactly one (the only one
        # may go unnamed).
        limited_to = check_clients(database.session, role, limited_to)
    except ClientChoiceError as exc:
        raise BadInput(f"--client: {exc}; name it once (--client SLUG)") from exc
    generated = sys.stdin is None or sys.stdin.isatty()
    password = generate_password() if generated else sys.stdin.readline().rstrip("\r\n")
    if not password:
        password, generated = generate_password(), True
    try:
        user = create_user(database.session, email, role, password, actor="cli")
    except AccountError as exc:
        raise BadInput(str(exc)) from exc
    for client_id in limited_to:
        database.session.add(UserClient(user_id=user.id, client_id=client_id))
    database.session.commit()
    click.echo(f"created {user.role} {user.email}")
    if generated:
        click.echo(f"password (shown once): {password}")


@users.command("list")
@with_appcontext
def users_list() -> None:
    """List the accounts: email, role, state, last login."""
    from survey.auth.operations import list_users
    from survey.extensions import db as database

    for user in list_users(database.session):
        seen = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
        click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'deactivated'}"
                   f"\tlast login {seen}")


@users.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([role.value for role in Role]))
@with_appcontext
def users_set_role(email: str, role: str) -> None:
    """Give an account another role."""
    from survey.auth.operations import AccountError, find_user, set_role
    from survey.extensions import db as database

    try:
        user = find_user(database.session, email)
        changed = set_role(database.session, user, role, actor="cli")
    except AccountError as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    click.echo(f"{user.email} is {'now' if changed else 'already'} {role}")


@users.command("deactivate")
@click.argument("email")
@with_appcontext
def users_deactivate(email: str) -> None:
    """Deactivate an account: its sessions stop working at once."""
    _users_set_active(email, active=False)


@users.command("reactivate")
@click.argument("email")
@with_appcontext
def users_reactivate(email: str) -> None:
    """Reactivate a deactivated account."""
    _users_set_active(email, active=True)


def _users_set_active(email: str, *, active: bool) -> None:
    from survey.auth.operations import AccountError, find_user, set_active
    from survey.extensions import db as database

    try:
        user = find_user(database.session, email)
        changed = set_active(database.session, user, active, actor="cli")
    except AccountError as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    state = "active" if active else "deactivated"
    click.echo(f"{user.email} is {'now' if changed else 'already'} {state}")


# Registered on `barometre` by `survey.cli`.
COMMANDS = (users,)
