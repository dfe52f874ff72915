"""Fixtures: a fresh application and database for every test (flaskr style).

The suite runs on SQLite by default and on PostgreSQL when `BAROMETRE_TEST_DATABASE_URL` is set
(`make test` does both when `BAROMETRE_TEST_POSTGRES_URL` is given). The schema is created once
per run by the real Alembic migration; each test then starts from empty tables.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from survey import create_app
from survey.database import upgrade_database
from survey.extensions import db

POSTGRES_URL = os.environ.get("BAROMETRE_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated database for the whole run."""
    if POSTGRES_URL:
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'barometre.db'}"
    app = create_app({"INSTANCE_PATH": str(tmp_path_factory.mktemp("migrate-instance")),
                      "SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    upgrade_database(app)
    with app.app_context():
        db.engine.dispose()
    return url


def empty_all_tables() -> None:
    tables = [table.name for table in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{name}"' for name in tables)
        db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        for name in reversed(tables):
            db.session.execute(text(f'DELETE FROM "{name}"'))
    db.session.commit()
    # An installation has at least one client (the migration creates it): with one, the whole
    # application behaves as before clients existed.
    from survey.models import Client

    db.session.add(Client(slug="default", name="Default"))
    db.session.commit()


def wait_for_jobs(app: Flask) -> int:
    """Run the queued jobs that are due, in this thread, as a worker would (the web process
    never runs them); how many ran."""
    from survey.worker.queue import run_pending_jobs

    return run_pending_jobs(app, worker_id="test")


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def app(database_url: str, instance_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance_path),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "WTF_CSRF_ENABLED": False,
            "BASE_URL": "http://127.0.0.1:5000",
        }
    )
    with app.app_context():
        empty_all_tables()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    from click.testing import CliRunner

    from survey.cli import main

    class BoundRunner:
        """Invokes `barometre` commands against the test application."""

        def invoke(self, args: list[str], input: str | None = None):
            return CliRunner().invoke(main, args, input=input, obj={"app": app})

    return BoundRunner()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """`app` served by a threaded werkzeug server on a free port of 127.0.0.1, with a worker
    thread beside it running the jobs its pages queue (as `serve --with-worker` does); its base
    URL."""
    from survey.worker.queue import run_pending_jobs

    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    stop = threading.Event()

    def work() -> None:
        while not stop.wait(0.2):
            run_pending_jobs(app, worker_id="test-server-worker")

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        stop.set()
        worker.join()
        http.shutdown()
        thread.join()


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """The test's application served over real HTTP (for browsers and concurrent clients)."""
    with serving(app) as base:
        yield base
