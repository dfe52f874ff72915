from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from survey.database import current_revision, head_revision, is_current, upgrade_database
from survey.extensions import db


def test_the_migration_creates_every_table_of_the_model(app) -> None:
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    assert {"customer", "campaign", "invitation", "message", "response", "audit_event"} <= tables


def test_the_database_is_at_the_head_revision(app) -> None:
    assert head_revision() is not None
    assert current_revision(app) == head_revision()
    assert is_current(app)
    upgrade_database(app)  # idempotent
    assert current_revision(app) == head_revision()


def test_the_migrations_match_the_models(app) -> None:
    """A model change without its revision would make deployments diverge from the tests."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
