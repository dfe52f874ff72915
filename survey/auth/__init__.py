"""Accounts, roles and login."""

from flask import Flask

from survey.extensions import db, login_manager
from survey.models import User


def init_app(app: Flask) -> None:
    from survey.auth.views import blueprint

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None

    app.register_blueprint(blueprint)
