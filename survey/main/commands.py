"""The application as a whole: its database, the demo and the web server."""

from __future__ import annotations

import sys

import click
from flask import Flask

from survey.commandline import get_app


@click.group()
def db() -> None:
    """Create or migrate the database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the database or bring it to the latest revision."""
    from survey.database import current_revision, upgrade_database

    app = get_app()
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

    # The demo's links (test link, outbox messages) must point where it is served.
    os.environ.setdefault("BAROMETRE_BASE_URL", f"http://{host}:{port}")
    app = get_app()
    upgrade_database(app)
    with app.app_context():
        summary = seed_demo(customers=customers)
    for line in summary:
        click.echo(line)
    if not no_serve:
        _serve(app, host, port, workers=2)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--with-worker", is_flag=True, help="Also run the message sender.")
def serve(host: str, port: int, workers: int, with_worker: bool) -> None:
    """Serve the application with gunicorn."""
    if not with_worker:
        _serve(get_app(), host, port, workers)
        return
    import subprocess

    # The sender runs as its own process: a crash of one never takes the other down.
    sender = subprocess.Popen([sys.executable, "-m", "survey", "send"])
    try:
        _serve(get_app(), host, port, workers)
    finally:
        sender.terminate()
        try:
            sender.wait(timeout=30)
        except subprocess.TimeoutExpired:
            sender.kill()


def _serve(app: Flask, host: str, port: int, workers: int) -> None:
    from survey.server import run_gunicorn

    click.echo(f"serving on http://{host}:{port}/ (Ctrl-C to stop)")
    run_gunicorn(host=host, port=port, workers=workers)


# Registered on `barometre` by `survey.cli`.
COMMANDS = (db, demo, serve)
