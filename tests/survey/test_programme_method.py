"""A programme's survey method (issue #24): stored on the programme, changed by a manager on
its page (audited), stated in the report's method section with defaults when blank; its
migration goes down and up again on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import select, text

from survey import create_app
from survey.auth.operations import create_user
from survey.database import alembic_config, upgrade_database
from survey.extensions import db
from survey.models import AuditEvent, Programme
from survey.programmes.operations import MethodError, method_of, update_method
from survey.reporting.texts import method_default
from tests.scratch_database import scratch_database_url

PASSWORD = "a-long-password-123"


def _programme(name: str = "Baromètre") -> Programme:
    programme = Programme(name=name)
    db.session.add(programme)
    db.session.flush()
    return programme


def test_update_method_records_the_fields_changed_and_blank_means_default(app):
    with app.app_context():
        programme = _programme()
        changed = update_method(db.session, programme, {
            "commissioned_by": "  Direction clients ", "incentives": "", "objectives": None,
        }, actor="test")
        assert changed == ["commissioned_by"]
        assert method_of(programme)["commissioned_by"] == "Direction clients"
        assert method_of(programme)["incentives"] is None
        assert update_method(db.session, programme, {"commissioned_by": "Direction clients"},
                             actor="test") == []
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "programme.method")).all()
        assert [event.summary["fields"] for event in events] == [["commissioned_by"]]
        with pytest.raises(MethodError, match="^limitations: at most 2000"):
            update_method(db.session, programme, {"limitations": "x" * 2001}, actor="test")
        with pytest.raises(MethodError, match="^sponsor: not a field"):
            update_method(db.session, programme, {"sponsor": "x"}, actor="test")
        db.session.rollback()


def test_a_manager_changes_the_method_and_an_auditor_reads_it(app, client):
    with app.app_context():
        programme = _programme()
        create_user(db.session, "m@centre.example", "manager", PASSWORD, actor="test")
        create_user(db.session, "a@centre.example", "auditor", PASSWORD, actor="test")
        db.session.commit()
        programme_id = programme.id
    url = f"/manage/programmes/{programme_id}/method"
    client.post("/login", data={"email": "a@centre.example", "password": PASSWORD})
    page = client.get(url)
    assert page.status_code == 200
    assert method_default("incentives", "fr", "Baromètre") in page.get_data(as_text=True)
    assert 'name="method-incentives"' not in page.get_data(as_text=True)
    assert client.post(url, data={"method-incentives": "Un bon"}).status_code == 403
    client.post("/logout")
    client.post("/login", data={"email": "m@centre.example", "password": PASSWORD})
    page = client.get(url).get_data(as_text=True)
    assert 'name="method-limitations"' in page and "Incitations" in page
    english = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Incentives" in english and method_default("incentives", "en", "Baromètre") in english
    saved = client.post(url, data={"method-incentives": "Un bon d’achat par tirage au sort"})
    assert saved.status_code == 303
    too_long = client.post(url, data={"method-objectives": "x" * 2001})
    assert too_long.status_code == 422
    with app.app_context():
        assert db.session.get(Programme, programme_id).method_incentives == (
            "Un bon d’achat par tirage au sort")
        assert db.session.scalar(select(AuditEvent.actor).where(
            AuditEvent.action == "programme.method")) is not None


@pytest.fixture
def scratch_url(tmp_path):
    """A database of its own (a schema of its own on PostgreSQL), so that going down never
    touches the suite's."""
    with scratch_database_url(tmp_path, "programme_method_migration") as url:
        yield url


def test_the_migration_goes_down_and_up_from_the_previous_revision(scratch_url, tmp_path):
    """From the revision before it, with a programme and its campaign: the columns appear
    blank, go away on the way down keeping the programme and its campaign, and come back."""
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": scratch_url})
    upgrade_database(app, "improvement_actions")
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
    upgrade_database(app, "programme_method")
    with app.app_context(), db.engine.begin() as connection:
        assert tuple(connection.execute(text(
            "SELECT name, method_incentives FROM programme")).one()) == ("P", None)
        connection.execute(text("UPDATE programme SET method_incentives = 'Aucune'"))
    config = alembic_config()
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "improvement_actions")
    with app.app_context(), db.engine.connect() as connection:
        columns = list(connection.execute(text("SELECT * FROM programme")).keys())
        assert "name" in columns and not [c for c in columns if c.startswith("method_")]
        assert tuple(connection.execute(text(
            "SELECT slug, programme_id FROM campaign")).one()) == ("c", 1)
    upgrade_database(app, "programme_method")
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SELECT method_incentives FROM programme")).scalar() is None
    with app.app_context():
        db.engine.dispose()
