"""The improvement plan's revision on an installation at the previous revision, with campaigns
and accounts, on both databases: it goes up, holds an action, goes down and up again."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from survey import create_app
from survey.database import alembic_config, upgrade_database
from survey.extensions import db
from tests.scratch_database import scratch_database_url

PREVIOUS = "job_outputs"


@pytest.fixture
def scratch_url(tmp_path):
    """A database of its own (a schema of its own on PostgreSQL): going down never touches the
    suite's."""
    with scratch_database_url(tmp_path, "improvement_migration") as url:
        yield url


def _insert_action(connection, status: str = "planned", done_on: str | None = None) -> None:
    connection.execute(text(
        "INSERT INTO improvement_action (campaign_id, title, item, change, owner_id, due_on, "
        "indicator, target, status, done_on, public, created_at, updated_at) VALUES (1, 'A', "
        "'phone_wait', 'x', 1, '2026-06-30', 'phone_wait_satisfied', 0.8, :status, :done_on, "
        "false, '2026-01-01', '2026-01-01')"), {"status": status, "done_on": done_on})


def test_up_from_the_previous_revision_down_and_up_again(scratch_url, tmp_path) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": scratch_url})
    upgrade_database(app, PREVIOUS)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(
            'INSERT INTO "user" (id, email, password_hash, role, active, failed_logins, '
            "created_at) VALUES (1, 'm@x.example', 'h', 'manager', true, 0, '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO programme (id, name, callback_days, detractor_days, created_at) "
            "VALUES (1, 'P', 2, 5, '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO questionnaire_version (id, key, number, version, title, sha256, "
            "definition, created_at) VALUES (1, 'q', 1, '1', 'Q', :sha, '{}', '2026-01-01')"),
            {"sha": "0" * 64})
        connection.execute(text(
            "INSERT INTO campaign (id, slug, programme_id, year, questionnaire_version_id, "
            "status, channels, reminder_days, created_at) VALUES (1, 'c', 1, 2025, 1, "
            "'closed', '[]', '[]', '2026-01-01')"))
    upgrade_database(app, "improvement_actions")
    with app.app_context(), db.engine.begin() as connection:
        _insert_action(connection)
        connection.execute(text(
            "INSERT INTO improvement_action_change (action_id, kind, fields, actor, created_at) "
            "VALUES (1, 'created', '{}', 'test', '2026-01-01')"))
    # The status and its date agree, as the service keeps them.
    for status, done_on in (("done", None), ("planned", "2026-02-01"), ("finished", None)):
        with pytest.raises(IntegrityError), app.app_context(), db.engine.begin() as connection:
            _insert_action(connection, status, done_on)
    config = alembic_config()
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, PREVIOUS)
    with app.app_context():
        tables = inspect(db.engine).get_table_names()
        assert "improvement_action" not in tables and "campaign" in tables
    upgrade_database(app, "improvement_actions")
    with app.app_context():
        assert {"improvement_action", "improvement_action_change"} <= set(
            inspect(db.engine).get_table_names())
        db.engine.dispose()
