"""The current client of a staff member's request: the session's choice when they may work for
it, else their first client (the only one, in a centre working for itself)."""

from __future__ import annotations

from flask import Flask, g, request, session
from flask_login import current_user

from survey.clients.scope import (
    NO_CLIENT,
    clients_for,
    reset_current_client,
    set_current_client,
)
from survey.extensions import db

# The session key of the client a member of staff works for (set by the switcher).
SESSION_CLIENT_KEY = "client_id"
# Blueprints whose pages are nobody's account's.
ANONYMOUS_BLUEPRINTS = frozenset({"respond", "public"})
# A customer's unsubscribe link and the providers' callbacks act for no account either: a
# staff cookie that comes with them must not hide the invitation behind the staff's client.
ANONYMOUS_ENDPOINTS = frozenset({"distribution.unsubscribe", "distribution.sendgrid_webhook",
                                 "distribution.twilio_webhook"})


def choose_client(client_id: int) -> bool:
    """Work for `client_id` from the next request on, if the signed-in user may; False if not."""
    if not any(client.id == client_id for client in clients_for(db.session, current_user)):
        return False
    session[SESSION_CLIENT_KEY] = client_id
    return True


def enter_client_scope(client_id: int | None) -> None:
    """Work for `client_id` until the request ends (once per request: the first wins)."""
    if client_id is not None and "client_scope_token" not in g:
        g.client_scope_token = set_current_client(client_id)


def init_app(app: Flask) -> None:
    @app.before_request
    def scope_to_current_client() -> None:
        # A respondent's pages act for no user, whoever's cookie comes with them, and load
        # none (`survey.respond.views._anonymous`): their scope is their invitation's client.
        if request.blueprint in ANONYMOUS_BLUEPRINTS or request.endpoint in ANONYMOUS_ENDPOINTS:
            return
        if "_user_id" not in session or not current_user.is_authenticated:
            return
        allowed = clients_for(db.session, current_user)
        g.client_choices = allowed
        if not allowed:
            # A client's viewer (or staff) left with no client sees no client's rows; an admin
            # of an installation without clients has none to see.
            if current_user.role != "admin":
                enter_client_scope(NO_CLIENT)
            return
        wanted = session.get(SESSION_CLIENT_KEY)
        client = next((c for c in allowed if c.id == wanted), allowed[0])
        g.client = client
        enter_client_scope(client.id)

    @app.context_processor
    def client_switcher() -> dict[str, object]:
        # The switcher and the client's name appear only to whoever may work for several.
        choices = g.get("client_choices") or []
        return {"client_choices": choices if len(choices) > 1 else [],
                "current_client": g.get("client")}

    @app.teardown_request
    def leave_client_scope(_error: BaseException | None) -> None:
        token = g.pop("client_scope_token", None)
        if token is not None:
            reset_current_client(token)

