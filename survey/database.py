"""Creating and migrating the database with Alembic; the application never calls create_all."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from survey import PROJECT_ROOT
from survey.extensions import db

MIGRATIONS = PROJECT_ROOT / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_database(app: Flask, revision: str = "head") -> None:
    """Bring the application's database to `revision` (creating it when empty)."""
    config = alembic_config()
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(app: Flask) -> str | None:
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(app: Flask) -> bool:
    return current_revision(app) == head_revision()
