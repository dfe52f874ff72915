"""The client_viewer role's migration, from the revision before it with accounts in the
database, on both databases: the role becomes allowed, no account or session is lost on the
way, and going down refuses while a client viewer exists."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from survey import create_app
from survey.database import alembic_config, upgrade_database
from survey.extensions import db
from tests.scratch_database import scratch_database_url

BEFORE = "clients"


@pytest.fixture
def scratch_app(tmp_path):
    with scratch_database_url(tmp_path, "client_viewer_migration") as url:
        app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True,
                          "SQLALCHEMY_DATABASE_URI": url})
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _downgrade(app, revision: str) -> None:
    config = alembic_config()
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _insert_user(connection, user_id: int, role: str) -> None:
    connection.execute(text(
        "INSERT INTO \"user\" (id, email, password_hash, role, active, failed_logins, "
        "created_at) VALUES (:id, :email, 'x', :role, true, 0, '2026-01-01')"),
        {"id": user_id, "email": f"{role}{user_id}@example.test", "role": role})


def _rows(app) -> tuple[list, list]:
    with app.app_context(), db.engine.connect() as connection:
        users = connection.execute(text(
            "SELECT id, email, role FROM \"user\" ORDER BY id")).all()
        sessions = connection.execute(text(
            "SELECT id, user_id FROM user_session ORDER BY id")).all()
    return [tuple(u) for u in users], [tuple(s) for s in sessions]


def test_the_role_is_allowed_after_the_migration_and_no_account_is_lost(scratch_app) -> None:
    app = scratch_app
    upgrade_database(app, BEFORE)
    with app.app_context(), db.engine.begin() as connection:
        _insert_user(connection, 1, "admin")
        _insert_user(connection, 2, "auditor")
        # A session cascades from its user: a copy of the user table would have taken it.
        connection.execute(text(
            "INSERT INTO user_session (id, user_id, token_hash, created_at) "
            "VALUES (1, 2, :hash, '2026-01-01')"), {"hash": "a" * 64})
    with pytest.raises(IntegrityError), app.app_context(), db.engine.begin() as connection:
        _insert_user(connection, 3, "client_viewer")  # refused before the migration
    before = _rows(app)

    upgrade_database(app)
    assert _rows(app) == before
    with app.app_context(), db.engine.begin() as connection:
        _insert_user(connection, 3, "client_viewer")
    with pytest.raises(IntegrityError), app.app_context(), db.engine.begin() as connection:
        _insert_user(connection, 4, "superuser")  # the check still holds

    # Going down while a client viewer exists would leave a role the schema refuses.
    with pytest.raises(RuntimeError, match="client_viewer3@example.test"):
        _downgrade(app, BEFORE)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM \"user\" WHERE id = 3"))
    _downgrade(app, BEFORE)
    assert _rows(app) == before
    with pytest.raises(IntegrityError), app.app_context(), db.engine.begin() as connection:
        _insert_user(connection, 3, "client_viewer")
    upgrade_database(app)
    assert _rows(app) == before
