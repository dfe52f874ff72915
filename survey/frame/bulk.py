"""Bulk writes of database-ready rows: COPY on PostgreSQL, executemany on SQLite.

The ORM (and even Core's per-row type processing) costs tens of microseconds a row; a million
customers need the driver's own bulk paths. Values must already be what the column stores:
text, numbers, booleans, None; JSON as its text; timestamps as `timestamp_text` gives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session


def timestamp_text(moment: datetime) -> str:
    """A UTC timestamp as `UTCDateTime` stores it (naive UTC), in text both databases read."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def bulk_insert(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Insert many rows of database-ready values: COPY on PostgreSQL, executemany on SQLite."""
    connection = session.connection()
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in columns)
    # Table and column names are this module's constants, never input.
    statement = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 50_000:
            connection.exec_driver_sql(statement, batch)
            batch = []
    if batch:
        connection.exec_driver_sql(statement, batch)
