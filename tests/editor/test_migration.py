"""The editor's revision on an installation that already has versions and campaigns."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect, text

from survey import create_app
from survey.database import alembic_config, upgrade_database
from survey.extensions import db


def test_versions_are_numbered_by_key_and_the_revision_goes_down_and_up(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": url,
                      "TESTING": True})
    upgrade_database(app, "frame_margins")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO programme (id, name, created_at) VALUES (1, 'P', '2026-01-01')"))
        for id_, key in ((1, "a"), (2, "b"), (3, "a")):
            connection.execute(text(
                "INSERT INTO questionnaire_version (id, key, version, title, sha256, definition, "
                "created_at) VALUES (:id, :key, '1', 't', :sha, '{}', '2026-01-01')"),
                {"id": id_, "key": key, "sha": str(id_) * 64})
        # A campaign points to a version: the revision must not copy the table it references.
        connection.execute(text(
            "INSERT INTO campaign (id, slug, programme_id, year, questionnaire_version_id, "
            "status, channels, reminder_days, created_at) VALUES (1, 'c', 1, 2026, 3, 'draft', "
            "'[\"email\"]', '[]', '2026-01-01')"))
    upgrade_database(app)
    with engine.connect() as connection:
        assert connection.execute(text(
            "SELECT key, number FROM questionnaire_version ORDER BY id")).all() == [
            ("a", 1), ("b", 1), ("a", 2)]
    config = alembic_config()
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "frame_margins")
    assert "questionnaire_draft" not in inspect(create_engine(url)).get_table_names()
    upgrade_database(app)
    assert "questionnaire_draft" in inspect(create_engine(url)).get_table_names()
    with app.app_context():
        db.engine.dispose()
