"""Accounts, roles and login.

Sessions end three ways: logout; `PERMANENT_SESSION_LIFETIME` (8 h) after login, as the signed
cookie expires; and after `SESSION_IDLE_TIMEOUT` seconds without a request (30 min by default),
checked here on every request. A deactivated account is refused by the user loader, so that
its open sessions stop working at their next request.
"""

import time

from flask import Flask, session
from flask_login import logout_user

from survey.extensions import db, login_manager
from survey.models import User

IDLE_TIMEOUT_SECONDS = 30 * 60
# Refresh the last-seen time at most once a minute: a new cookie on every request is noise.
_SEEN_RESOLUTION = 60


def init_app(app: Flask) -> None:
    from survey.auth.views import blueprint

    app.config.setdefault("SESSION_IDLE_TIMEOUT", IDLE_TIMEOUT_SECONDS)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active else None

    @app.before_request
    def expire_idle_session() -> None:
        if "_user_id" not in session:
            return
        now = int(time.time())
        seen = session.get("seen_at")
        if isinstance(seen, int) and now - seen > app.config["SESSION_IDLE_TIMEOUT"]:
            logout_user()  # the view's role check then sends the user to the login page
            session.pop("seen_at", None)
            return
        if not isinstance(seen, int) or now - seen >= _SEEN_RESOLUTION:
            session["seen_at"] = now

    app.register_blueprint(blueprint)
