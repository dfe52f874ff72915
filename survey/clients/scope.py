"""The current client: the one place where queries are limited to one client's rows.

A scope is set per web request (from the signed-in user's session), per command (`--client`),
per background job (the job's client) and per respondent page (the invitation's client). While
it is set, every ORM select, update and delete of a `ClientOwned` table sees only that client's
rows (`ClientTagged` tables: its rows and the installation's), whatever the view or service
wrote: lists, counts, exports, searches, lookups by id or slug. New rows take the scope's client,
and a row of another client is refused at flush. Without a scope (the sender, the scheduler,
a respondent's link before its invitation is known, `audit verify`) every row is seen.

Views look objects up through `campaign_or_404` and friends (`survey.clients.lookup`) rather
than `session.get`, whose identity-map hit would skip the query, hence the scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, or_, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from survey.clients.models import Client, UserClient
from survey.models import ClientOwned, ClientTagged, Role

# The execution option that lets one statement see every client's rows (a campaign slug's
# uniqueness in the installation, the audit chain).
ALL_CLIENTS = "barometre_all_clients"
# The scope of a signed-in person who may work for no client: matches no row.
NO_CLIENT = -1

_current: ContextVar[int | None] = ContextVar("barometre_client", default=None)


class ClientScopeError(RuntimeError):
    """A row cannot be given a client: none is current and the installation has several, or it
    belongs to another client than the current one."""


def current_client_id() -> int | None:
    """The id of the current client, None when unscoped (system work)."""
    return _current.get()


def owning_client_id() -> int | None:
    """The client new rows go to: the current one; None when unscoped, and when the scope
    matches no client (`NO_CLIENT`: such a person's own events are the installation's)."""
    scope = _current.get()
    return None if scope == NO_CLIENT else scope


def set_current_client(client: Client | int | None) -> object:
    """Make `client` current (None: unscoped); returns the token `reset_current_client` takes."""
    value = client.id if isinstance(client, Client) else client
    return _current.set(value)


def reset_current_client(token: Any) -> None:
    _current.reset(token)


@contextmanager
def client_scope(client: Client | int | None) -> Iterator[None]:
    """Run a block as `client` (None: unscoped), restoring the previous scope after."""
    token = set_current_client(client)
    try:
        yield
    finally:
        _current.reset(token)


def clients_for(session: Session, user: Any) -> list[Client]:
    """The clients a member of staff may work for, in slug order: every client for an admin
    or a user limited to none, else the clients of their `user_client` rows."""
    everyone = list(session.scalars(select(Client).order_by(Client.slug)))
    if user is None or getattr(user, "role", None) == Role.ADMIN.value:
        return everyone
    allowed = set(session.scalars(select(UserClient.client_id).where(
        UserClient.user_id == user.id)))
    mine = [client for client in everyone if client.id in allowed]
    if getattr(user, "role", None) == Role.CLIENT_VIEWER.value:
        # A client's own staff belong to one client; without one they work for none (never,
        # as staff limited to none do, for every client).
        # In a centre working for itself, its only client is theirs.
        return mine[:1] or (everyone if len(everyone) == 1 else [])
    return mine if allowed else everyone


def client_by_slug(session: Session, slug: str) -> Client | None:
    return session.scalar(select(Client).where(Client.slug == slug))


def only_client_id(session: Session) -> int | None:
    """The id of the installation's client when it has exactly one, else None."""
    ids = list(session.scalars(select(Client.id).order_by(Client.id).limit(2)))
    return ids[0] if len(ids) == 1 else None


def effective_client_id(session: Session) -> int:
    """The client new data goes to: the current one, else the installation's only client.

    Raises `ClientScopeError` when there is no current client and not exactly one client."""
    client_id = _current.get() or only_client_id(session)
    if client_id is None:
        raise ClientScopeError(
            "no current client: the installation has several clients (or none), name one "
            "(--client SLUG)"
        )
    return client_id


# --- the query filter -----------------------------------------------------------------------


@event.listens_for(Session, "do_orm_execute")
def _limit_to_current_client(state: ORMExecuteState) -> None:
    client_id = _current.get()
    if client_id is None or state.execution_options.get(ALL_CLIENTS):
        return
    if state.is_column_load or state.is_relationship_load:
        # Loading an attribute of an object already in hand, or its related objects (which
        # are its own client's), is not a lookup.
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            ClientOwned, lambda cls: cls.client_id == client_id, include_aliases=True
        ),
        with_loader_criteria(
            ClientTagged,
            lambda cls: or_(cls.client_id == client_id, cls.client_id.is_(None)),
            include_aliases=True,
        ),
    )


# --- new rows -------------------------------------------------------------------------------

# Attributes whose object or id says which client a new row belongs to, in order.
_PARENTS = (("campaign", "campaign_id"), ("programme", "programme_id"),
            ("invitation", "invitation_id"), ("response", "response_id"))


def _parent_client(session: Session, row: Any) -> int | None:
    from survey.models import Campaign, Invitation, Programme, Response

    classes = {"campaign": Campaign, "programme": Programme, "invitation": Invitation,
               "response": Response}
    state = row.__dict__
    for relation, column in _PARENTS:
        parent = state.get(relation)
        if parent is not None and getattr(parent, "client_id", None) is not None:
            return parent.client_id
        parent_id = state.get(column)
        if parent_id is not None:
            found = session.get(classes[relation], parent_id)
            if found is not None:
                return found.client_id
    return None


@event.listens_for(Session, "before_flush")
def _give_rows_their_client(session: Session, flush_context: Any, instances: Any) -> None:
    with session.no_autoflush:
        _check_rows(session)


def _check_rows(session: Session) -> None:
    scope = _current.get()
    owner = owning_client_id()
    only: list[int | None] = []
    for row in list(session.new) + list(session.dirty):
        if not isinstance(row, (ClientOwned, ClientTagged)):
            continue
        if row.client_id is None and row in session.new:
            client_id = _parent_client(session, row) or owner
            if client_id is None and isinstance(row, ClientOwned):
                if not only:
                    only.append(only_client_id(session))
                client_id = only[0]
                if client_id is None:
                    raise ClientScopeError(
                        f"no current client for a new {type(row).__name__}: the installation "
                        "has several clients (or none), name one (--client SLUG)"
                    )
            row.client_id = client_id
        if scope is not None and row.client_id is not None and row.client_id != scope:
            raise ClientScopeError(
                f"a {type(row).__name__} of client {row.client_id} cannot be written while "
                f"working for client {scope}"
            )
