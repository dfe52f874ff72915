"""`barometre clients create|list`, and the `--client SLUG` option of the commands that create
or read one client's data (optional while the installation has one client)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from survey.commandline import BadInput, with_appcontext

F = TypeVar("F", bound=Callable[..., Any])

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,49}$")


def resolve_client(slug: str | None) -> int:
    """The id of the client `--client` names, or the only one; exit 2 otherwise, naming the
    choices."""
    from sqlalchemy import select

    from survey.extensions import db
    from survey.models import Client

    clients = list(db.session.execute(select(Client.id, Client.slug).order_by(Client.slug)))
    choices = ", ".join(row.slug for row in clients) or "none yet"
    if slug is not None:
        found = next((row.id for row in clients if row.slug == slug), None)
        if found is None:
            raise BadInput(f"--client: no client {slug!r} (clients: {choices})")
        return found
    if len(clients) == 1:
        return clients[0].id
    raise BadInput(f"--client SLUG is needed: this installation has several clients "
                   f"({choices})" if clients else
                   "no client yet: create one with `barometre clients create SLUG --name NAME`")


def client_option(func: F) -> F:
    """Add `--client SLUG` and run the command in that client's scope (place it under
    `with_appcontext`)."""
    from survey.clients.scope import client_scope

    @functools.wraps(func)
    def wrapper(*args: Any, client: str | None = None, **kwargs: Any) -> Any:
        with client_scope(resolve_client(client)):
            return func(*args, **kwargs)

    return click.option(  # type: ignore[return-value]
        "--client", "client", metavar="SLUG",
        help="The client whose data this is (needed when the installation has several).",
    )(wrapper)


@click.group()
def clients() -> None:
    """The client companies whose customers are surveyed."""


@clients.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The client's name, as its staff know it.")
@with_appcontext
def clients_create(slug: str, name: str) -> None:
    """Create a client: its customer base, campaigns and results are walled off."""
    from sqlalchemy import select

    from survey.audit import record_event
    from survey.extensions import db
    from survey.models import Client

    if not SLUG.match(slug):
        raise BadInput(f"SLUG {slug!r}: 2 to 50 lower-case letters, digits and hyphens")
    name = name.strip()
    if not name or len(name) > 200:
        raise BadInput("--name: 1 to 200 characters")
    if db.session.scalar(select(Client.id).where(Client.slug == slug)) is not None:
        raise BadInput(f"SLUG {slug!r}: a client has this slug already")
    client = Client(slug=slug, name=name)
    db.session.add(client)
    db.session.flush()
    record_event(db.session, "client.create", actor="cli", object_type="client",
                 object_id=client.id, summary={"slug": slug}, client_id=client.id)
    db.session.commit()
    click.echo(f"created client {slug}")


@clients.command("list")
@with_appcontext
def clients_list() -> None:
    """List the clients: slug and name."""
    from sqlalchemy import select

    from survey.extensions import db
    from survey.models import Client

    for client in db.session.scalars(select(Client).order_by(Client.slug)):
        click.echo(f"{client.slug}\t{client.name}")


COMMANDS = (clients,)
