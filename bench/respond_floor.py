"""The floor under the respondent pages, for `bench_respond.py --floor`.

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

`BENCH_FLOOR_DRIVER` chooses how the statements run:
- `sqlalchemy`: `survey.respond.operations`' own statements where it has them, through
  SQLAlchemy Core, with the application's engine events, each statement on its own
  (`survey.database.autocommit_connection`);
- `psycopg`: the same statements through psycopg directly, as plain SQL (the link's read
  compiled once from SQLAlchemy's), PostgreSQL only: what SQLAlchemy itself costs.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, redirect, request
from sqlalchemy import Connection, bindparam, create_engine, insert, update

from survey.extensions import AUTOCOMMIT_OPTION
from survey.models import Response
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

app = Flask("respond_floor")


def recorded(key: str, token: str) -> str:
    return RECORDED["pages"][key].replace(RECORDED["token"], token)


def next_location(page_index: int, token: str) -> str:
    return RECORDED["next"][str(page_index)].replace(RECORDED["token"], token)


def answers_of(form: Any) -> dict[str, list[str]]:
    return {name: form.getlist(name) for name in form if name not in ("csrf_token", "_revision")}


class SqlalchemyStatements:
    """The statements through SQLAlchemy Core."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.options: dict[str, Any] = {AUTOCOMMIT_OPTION: True}
        if self.engine.dialect.name == "postgresql":
            self.options["isolation_level"] = "AUTOCOMMIT"

    def _autocommit(self) -> Connection:
        return self.engine.connect().execution_options(**self.options)

    def read(self, token: str) -> int:
        with self._autocommit() as connection:
            link = operations.read_link(connection, token)
        return link.invitation_id

    def stamp_first_opening(self, invitation_id: int) -> None:
        with self._autocommit() as connection:
            operations.record_first_open(connection, invitation_id)

    def save(self, token: str, page_index: int, answers: dict[str, list[str]]) -> None:
        now = datetime.now(UTC)
        with self._autocommit() as connection:
            link = operations.read_link(connection, token)
            if link.response is None:
                connection.execute(INSERT_RESPONSE, {
                    "invitation_id": link.invitation_id,
                    "questionnaire_version_id": link.questionnaire_version_id,
                    "answers": answers, "current_page": page_index + 1, "status": "partial",
                    "language": "fr", "revision": 1, "started_at": now, "updated_at": now,
                })
            else:
                connection.execute(UPDATE_RESPONSE, {
                    "response_id": link.response.id, "read_revision": link.response.revision,
                    "answers": answers,
                    "revision": link.response.revision + 1, "current_page": page_index + 1,
                    "updated_at": now,
                })


class PsycopgStatements:
    """The same statements through psycopg, one connection per server thread."""

    def __init__(self, url: str) -> None:
        import psycopg
        from psycopg.types.json import Jsonb
        from sqlalchemy.dialects import postgresql

        dialect = postgresql.dialect(paramstyle="pyformat")

        def sql(statement: Any) -> str:
            return str(statement.compile(dialect=dialect))

        self.psycopg, self.jsonb = psycopg, Jsonb
        self.dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.local = threading.local()
        self.read_sql = sql(operations._link_statement(False))
        self.first_open_sql = (
            "UPDATE invitation SET first_opened_at = %(now)s "
            "WHERE id = %(invitation_id)s AND first_opened_at IS NULL"
        )
        self.insert_sql = (
            "INSERT INTO response (invitation_id, questionnaire_version_id, answers, current_page,"
            " status, language, revision, started_at, updated_at) VALUES (%(invitation_id)s,"
            " %(version_id)s, %(answers)s, %(page)s, 'partial', 'fr', 1, %(now)s, %(now)s)"
        )
        self.update_sql = (
            "UPDATE response SET answers = %(answers)s, revision = %(revision)s,"
            " current_page = %(page)s, updated_at = %(now)s"
            " WHERE id = %(response_id)s AND revision = %(read_revision)s"
        )

    def _connection(self) -> Any:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = self.psycopg.connect(self.dsn, autocommit=True)
        return connection

    def _read(self, token: str) -> Any:
        return self._connection().execute(
            self.read_sql, {"token_hash": hash_token(token)}
        ).fetchone()

    def read(self, token: str) -> int:
        return self._read(token)[0]

    def stamp_first_opening(self, invitation_id: int) -> None:
        self._connection().execute(
            self.first_open_sql, {"invitation_id": invitation_id, "now": datetime.now(UTC)}
        )

    def save(self, token: str, page_index: int, answers: dict[str, list[str]]) -> None:
        # The link's columns, then the response's (`operations._link_statement`).
        link = self._read(token)
        invitation_id, version_id, response_id, revision = link[0], link[8], link[10], link[12]
        values = {"answers": self.jsonb(answers), "page": page_index + 1, "now": datetime.now(UTC)}
        if response_id is None:
            self._connection().execute(self.insert_sql, {
                **values, "invitation_id": invitation_id, "version_id": version_id,
            })
        else:
            self._connection().execute(self.update_sql, {
                **values, "response_id": response_id, "read_revision": revision,
                "revision": revision + 1,
            })


statements = (PsycopgStatements if DRIVER == "psycopg" else SqlalchemyStatements)(DATABASE_URL)


@app.get("/r/<token>")
def resume(token: str) -> str:
    statements.stamp_first_opening(statements.read(token))
    return recorded("resume", token)


@app.get("/r/<token>/<int:page_index>")
def page(token: str, page_index: int) -> str:
    statements.read(token)
    return recorded(str(page_index), token)


@app.post("/r/<token>/<int:page_index>")
def save(token: str, page_index: int) -> Any:
    statements.save(token, page_index, answers_of(request.form))
    return redirect(next_location(page_index, token), 303)


@app.get("/r/<token>/thanks")
def thanks(token: str) -> str:
    statements.read(token)
    return recorded("thanks", token)
