"""The floor under the respondent pages, served by `bench_respond.py` (unless `--no-floor`).

A WSGI application that answers the same URLs as the respondent pages with the markup the real
pages sent (recorded by the benchmark, the link's token swapped), and runs on each request only
the database statements every such request needs:

- `GET /r/<token>`: read the link, stamp its first opening;
- `GET /r/<token>/<page>` and `GET /r/<token>/thanks`: read the link;
- `POST /r/<token>/<page>`: read the link with its response, then write the response in one
  statement, without a transaction: an insert for the first page, else an update conditional
  on the revision just read (what an optimistic save would need at the very least; the
  application locks the link in a transaction, three round trips more on PostgreSQL); then a
  303 to the page the real application sent next.

Nothing else: no validation, no rendering, no audit event, no log line, no security header, no
session. Under the same server, clients and load, its request rate is the most any page built
on this stack could reach on this machine, so its ratio to the hello page says how much of the
benchmark's target the stack itself leaves to the pages' own work.

The statements are `survey.respond.operations`' own where it has them (the link's read, the
first opening's stamp), each run on its own, without a transaction. `BENCH_FLOOR_DRIVER` chooses
how:
- `sqlalchemy`: through SQLAlchemy Core, with the application's engine events, as
  `survey.database.autocommit_connection` runs them;
- `psycopg`: the same statements, compiled once to SQL by SQLAlchemy, through psycopg directly
  (PostgreSQL only): what SQLAlchemy itself costs.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, redirect, request
from sqlalchemy import bindparam, create_engine, insert, update

from survey.extensions import AUTOCOMMIT_OPTION
from survey.models import Response, utcnow
from survey.respond import operations
from survey.tokens import hash_token

RECORDED = json.loads(Path(os.environ["BENCH_FLOOR_PAGES"]).read_text(encoding="utf-8"))
DATABASE_URL = os.environ["BAROMETRE_DATABASE_URL"]
DRIVER = os.environ.get("BENCH_FLOOR_DRIVER", "sqlalchemy")

RESPONSE = Response.__table__
INSERT_RESPONSE = insert(RESPONSE)
UPDATE_RESPONSE = update(RESPONSE).where(
    RESPONSE.c.id == bindparam("response_id"), RESPONSE.c.revision == bindparam("read_revision")
)
READ_LINK = operations._link_statement(False)

app = Flask("respond_floor")


def recorded(key: str, token: str) -> str:
    return RECORDED["pages"][key].replace(RECORDED["token"], token)


def next_location(page_index: int, token: str) -> str:
    return RECORDED["next"][str(page_index)].replace(RECORDED["token"], token)


def answers_of(form: Any) -> dict[str, list[str]]:
    return {name: form.getlist(name) for name in form if name not in ("csrf_token", "_revision")}


class SqlalchemyStatements:
    """Each statement through SQLAlchemy Core, on a connection without a transaction."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.options: dict[str, Any] = {AUTOCOMMIT_OPTION: True}
        if self.engine.dialect.name == "postgresql":
            self.options["isolation_level"] = "AUTOCOMMIT"

    def run(self, statement: Any, parameters: dict[str, Any]) -> list[Any]:
        with self.engine.connect().execution_options(**self.options) as connection:
            result = connection.execute(statement, parameters)
            return result.all() if result.returns_rows else []


class PsycopgStatements:
    """Each statement compiled once to PostgreSQL's SQL, run through psycopg in autocommit, one
    connection per server thread. Parameters are adapted as the columns' SQLAlchemy types
    would: JSON documents, and timestamps stored in UTC without their zone."""

    def __init__(self, url: str) -> None:
        import psycopg
        from psycopg.types.json import Jsonb
        from sqlalchemy.dialects import postgresql

        self.psycopg, self.jsonb = psycopg, Jsonb
        self.dialect = postgresql.dialect(paramstyle="pyformat")
        self.dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.local = threading.local()
        self.compiled: dict[tuple[Any, frozenset[str]], str] = {}

    def _sql(self, statement: Any, keys: frozenset[str]) -> str:
        sql = self.compiled.get((statement, keys))
        if sql is None:
            table = getattr(statement, "table", None)  # an insert or update sets these columns
            columns = [key for key in keys if table is not None and key in table.c]
            sql = str(statement.compile(dialect=self.dialect, column_keys=columns))
            self.compiled[(statement, keys)] = sql
        return sql

    def _adapt(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self.jsonb(value)
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def run(self, statement: Any, parameters: dict[str, Any]) -> list[Any]:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = self.psycopg.connect(self.dsn, autocommit=True)
        cursor = connection.execute(
            self._sql(statement, frozenset(parameters)),
            {key: self._adapt(value) for key, value in parameters.items()},
        )
        return cursor.fetchall() if cursor.description is not None else []


statements = (PsycopgStatements if DRIVER == "psycopg" else SqlalchemyStatements)(DATABASE_URL)


def read(token: str) -> operations.Link:
    (row,) = statements.run(READ_LINK, {"token_hash": hash_token(token)})
    return operations._link_of(row)


@app.get("/r/<token>")
def resume(token: str) -> str:
    link = read(token)
    statements.run(operations._STAMP_FIRST_OPENING,
                   {"invitation_id": link.invitation_id, "first_opened_at": utcnow()})
    return recorded("resume", token)


@app.get("/r/<token>/<int:page_index>")
def page(token: str, page_index: int) -> str:
    read(token)
    return recorded(str(page_index), token)


@app.post("/r/<token>/<int:page_index>")
def save(token: str, page_index: int) -> Any:
    link, now = read(token), utcnow()
    values = {"answers": answers_of(request.form), "current_page": page_index + 1,
              "updated_at": now}
    if link.response is None:
        statements.run(INSERT_RESPONSE, {
            **values, "invitation_id": link.invitation_id,
            "questionnaire_version_id": link.questionnaire_version_id, "status": "partial",
            "language": "fr", "revision": 1, "started_at": now,
        })
    else:
        statements.run(UPDATE_RESPONSE, {
            **values, "response_id": link.response.id, "read_revision": link.response.revision,
            "revision": link.response.revision + 1,
        })
    return redirect(next_location(page_index, token), 303)


@app.get("/r/<token>/thanks")
def thanks(token: str) -> str:
    read(token)
    return recorded("thanks", token)
