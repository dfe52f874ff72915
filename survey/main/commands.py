"""The application as a whole: its database, the demo and the web server."""

from __future__ import annotations

import socket
import sys

import click
from flask import Flask

from survey.commandline import (
    BadInput,
    check_database_reachable,
    check_database_ready,
    get_app,
)


@click.group()
def db() -> None:
    """Create or migrate the database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the database or bring it to the latest revision."""
    from survey.database import current_revision, upgrade_database

    app = get_app()
    check_database_reachable(app)
    upgrade_database(app)
    click.echo(f"database at revision {current_revision(app)}")


@click.command()
@click.option("--no-serve", is_flag=True, help="Seed the demo and stop, without serving it.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--customers", default=6000, show_default=True, type=click.IntRange(500, 200_000),
              help="Size of the demo's customer base.")
def demo(no_serve: bool, host: str, port: int, customers: int) -> None:
    """Create the database, seed the demo and serve it."""
    import os

    from survey.database import upgrade_database
    from survey.demo import seed_demo

    # Before anything is seeded: a taken port found after a minute of seeding wastes it.
    if not no_serve:
        check_port_free(host, port, "barometre demo --port {port} (make demo PORT={port})")
    # The demo's links (test link, outbox messages) must point where it is served.
    os.environ.setdefault("BAROMETRE_BASE_URL", f"http://{host}:{port}")
    app = get_app()
    check_database_reachable(app)
    upgrade_database(app)
    with app.app_context():
        summary = seed_demo(customers=customers)
        _seal_audit_trail(app)
    for line in summary:
        click.echo(line)
    if not no_serve:
        # The demo's imports and reports run in a worker beside the server, as in production.
        _serve_with_worker(app, host, port, workers=2)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--with-worker", is_flag=True, help="Also run one worker (sending, background "
              "jobs and periodic tasks) beside the web server.")
def serve(host: str, port: int, workers: int, with_worker: bool) -> None:
    """Serve the application with gunicorn."""
    check_port_free(host, port, "barometre serve --port {port}")
    check_database_ready(get_app())
    if not with_worker:
        _serve(get_app(), host, port, workers)
        return
    _serve_with_worker(get_app(), host, port, workers)


def _serve_with_worker(app: Flask, host: str, port: int, workers: int) -> None:
    import subprocess

    # The worker runs as its own process: a crash of one never takes the other down, and the
    # web process never runs a job.
    worker = subprocess.Popen([sys.executable, "-m", "survey", "worker"])
    try:
        _serve(app, host, port, workers)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def _seal_audit_trail(app: Flask) -> None:
    """Seal what the seeding recorded: the demo serves without a sender to do it."""
    from survey.audit import seal_pending_events
    from survey.extensions import db as database

    while seal_pending_events(database.session, key=app.config["AUDIT_KEY"],
                              instance_path=app.config["INSTANCE_PATH"]).sealed:
        pass


def check_port_free(host: str, port: int, hint: str) -> None:
    """Exit 2 at once, naming the port, when something already listens on it; `hint` shows how
    to choose another (`{port}` is replaced by a suggestion)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise BadInput(f"--host {host}: not an address of this machine ({exc.strerror})") from None
    with socket.socket(family, kind, proto) as probe:
        # As gunicorn binds: a port left in TIME_WAIT by a server just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise BadInput(
                f"port {port} on {host} is already in use ({exc.strerror}): stop what uses it "
                f"or choose another port, e.g. {hint.format(port=port + 1)}"
            ) from None


def _serve(app: Flask, host: str, port: int, workers: int) -> None:
    from survey.server import run_gunicorn

    click.echo(f"serving on http://{host}:{port}/ (Ctrl-C to stop)")
    run_gunicorn(host=host, port=port, workers=workers)


# Registered on `barometre` by `survey.cli`.
COMMANDS = (db, demo, serve)
