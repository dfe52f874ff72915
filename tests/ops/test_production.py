"""The README's production section, followed on this machine: PostgreSQL, the environment file,
`barometre db upgrade`, the first account, the two services as their systemd units start them,
then `/healthz`, a login through the HTTPS proxy's headers, a backup and an upgrade.

The environment file and the `ExecStart` lines are read from README.md itself, so that the
documentation cannot drift from what works. Only what cannot be done here is replaced: the
database URL (a fresh database over TCP instead of the local socket and its peer
authentication), the instance folder, the port, and the providers' hosts (127.0.0.1, where
nothing listens: nothing leaves this machine).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from survey import PROJECT_ROOT

ADMIN_URL = os.environ.get("BAROMETRE_TEST_POSTGRES_ADMIN_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BIN = Path(sys.executable).parent


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not postgres_reachable(), reason="no PostgreSQL on 127.0.0.1:5432"),
]


def production_section() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Production", 1)[1].split("\n## ", 1)[0]


def documented_environment(section: str) -> dict[str, str]:
    block = re.search(r"```sh\n# /etc/barometre/barometre.env\n(.*?)```", section, re.S)
    assert block, "the README shows the environment file"
    pairs = (line.split("=", 1) for line in block.group(1).splitlines()
             if line.strip() and not line.startswith("#"))
    return dict(pairs)


def documented_exec_start(section: str, unit: str) -> list[str]:
    block = re.search(rf"# /etc/systemd/system/{unit}\n(.*?)```", section, re.S)
    assert block, f"the README shows {unit}"
    command = re.search(r"^ExecStart=(.*)$", block.group(1), re.M).group(1)
    argv = shlex.split(command)
    assert argv[0] == "/usr/local/bin/barometre"
    return [str(BIN / "barometre"), *argv[1:]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database():
    name = f"barometre_prod_{secrets.token_hex(4)}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(ADMIN_URL).set(database=name)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def wait_healthy(base: str, processes: list[subprocess.Popen], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        for process in processes:
            assert process.poll() is None, f"{process.args} stopped: {process.returncode}"
        try:
            answer = requests.get(f"{base}/healthz", timeout=5)
            body = answer.json()
            if answer.status_code == 200 and body["checks"]["sender"]["state"] == "running":
                return body
        except (requests.ConnectionError, ValueError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"not healthy within {timeout} s: {body}")


def session_cookie_of(answer: requests.Response) -> str:
    (header,) = [header for header in answer.raw.headers.getlist("Set-Cookie")
                 if header.startswith("session=")]
    assert "Secure" in header and "HttpOnly" in header, header
    return header.split(";", 1)[0]


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)  # what systemd sends
    try:
        _, errors = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, errors = process.communicate()
        raise AssertionError(f"{process.args} did not stop on SIGTERM") from None
    return errors


def test_the_readme_production_steps_work_on_a_fresh_database(database, tmp_path):
    section = production_section()
    documented = documented_environment(section)
    assert make_url(documented["BAROMETRE_DATABASE_URL"]).drivername == "postgresql+psycopg"
    assert len(documented["BAROMETRE_SECRET_KEY"]) >= 32

    env = {key: value for key, value in os.environ.items() if not key.startswith("BAROMETRE_")}
    env.update(documented)
    env.update({
        "BAROMETRE_DATABASE_URL": database.render_as_string(hide_password=False),
        "BAROMETRE_INSTANCE_PATH": str(tmp_path / "var-lib-barometre"),
        "BAROMETRE_SENDGRID_HOST": "http://127.0.0.1:9",
        "BAROMETRE_TWILIO_BASE_URL": "http://127.0.0.1:9",
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    })

    # 4. Schema and first account.
    admin_email = re.search(r"barometre users create (\S+) --role admin", section).group(1)
    assert "database at revision" in run([str(BIN / "barometre"), "db", "upgrade"], env)
    password = "a-long-password-for-the-admin"
    run([str(BIN / "barometre"), "users", "create", admin_email, "--role", "admin"], env,
        stdin=password + "\n")

    # 5. The two services, as their units start them.
    port = free_port()
    web_argv = documented_exec_start(section, "barometre-web.service")
    web_argv[web_argv.index("--port") + 1] = str(port)
    sender_argv = documented_exec_start(section, "barometre-worker.service")
    web = subprocess.Popen(web_argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    sender = subprocess.Popen(sender_argv, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        # 8. Health.
        health = wait_healthy(base, [web, sender])
        assert health["status"] == "ok"
        assert health["checks"]["migrations"]["ok"] is True

        # 6. Behind nginx: the proxy says the scheme was HTTPS; forms must still work.
        proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
        login_page = requests.get(f"{base}/login", headers=proxied, timeout=10)
        assert login_page.status_code == 200
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                          r'value="([^"]+)"[^>]*name="csrf_token"', login_page.text)
        csrf = next(group for group in token.groups() if group)
        # BASE_URL is https: cookies are Secure, which `requests` keeps off plain HTTP; send
        # them by hand as the browser does over the proxy's HTTPS.
        cookie = session_cookie_of(login_page)
        signed_in = requests.post(
            f"{base}/login", headers={**proxied, "Cookie": cookie}, allow_redirects=False,
            data={"csrf_token": csrf, "email": admin_email, "password": password}, timeout=10)
        assert signed_in.status_code in (302, 303), signed_in.text[:500]
        session_cookie = session_cookie_of(signed_in)
        home = requests.get(f"{base}/", headers={**proxied, "Cookie": session_cookie},
                            timeout=10)
        assert admin_email in home.text
    finally:
        web_log = stop(web)
        sender_log = stop(sender)

    # One JSON line per request, without the session or the password.
    lines = [json.loads(line) for line in web_log.splitlines() if line.startswith("{")]
    requests_logged = [line for line in lines if line.get("event") == "request"]
    assert {"/healthz", "/login", "/"} <= {line["path"] for line in requests_logged}
    assert password not in web_log and csrf not in web_log
    assert "started" in sender_log

    # 9. Backup: the documented pg_dump, against this database.
    dump = tmp_path / "barometre.dump"
    url = database
    run(["pg_dump", "--format=custom", f"--file={dump}", "-h", url.host, "-p", str(url.port),
         "-U", url.username, url.database], env)
    assert dump.read_bytes()[:5] == b"PGDMP"

    # 10. Upgrade: migrating a current database again changes nothing and says so.
    assert "database at revision" in run([str(BIN / "barometre"), "db", "upgrade"], env)


def test_serve_with_worker_runs_the_sender_beside_gunicorn_and_stops_both(tmp_path):
    """The single-unit set-up of a small centre: `barometre serve --with-worker`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BAROMETRE_")}
    env.update({"BAROMETRE_INSTANCE_PATH": str(tmp_path / "instance"),
                "BAROMETRE_SECRET_KEY": "s" * 48})
    run([str(BIN / "barometre"), "db", "upgrade"], env)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "barometre"), "serve", "--port", str(port), "--workers", "1", "--with-worker"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        health = wait_healthy(f"http://127.0.0.1:{port}", [server])
        assert health["checks"]["sender"]["heartbeat_age_seconds"] is not None
        children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True,
                                  text=True, check=False).stdout.split()
        assert len(children) >= 2  # gunicorn's worker and the sender
    finally:
        errors = stop(server)
    assert "worker" in errors and "started" in errors
    # Nothing outlives `serve`: neither gunicorn's workers nor the sender.
    for pid in children:
        assert not Path(f"/proc/{pid}").exists(), f"process {pid} outlived barometre serve"
