"""The loop's migration goes down and up again on both databases, keeping the notes: a thread
becomes one notes field going down, and that field a thread's first entry going up."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from survey import create_app
from survey.database import alembic_config, upgrade_database
from survey.extensions import db
from tests.scratch_database import scratch_database_url


@pytest.fixture
def scratch_url(tmp_path):
    """A database of its own (a schema of its own on PostgreSQL), so that going down never
    touches the suite's."""
    with scratch_database_url(tmp_path, "followups_migration") as url:
        yield url


def _downgrade(app, revision: str) -> None:
    config = alembic_config()
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_down_and_up_again_keeps_the_notes(scratch_url, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": scratch_url})
    upgrade_database(app, "0001")
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO programme (id, name, created_at) VALUES (1, 'P', '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO questionnaire_version (id, key, version, title, sha256, definition, "
            "created_at) VALUES (1, 'q', '1', 'Q', :sha, '{}', '2026-01-01')"), {"sha": "0" * 64})
        connection.execute(text(
            "INSERT INTO campaign (id, slug, programme_id, year, questionnaire_version_id, "
            "status, channels, reminder_days, created_at) VALUES (1, 'c', 1, 2026, 1, 'open', "
            "'[]', '[]', '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO invitation (id, campaign_id, stratum, design_weight, attributes, "
            "token_salt, token_hash, language, channel, disposition, is_test, created_at) "
            "VALUES (1, 1, 'A', 1.0, '{}', 's', :hash, 'fr', 'email', 'complete', false, "
            "'2026-01-01')"), {"hash": "1" * 64})
        connection.execute(text(
            "INSERT INTO response (id, invitation_id, questionnaire_version_id, answers, "
            "current_page, status, language, revision, started_at, updated_at, completed_at) "
            "VALUES (1, 1, 1, '{}', 0, 'complete', 'fr', 1, '2026-01-01', '2026-01-01', "
            "'2026-01-01')"))
        connection.execute(text(
            "INSERT INTO follow_up (id, campaign_id, response_id, kind, status, notes, "
            "created_at) VALUES (1, 1, 1, 'callback', 'open', 'Rappeler lundi', '2026-01-02')"))
    upgrade_database(app)
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text(
            "SELECT follow_up_id, body FROM follow_up_note")).all() == [(1, "Rappeler lundi")]
        assert connection.execute(text(
            "SELECT callback_days, detractor_days FROM programme")).one() == (2, 5)
        connection.execute(text(
            "INSERT INTO follow_up_note (follow_up_id, body, contact_attempt, created_at) "
            "VALUES (1, 'Messagerie', true, '2026-01-03')"))
        connection.commit()
    _downgrade(app, "0001")
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SELECT notes FROM follow_up")).scalar() == (
            "Rappeler lundi\n\nMessagerie")
    upgrade_database(app)
    with app.app_context():
        db.engine.dispose()
