"""Accounts, roles and login.

Sessions are recorded server-side (`survey.auth.sessions`): the user loader accepts a request
only while its session row is open and younger than `SESSION_LIFETIME` (8 h from login, not
sliding). They end by logout, deactivation or a password change (rows ended at once, so a
copied cookie is refused afterwards), after 8 h, and after `SESSION_IDLE_TIMEOUT` seconds
without a request (30 min by default), checked here on every request.
"""

import time

from flask import Flask, session
from flask_login import logout_user

from survey.auth.sessions import SESSION_KEY, SESSION_LIFETIME_SECONDS, session_user
from survey.extensions import db, login_manager
from survey.models import User

IDLE_TIMEOUT_SECONDS = 30 * 60
# Refresh the last-seen time at most once a minute: a new cookie on every request is noise.
_SEEN_RESOLUTION = 60


def init_app(app: Flask) -> None:
    from survey.auth.views import blueprint

    app.config.setdefault("SESSION_IDLE_TIMEOUT", IDLE_TIMEOUT_SECONDS)
    app.config.setdefault("SESSION_LIFETIME", SESSION_LIFETIME_SECONDS)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        if not user_id.isdigit():
            return None
        return session_user(db.session, session.get(SESSION_KEY), int(user_id),
                            lifetime_seconds=app.config["SESSION_LIFETIME"])

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
