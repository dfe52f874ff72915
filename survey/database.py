"""Creating and migrating the database with Alembic (the application never calls create_all),
and connections whose statements each run on their own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from survey import PROJECT_ROOT
from survey.extensions import AUTOCOMMIT_OPTION, db
from survey.files import create_private

MIGRATIONS = PROJECT_ROOT / "migrations"



def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_database(app: Flask, revision: str = "head") -> None:
    """Bring the application's database to `revision` (creating it when empty)."""
    _private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    config = alembic_config()
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _private_sqlite_file(url: str) -> None:
    """Create an SQLite database file for the service user only before SQLite creates it with
    the umask's mode (its WAL and shared-memory files take the same mode).

    Done here, where the database is meant to come into being, and not when the application
    starts: a command run before `db upgrade` must create nothing.
    """
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and Path(sqlite_file).parent.is_dir():
        create_private(Path(sqlite_file))


class DatabaseNotReady(RuntimeError):
    """The database cannot be used yet: unreachable, not created, or at another revision. The
    message is one line that says what to do."""


def _describe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _reason(exc: DBAPIError) -> str:
    """The driver's first line (`connection refused`, `database "x" does not exist`)."""
    text = str(exc.orig or exc).strip().splitlines()
    return text[0] if text else type(exc.orig or exc).__name__


def _sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL, None for an in-memory or URI-form database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return None if parsed.database.startswith("file:") else parsed.database


def check_reachable(url: str) -> None:
    """Raise `DatabaseNotReady` when the database server does not answer (a SQLite file is
    created by the first connection, which is what `db upgrade` wants)."""
    if _sqlite_file(url) is not None:
        return
    engine = create_engine(url, pool_pre_ping=False)
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        raise DatabaseNotReady(
            f"cannot reach the database {_describe(url)} ({_reason(exc)}): check "
            "BAROMETRE_DATABASE_URL and that the database server runs"
        ) from None
    finally:
        engine.dispose()


def check_database(url: str) -> None:
    """Raise `DatabaseNotReady` unless the database answers and its schema is the code's.

    Checked before a command touches the database, so that a command run before
    `barometre db upgrade` says so in one line instead of a traceback, and creates nothing
    (SQLite would create an empty file at the first connection).
    """
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and not Path(sqlite_file).exists():
        raise DatabaseNotReady(
            f"no database at {sqlite_file} yet: run `barometre db upgrade` first "
            "(or set BAROMETRE_DATABASE_URL to the centre's database)"
        )
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as exc:
        raise DatabaseNotReady(
            f"cannot reach the database {_describe(url)} ({_reason(exc)}): check "
            "BAROMETRE_DATABASE_URL and that the database server runs"
        ) from None
    finally:
        engine.dispose()
    head = head_revision()
    if current is None:
        raise DatabaseNotReady(
            f"the database {_describe(url)} has no tables yet: run `barometre db upgrade` first"
        )
    if current != head:
        raise DatabaseNotReady(
            f"the database {_describe(url)} is at revision {current}, this version of barometre "
            f"needs {head}: run `barometre db upgrade`"
        )


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
