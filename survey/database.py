"""Creating and migrating the database with Alembic (the application never calls create_all),
and read-only transactions for pages that only read."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from survey import PROJECT_ROOT
from survey.extensions import db

MIGRATIONS = PROJECT_ROOT / "migrations"

READ_ONLY = "barometre_read_only"
"""The execution option, and the session's `info` key, of a read-only transaction."""


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


# --- read-only transactions ------------------------------------------------------------------


def begin_read_only(session: Session) -> None:
    """Begin the session's transaction as a reader that takes no lock and writes nothing.

    Pages that only show what is stored (most of a respondent's requests) need no more:
    - on SQLite every other transaction begins IMMEDIATE and holds the database's only write lock
      (`survey._begin_immediate`); a reader begins none, so it never queues behind a writer, nor
      makes writers queue behind it;
    - on PostgreSQL the reader runs in autocommit, sparing the BEGIN and ROLLBACK round trips
      around a page's single query.
    Each statement then sees the data as it is when it runs. A flush in such a transaction is
    refused (`_refuse_writes`): a write needs a transaction of its own, begun after this one ends.
    Call it before the session's first query of the transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT", READ_ONLY: True}
    else:
        options = {READ_ONLY: True}
    session.connection(execution_options=options)
    session.info[READ_ONLY] = True


@event.listens_for(Session, "before_flush")
def _refuse_writes(session: Session, flush_context: Any, instances: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a read-only transaction cannot write: end it and begin another")


@event.listens_for(Session, "after_transaction_end")
def _end_read_only(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(READ_ONLY, None)
