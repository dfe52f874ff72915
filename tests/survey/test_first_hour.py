"""What a newcomer meets first: one line that says what to do, never a traceback, and nothing
created behind their back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def barometre(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("BAROMETRE_", "SENDGRID_", "TWILIO_"))}
    environ.update({"BAROMETRE_INSTANCE_PATH": str(tmp_path / "instance"), **env})
    return subprocess.run([sys.executable, "-m", "survey", *args], capture_output=True,
                          text=True, env=environ, cwd=tmp_path, timeout=120, check=False)


def one_line(completed: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["users", "list"], ["campaigns", "status", "x"],
                                     ["send", "--once"], ["purge", "--dry-run"]], ids=" ".join)
def test_a_command_before_db_upgrade_says_so_and_creates_nothing(tmp_path, command) -> None:
    completed = barometre(tmp_path, *command)
    assert completed.returncode == 1
    assert "run `barometre db upgrade` first" in one_line(completed)
    assert not (tmp_path / "instance" / "barometre.db").exists()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens on it once closed


@pytest.mark.parametrize("command", [["users", "list"], ["db", "upgrade"]], ids=" ".join)
def test_an_unreachable_postgresql_is_one_line(tmp_path, command) -> None:
    url = f"postgresql+psycopg://barometre:secret@127.0.0.1:{_closed_port()}/barometre"
    completed = barometre(tmp_path, *command, BAROMETRE_DATABASE_URL=url)
    assert completed.returncode == 1
    line = one_line(completed)
    assert "cannot reach the database" in line and "BAROMETRE_DATABASE_URL" in line
    assert "secret" not in line  # the password is not printed


def test_a_database_at_another_revision_is_one_line(tmp_path) -> None:
    assert barometre(tmp_path, "db", "upgrade").returncode == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "instance" / "barometre.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'older'")
    completed = barometre(tmp_path, "users", "list")
    assert completed.returncode == 1
    assert "is at revision older" in one_line(completed)
    assert "run `barometre db upgrade`" in completed.stderr


def test_demo_on_a_busy_port_says_so_before_seeding(tmp_path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        completed = barometre(tmp_path, "demo", "--port", str(port))
    assert completed.returncode == 2
    line = one_line(completed)
    assert f"port {port} on 127.0.0.1 is already in use" in line
    assert f"--port {port + 1}" in line and f"make demo PORT={port + 1}" in line
    assert "demo ready" not in completed.stdout
    assert not (tmp_path / "instance" / "barometre.db").exists()  # nothing seeded


def test_serve_on_a_busy_port_says_so(tmp_path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        completed = barometre(tmp_path, "serve", "--port", str(port))
    assert completed.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in one_line(completed)


def test_make_demo_passes_the_port_on() -> None:
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")
    completed = subprocess.run(["make", "-n", "-f", "-", "demo", "PORT=5050"], input=makefile,
                               capture_output=True, text=True, check=False,
                               cwd=Path(__file__).resolve().parents[2])
    assert "barometre demo --port 5050" in completed.stdout, completed.stdout + completed.stderr
