"""The clients migration (0013) moves an installation's data into its one client, from the
previous revision with data in it, and goes down and up again, on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from survey import create_app
from survey.database import alembic_config, upgrade_database
from survey.extensions import db
from tests.scratch_database import scratch_database_url

OWNED = ("programme", "questionnaire_version", "campaign", "customer", "suppression",
         "invitation")


@pytest.fixture
def scratch_url(tmp_path):
    with scratch_database_url(tmp_path, "clients_migration") as url:
        yield url


def _seed(connection) -> None:
    sha = "0" * 64
    for statement in (
        "INSERT INTO programme (id, name, created_at) VALUES (1, 'P', '2026-01-01')",
        "INSERT INTO questionnaire_version (id, key, number, version, title, sha256, definition, "
        "created_at) VALUES (1, 'q', 1, '1', 'Q', :sha, '{}', '2026-01-01')",
        "INSERT INTO campaign (id, slug, programme_id, year, questionnaire_version_id, status, "
        "channels, reminder_days, created_at) VALUES (1, 'c', 1, 2026, 1, 'open', '[]', '[]', "
        "'2026-01-01')",
        "INSERT INTO customer (id, external_id, email, language, attributes, consent, created_at,"
        " updated_at) VALUES (1, 'C1', 'a@example.org', 'fr', '{}', true, '2026-01-01', "
        "'2026-01-01')",
        "INSERT INTO suppression (id, contact_hash, kind, reason, created_at) VALUES "
        "(1, :sha, 'email', 'opt-out', '2026-01-01')",
        "INSERT INTO invitation (id, campaign_id, customer_id, stratum, design_weight, "
        "attributes, token_salt, token_hash, language, channel, disposition, is_test, "
        "created_at) VALUES (1, 1, 1, 'A', 1.0, '{}', 's', :sha, 'fr', 'email', 'sent', false, "
        "'2026-01-01')",
        "INSERT INTO job (id, kind, campaign_id, state, done, parameters, attempts, "
        "max_attempts, run_after, created_at, heartbeat_at) VALUES (1, 'report', 1, 'queued', "
        "0, '{}', 0, 3, '2026-01-01', '2026-01-01', '2026-01-01')",
        "INSERT INTO audit_event (id, created_at, actor, action, summary) VALUES "
        "(1, '2026-01-01', 'cli', 'user.create', '{}')",
        "INSERT INTO audit_event (id, created_at, actor, action, campaign_id, summary) VALUES "
        "(2, '2026-01-01', 'cli', 'campaign.create', 1, '{}')",
    ):
        connection.execute(text(statement), {"sha": sha} if ":sha" in statement else {})


def test_the_migration_moves_the_data_into_one_client_and_goes_down_and_up(scratch_url,
                                                                           tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": scratch_url})
    upgrade_database(app, "programme_method")
    with app.app_context(), db.engine.begin() as connection:
        _seed(connection)
    upgrade_database(app, "clients")
    with app.app_context(), db.engine.connect() as connection:
        clients = connection.execute(text("SELECT id, slug, name FROM client")).all()
        assert [(slug, name) for _id, slug, name in clients] == [("default", "Default")]
        client_id = clients[0][0]
        for table in OWNED:
            assert connection.execute(text(f"SELECT DISTINCT client_id FROM {table}")).all() \
                == [(client_id,)], table
        assert connection.execute(text("SELECT client_id FROM job")).scalar() == client_id
        assert dict(connection.execute(text("SELECT id, client_id FROM audit_event")).all()) \
            == {1: None, 2: client_id}
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO client (id, slug, name, created_at) VALUES (2, 'acme', 'Acme', "
            "'2026-01-01')"))
        # The same external id in another client is another customer.
        connection.execute(text(
            "INSERT INTO customer (id, external_id, language, attributes, consent, created_at, "
            "updated_at, client_id) VALUES (2, 'C1', 'fr', '{}', true, '2026-01-01', '2026-01-01', "
            "2)"))
    with app.app_context(), db.engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(text(
            "INSERT INTO customer (id, external_id, language, attributes, consent, created_at, "
            "updated_at, client_id) VALUES (3, 'C1', 'fr', '{}', true, '2026-01-01', '2026-01-01', "
            "2)"))
    with app.app_context(), db.engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(text(
            "INSERT INTO programme (id, name, created_at) VALUES (2, 'No client', "
            "'2026-01-01')"))
    config = alembic_config()
    # Going down with two clients would merge their bases: refused.
    with app.app_context(), db.engine.begin() as connection, pytest.raises(RuntimeError,
                                                                           match="more than one"):
        config.attributes["connection"] = connection
        command.downgrade(config, "programme_method")
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM customer WHERE client_id = 2"))
        connection.execute(text("DELETE FROM client WHERE id = 2"))
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "programme_method")
    with app.app_context(), db.engine.connect() as connection:
        columns = list(connection.execute(text("SELECT * FROM customer")).keys())
        assert "client_id" not in columns
        assert tuple(connection.execute(text(
            "SELECT slug, programme_id FROM campaign")).one()) == ("c", 1)
        assert connection.execute(text("SELECT count(*) FROM invitation")).scalar() == 1
    upgrade_database(app, "clients")
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM client")).scalar() == 1
        assert connection.execute(text(
            "SELECT count(*) FROM invitation WHERE client_id IS NOT NULL")).scalar() == 1
    with app.app_context():
        db.engine.dispose()
