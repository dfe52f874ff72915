"""Creating and migrating the database with Alembic (the application never calls create_all),
and connections whose statements each run on their own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Connection

from survey import PROJECT_ROOT
from survey.extensions import AUTOCOMMIT_OPTION, db

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


# --- statements without a transaction --------------------------------------------------------


@contextmanager
def autocommit_connection() -> Iterator[Connection]:
    """A connection of the application's engine whose statements each run, and commit, on their
    own, outside the ORM.

    Pages that only show what is stored (most of a respondent's requests) need no more, nor does
    a write that is whole in one statement (stamping a link's first opening):
    - on SQLite every other transaction begins IMMEDIATE and holds the database's only write lock
      (`survey._begin_immediate`); a reader here begins none, so it never queues behind a writer,
      nor makes writers queue behind it, and a single write holds the lock for itself only;
    - on PostgreSQL it runs in autocommit, sparing the BEGIN and COMMIT (or ROLLBACK) round
      trips around a single statement.
    Each statement sees the data as it is when it runs: never for two statements that must agree.
    """
    options: dict[str, Any] = {AUTOCOMMIT_OPTION: True}
    if db.engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    with db.engine.connect().execution_options(**options) as connection:
        yield connection
