"""Benchmark of the respondent pages: complete responses through gunicorn, concurrent clients.

For SQLite and for PostgreSQL (when reachable), it migrates a fresh database, seeds an open
campaign on the bundled questionnaire with one invitation per response to drive, starts
gunicorn on 127.0.0.1 with the settings of `barometre serve` (workers, threads: `survey.server`),
and lets concurrent clients answer every page like a browser: GET the page, POST it with its
CSRF token, follow the 303 to the next page, down to the thank-you page. Under the same server
and load it also serves a bare Flask "hello" page, in rounds alternating with the respondents'
(hello, respondents, hello, …, hello; the mean of the hello rounds is the reference), because
this machine's speed drifts within a minute: the ratio of the two request rates is the figure
that travels.

The clients share the machine's cores with the server, so they are kept cheap: one keep-alive
`http.client` connection per client (as a browser keeps its connection), cookies kept by hand,
regular expressions rather than an HTML parser. The hello clients are the same.

Then, unless `--no-floor`, it serves the floor (`respond_floor.py`) the same way: the same
requests and the markup the application sent, with only the fewest database statements such a
request needs, through SQLAlchemy Core (both databases) and through psycopg (PostgreSQL). Its
ratio to the hello page is the most any page built on this stack could reach here, and the
application's ratio divided by the floor's (through SQLAlchemy, the stack the application uses)
says how much of that reach the pages' own work leaves.

Prints, per database: completed responses per second, page requests per second, p50/p95 page
latency, the hello rate and the ratio, and whether the database holds exactly as many complete
responses as the clients completed; then the floor's rates and ratios beside the application's.

    .venv/bin/python bench/bench_respond.py [--quick] [--responses N] [--clients N] [--no-floor]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Targets on the 2-core reference machine: ≥ 40 responses/s, p95 < 150 ms, database count =
completed count, and page rate relative to hello at least 0.6 of the floor's (through
SQLAlchemy). The former "¼ of hello" target is retired: the floor measured on this machine
(0.28–0.48 of hello) showed it was a figure of the machine, not of the pages.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402

from survey.server import GUNICORN_WORKERS, gunicorn_threads  # noqa: E402

SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789abcdef"
ACTION = re.compile(r'<form method="post" action="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
REVISION = re.compile(r'name="_revision" value="(\d+)"')
CHOICE = re.compile(r'name="([a-z_]+)" type="(?:radio|checkbox)" value="([^"]*)"')
TEXT = re.compile(r'<textarea [^>]*name="([a-z_]+)"')

# A bare Flask application for the reference rate (served by the same gunicorn settings).
hello_app = Flask("hello")


@hello_app.get("/")
def hello() -> str:
    return "hello"


# --- answers ---------------------------------------------------------------------------------


def answer_for(name: str, values: list[str], rng: random.Random) -> list[str]:
    """A plausible answer to the field `name` whose options are `values` (none for text)."""
    if name == "channels_used":
        return rng.sample(["phone", "email", "letter", "chat"], rng.randint(1, 3))
    if name == "comment":
        return [rng.choice(["", "Très bien, merci.", "Trop d’attente au téléphone."])]
    if name == "callback":
        return [rng.choice(["no", "no", "no", "yes"])]
    if name == "callback_channel":
        return ["phone"]
    if name == "callback_consent":
        return ["y"]
    if values:
        return [rng.choice(values)]
    return []


def page_answers(html: str, rng: random.Random) -> list[tuple[str, str]]:
    """Answers to the fields the page shows, read in two passes over it (the client shares the
    machine's cores with the server, so it reads as little as a browser would)."""
    options: dict[str, list[str]] = {}
    for name, value in CHOICE.findall(html):
        options.setdefault(name, []).append(value)
    for name in TEXT.findall(html):
        options[name] = []
    pairs: list[tuple[str, str]] = []
    for name, values in options.items():
        if name.startswith("callback_") and ("callback", "yes") not in pairs:
            continue
        pairs.extend((name, value) for value in answer_for(name, values, rng))
    return pairs


# --- clients ---------------------------------------------------------------------------------


class Browser:
    """One client's keep-alive connection and cookies: just what the respondent pages need."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None) -> Reply:
        headers = {"Accept-Language": "fr,en;q=0.5"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                reply = self.connection.getresponse()
                text = reply.read().decode("utf-8")
                break
            except (ConnectionError, http.client.HTTPException):
                # The server closed an idle keep-alive connection: reconnect once, as browsers do.
                self.connection.close()
                if attempt == 2:
                    raise
        for header, value in reply.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return Reply(reply.status, path, text, reply.getheader("Location"))

    def close(self) -> None:
        self.connection.close()


@dataclass
class Reply:
    status: int
    path: str
    text: str
    location: str | None


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    completed: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, call: Callable[[], Reply]) -> Reply:
        started = time.perf_counter()
        reply = call()
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies.append(elapsed)
        return reply


def respond(
    base: str, token: str, load: Load, rng: random.Random, record: dict | None = None
) -> None:
    """Answer every page of one invitation like a browser; count it when thanked.

    With `record`, keep what the server sent, for the floor (`respond_floor`): each page's markup
    under `pages` (its index, `resume` or `thanks`) and where each saved page led under `next`."""
    browser = Browser(base)
    try:
        reply = load.timed(lambda: browser.request("GET", f"/r/{token}"))
        if record is not None:
            record.update(token=token, pages={"resume": reply.text}, next={})
        for _ in range(20):  # more than any questionnaire's pages
            if reply.status != 200:
                load.failures.append(f"{reply.path}: {reply.status}")
                return
            if reply.path.endswith("/thanks"):
                with load.lock:
                    load.completed += 1
                return
            html = reply.text
            action = ACTION.search(html).group(1)
            data = [
                ("csrf_token", CSRF.search(html).group(1)),
                ("_revision", REVISION.search(html).group(1)),
                *page_answers(html, rng),
            ]
            posted = load.timed(lambda: browser.request("POST", action, data))  # noqa: B023
            if posted.status != 303 or posted.location is None:
                load.failures.append(f"{action}: {posted.status} {posted.text[:300]}")
                return
            location = urlsplit(posted.location).path
            reply = load.timed(lambda: browser.request("GET", location))  # noqa: B023
            if record is not None:
                record["next"][action.rsplit("/", 1)[1]] = location
                record["pages"][location.rsplit("/", 1)[1]] = reply.text
        load.failures.append(f"{token}: too many pages")
    finally:
        browser.close()


def drive(base: str, tokens: list[str], clients: int, load: Load) -> float:
    """Answer the invitations of `tokens` with `clients` concurrent clients, into `load`; the
    seconds it took."""
    work: queue.Queue[str] = queue.Queue()
    for token in tokens:
        work.put(token)

    def client(number: int) -> None:
        rng = random.Random(number)
        while True:
            try:
                token = work.get_nowait()
            except queue.Empty:
                return
            try:
                respond(base, token, load, rng)
            except (OSError, http.client.HTTPException) as error:
                load.failures.append(f"{token}: {error!r}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def hammer(base: str, path: str, requests_count: int, clients: int) -> tuple[int, float]:
    """GET `path` `requests_count` times from `clients` threads; (successes, seconds)."""
    remaining = iter(range(requests_count))
    lock = threading.Lock()
    successes = [0]

    def client() -> None:
        browser = Browser(base)
        try:
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return
                if browser.request("GET", path).status == 200:
                    with lock:
                        successes[0] += 1
        finally:
            browser.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return successes[0], time.perf_counter() - started


# --- servers and databases -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(
    app: str, env: dict[str, str], workers: int, threads: int, log: Path, chdir: Path = ROOT
) -> Iterator[str]:
    """Serve `app` on a free port; the server's own lines (one JSON line per request from the
    application) go to `log`, not to the terminal."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
        "--log-level", "warning", "--chdir", str(chdir), app,
    ]
    with log.open("ab") as log_file:
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=log_file)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the workers import the application first
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10):
                    break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str | None]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    name = f"barometre_bench_{os.getpid()}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        print(f"PostgreSQL unreachable at {admin_url}: {error.orig}; skipped")
        yield None
        return
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def seed(env: dict[str, str], responses: int) -> list[str]:
    """Migrate, then an open campaign with `responses` invitations; their link tokens."""
    subprocess.run([sys.executable, "-m", "survey", "db", "upgrade"], env=env, check=True,
                   cwd=ROOT, stdout=subprocess.DEVNULL)
    from survey import create_app
    from survey.campaigns.operations import create_campaign
    from survey.extensions import db
    from survey.models import Invitation
    from survey.tokens import issue_token

    app = create_app({"INSTANCE_PATH": env["BAROMETRE_INSTANCE_PATH"],
                      "SQLALCHEMY_DATABASE_URI": env["BAROMETRE_DATABASE_URL"],
                      "SECRET_KEY": SECRET_KEY})
    tokens = []
    with app.app_context():
        campaign = create_campaign(db.session, "bench", programme="Bench", year=2026,
                                   questionnaire_key="nf-relation-client", actor="bench")
        campaign.status = "open"
        for number in range(responses):
            salt, token, token_hash = issue_token(SECRET_KEY)
            db.session.add(Invitation(campaign=campaign, stratum="A", design_weight=1.0,
                                      token_salt=salt, token_hash=token_hash,
                                      language="fr" if number % 3 else "en"))
            tokens.append(token)
        db.session.commit()
        db.engine.dispose()
    return tokens


def complete_in_database(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM response WHERE status = 'complete'")
        ).scalar_one()
    engine.dispose()
    return count


def run(
    database: str, url: str, responses: int, clients: int, workers: int, threads: int | None,
    rounds: int, floors: tuple[str, ...] = (),
) -> dict:
    """Drive `responses` complete responses (2 of them warm-up) through the application, then as
    many through each floor driver of `floors` (`respond_floor`), each between hello rounds."""
    threads = threads or gunicorn_threads(url or "sqlite")
    with tempfile.TemporaryDirectory(prefix="bench-respond-") as instance:
        log = Path(instance) / "server.log"
        env = {**os.environ, "BAROMETRE_INSTANCE_PATH": instance,
               "BAROMETRE_DATABASE_URL": url or f"sqlite:///{instance}/barometre.db",
               "BAROMETRE_SECRET_KEY": SECRET_KEY, "PYTHONPATH": str(ROOT)}
        tokens = seed(env, responses * (1 + len(floors)) + (1 if floors else 0))
        floor_tokens, tokens = tokens[responses:], tokens[:responses]

        # This machine's speed drifts within a minute, so the reference is taken in rounds that
        # alternate with the respondents' (hello, respondents, hello, …, hello), the hello
        # server up all along (an idle one costs nothing): each respondents' round lies between
        # two hello rounds.
        with gunicorn("bench_respond:hello_app", env, workers, threads, log,
                      chdir=Path(__file__).parent) as hello_base:
            hammer(hello_base, "/", 200, clients)  # warm up both workers

            def alternate(base: str, tokens: list[str]) -> tuple[Load, float, list[float]]:
                respond(base, tokens.pop(), Load(), random.Random(0))  # warm up both workers
                respond(base, tokens.pop(), Load(), random.Random(1))
                load, seconds = Load(), 0.0
                size = -(-len(tokens) // rounds)

                def hello_round() -> float:
                    # As many requests as a respondents' round makes (about 9 a response).
                    ok, elapsed = hammer(hello_base, "/", 9 * size, clients)
                    return ok / elapsed

                hello_rates = [hello_round()]
                for start in range(0, len(tokens), size):
                    seconds += drive(base, tokens[start:start + size], clients, load)
                    hello_rates.append(hello_round())
                return load, seconds, hello_rates

            recorded: dict = {}
            with gunicorn("survey.wsgi:app", env, workers, threads, log) as base:
                load, seconds, hello_rates = alternate(base, tokens)
                if floors:
                    respond(base, floor_tokens.pop(), Load(), random.Random(2), recorded)
            floor_results = []
            if floors:
                pages = Path(instance) / "floor-pages.json"
                pages.write_text(json.dumps(recorded), encoding="utf-8")
            for number, driver in enumerate(floors):
                floor_env = {**env, "BENCH_FLOOR_PAGES": str(pages), "BENCH_FLOOR_DRIVER": driver}
                # A log of its own: the application's failures are read from its log.
                floor_log = Path(instance) / f"floor-{driver}.log"
                with gunicorn("respond_floor:app", floor_env, workers, threads, floor_log,
                              chdir=Path(__file__).parent) as floor_base:
                    chunk = floor_tokens[number * responses:(number + 1) * responses]
                    floor_load, floor_seconds, floor_hello = alternate(floor_base, chunk)
                tracebacks = floor_log.read_text(errors="replace").count("Traceback")
                floor_results.append({
                    "driver": driver,
                    "pages_per_s": len(floor_load.latencies) / floor_seconds,
                    "hello_per_s": statistics.fmean(floor_hello),
                    "failures": floor_load.failures
                    + ([f"{tracebacks} tracebacks in {floor_log.name}"] if tracebacks else []),
                })
        in_database = complete_in_database(env["BAROMETRE_DATABASE_URL"]) - 2 - (
            1 if floors else 0
        )
        requests_made = len(load.latencies)
        errors = [line for line in log.read_text(errors="replace").splitlines()
                  if '"level": "error"' in line or "Traceback" in line]
    latencies = sorted(load.latencies)
    return {
        "database": database,
        "responses": len(tokens),
        "completed": load.completed,
        "in_database": in_database,
        "failures": load.failures + errors[:5],
        "seconds": seconds,
        "responses_per_s": load.completed / seconds,
        "pages_per_s": requests_made / seconds,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "hello_per_s": statistics.fmean(hello_rates),
        "hello_rates": hello_rates,
        "server": f"{workers}×{threads}",
        "floors": floor_results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run (60 responses)")
    parser.add_argument("--responses", type=int, default=600)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=GUNICORN_WORKERS)
    parser.add_argument("--threads", type=int,
                        help="threads per worker (default: as `barometre serve` for the database)")
    parser.add_argument("--postgres-url",
                        default=os.environ.get("BAROMETRE_BENCH_POSTGRES_URL",
                                               "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--rounds", type=int, default=3,
                        help="respondents' rounds, each between two rounds of hello")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-floor", dest="floor", action="store_false",
                        help="skip the floor (bench/respond_floor.py): the same requests and "
                             "markup with the fewest statements and nothing else, through "
                             "SQLAlchemy and through psycopg")
    args = parser.parse_args()
    responses = 60 if args.quick else args.responses

    server = (args.clients, args.workers, args.threads, args.rounds)
    results = [run("sqlite", "", responses + 2, *server,
                   floors=("sqlalchemy",) if args.floor else ())]
    if not args.no_postgres:
        with postgres_database(args.postgres_url) as url:
            if url:
                results.append(run("postgresql", url, responses + 2, *server,
                                   floors=("sqlalchemy", "psycopg") if args.floor else ()))

    print("\nrespondent pages under gunicorn (gthread, workers × threads as shown), "
          f"{args.clients} concurrent clients, {os.cpu_count()} CPUs")
    header = (f"{'database':<11}{'server':>7}{'done':>6}{'in db':>7}{'resp/s':>9}{'pages/s':>9}"
              f"{'p50 ms':>8}{'p95 ms':>8}{'hello/s':>9}{'ratio':>7}")
    print(header)
    for r in results:
        print(f"{r['database']:<11}{r['server']:>7}{r['completed']:>6}{r['in_database']:>7}"
              f"{r['responses_per_s']:>9.1f}{r['pages_per_s']:>9.0f}{r['p50_ms']:>8.1f}"
              f"{r['p95_ms']:>8.1f}{r['hello_per_s']:>9.0f}"
              f"{r['pages_per_s'] / r['hello_per_s']:>7.2f}")
        rates = ", ".join(f"{rate:.0f}" for rate in r["hello_rates"])
        print(f"{'':<11}hello rounds around the respondents' rounds: {rates} /s")
        for failure in r["failures"][:5]:
            print(f"  failure: {failure}")
    if args.floor:
        print("\nthe floor: the same requests and markup, the fewest statements, nothing else "
              "(bench/respond_floor.py)")
        print(f"{'database':<11}{'driver':<12}{'pages/s':>9}{'hello/s':>9}{'ratio':>7}"
              f"{'application':>13}{'app / floor':>13}")
        for r in results:
            for floor in r["floors"]:
                print(f"{r['database']:<11}{floor['driver']:<12}{floor['pages_per_s']:>9.0f}"
                      f"{floor['hello_per_s']:>9.0f}"
                      f"{floor['pages_per_s'] / floor['hello_per_s']:>7.2f}"
                      f"{r['pages_per_s'] / r['hello_per_s']:>13.2f}"
                      f"{to_floor(r, floor):>13.2f}")
                for failure in floor["failures"][:5]:
                    print(f"  failure: {failure}")
    for r in results:
        sqlalchemy_floor = next((f for f in r["floors"] if f["driver"] == "sqlalchemy"), None)
        checks = {
            "≥ 40 responses/s": r["responses_per_s"] >= 40,
            "p95 < 150 ms": r["p95_ms"] < 150,
            **({f"pages ≥ 0.6 of the floor ({to_floor(r, sqlalchemy_floor):.2f})":
                to_floor(r, sqlalchemy_floor) >= 0.6} if sqlalchemy_floor else {}),
            "database count = completed": r["in_database"] == r["completed"],
            "no failed response": not r["failures"],
        }
        print(f"{r['database']}: " + ", ".join(
            f"{name} {'yes' if ok else 'NO'}" for name, ok in checks.items()))


def to_floor(result: dict, floor: dict) -> float:
    """The application's rate relative to hello, as a share of the floor's relative to its own
    hello rounds: each is measured against the hello rounds around it, so the machine's drift
    between the two runs cancels out."""
    return (result["pages_per_s"] / result["hello_per_s"]) / (
        floor["pages_per_s"] / floor["hello_per_s"])


if __name__ == "__main__":
    main()
