"""The drill: a whole campaign on PostgreSQL, under load and faults, checked end to end.

What a centre's operator would fear in a real year, played in a few minutes on one machine:

1. a fresh PostgreSQL database migrated with `barometre db upgrade`; 50,000 customers imported
   with `barometre customers import` (about one in ten has a mobile number and no email); an
   email and SMS campaign created, planned and drawn (5,000 invitations, about 470 of them by
   SMS) with the command line; some sampled customers opt out between the draw and the launch;
2. the topology of several machines on one host: two web servers (`barometre serve`, each
   with its own instance folder, one PostgreSQL, `BAROMETRE_TRUSTED_PROXIES=1` and the
   `X-Forwarded-For` a proxy would set) and two workers (`barometre worker`: sending, jobs,
   schedule), the fake SendGrid and fake Twilio of the test suite answering 429 and 500 on a
   fraction of calls and 400 to a few bad addresses and numbers; one worker is killed with
   `kill -9` in the middle of a sending batch and restarted; the SMS window is opened to the
   whole week (`BAROMETRE_SMS_HOURS=00:00-24:00`, `BAROMETRE_SMS_DAYS=mon-sun`,
   `BAROMETRE_SMS_HOLIDAYS=none`) so that the drill passes at any hour;
3. SendGrid's signed event webhook posting deliveries, bounces and unsubscriptions (one post
   twice, as providers do), and Twilio's signed status callbacks (delivered, undelivered,
   failed; one twice); a reminder wave queued by the workers' scheduler (the 7-day delay
   compressed to none);
4. 1,500 customers answering over HTTP from concurrent clients, some abandoning and resuming
   later, some double-submitting, some abandoning for good;
5. fieldwork closed by the scheduler once its end date has passed; `report`, `export`, then
   `barometre analyze` on the export and `barometre audit verify`; a report generated from the
   web, its worker killed with `kill -9` in the middle of the job, the job taken over by the
   other worker; bad links and failed logins alternating between the two web servers.

It then checks, prints a summary table, and exits 1 if a check fails:

- per channel (email, SMS): invitations sent = sampled − suppressed − failed, and no customer
  invited twice except within the bound: one SendGrid batch, one SMS per killed worker;
- every job done exactly once (the killed report job taken over and stored once), every
  reminder sent once, fieldwork closed by the scheduler, the throttles' limits held across
  both web servers;
- the status callbacks' outcomes are on the SMS messages (undelivered, failed after sending);
- complete responses in the database = responses the clients completed, one per invitation;
- no reminder reached a customer who had completed, bounced or opted out before it was queued;
- the report's numbers = `barometre analyze` on the export (same data SHA-256);
- the audit chain verifies; the logs hold neither a respondent's token nor an address.

    .venv/bin/python bench/drill.py [--quick | --ci] [--keep] [--admin-url URL]

`make drill` runs the full sizes; `.ci/run` runs `make drill CI_DRILL=1` (two fifths) after
`make test`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_respond import ACTION, CSRF, REVISION, Browser, free_port, page_answers  # noqa: E402
from tests.distribution.fakes import FakeSendGrid, FakeTwilio, Reply  # noqa: E402

BIN = Path(sys.executable).parent
SECRET_KEY = "drill-secret-key-that-is-long-enough-0123456789abcdef"
SLUG = "drill-2026"
TWILIO_ACCOUNT = "AC" + "d" * 32
TWILIO_TOKEN = "drill-twilio-auth-token"
TWILIO_FROM = "+33700000000"
LINK_IN_SMS = re.compile(r"https?://\S+/r/\S+")
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Sizes:
    customers: int
    margin: float  # chosen so that the plan asks for about `invitations`
    invitations: int
    respondents: int  # who complete (some of them after abandoning)
    abandoners: int  # who leave for good after the first page
    opted_out_before_launch: int
    bad_addresses: int
    sms_opted_out_before_launch: int
    bad_phones: int
    batch_size: int
    clients: int


FULL = Sizes(customers=50_000, margin=0.0249, invitations=5_000, respondents=1_500,
             abandoners=100, opted_out_before_launch=40, bad_addresses=12,
             sms_opted_out_before_launch=8, bad_phones=4, batch_size=250, clients=16)
# What CI runs (`.ci/run`): big enough for batches, kills and a report job to overlap, small
# enough to keep CI's whole run under its limit.
CI = Sizes(customers=20_000, margin=0.0394, invitations=2_000, respondents=600, abandoners=40,
           opted_out_before_launch=16, bad_addresses=6, sms_opted_out_before_launch=4,
           bad_phones=2, batch_size=100, clients=12)
QUICK = Sizes(customers=5_000, margin=0.0787, invitations=600, respondents=150, abandoners=15,
              opted_out_before_launch=8, bad_addresses=3, sms_opted_out_before_launch=2,
              bad_phones=1, batch_size=50, clients=8)


# --- the provider, with faults -----------------------------------------------------------------


def set_up_faults(
    fake: Any, rate_limited: float, server_error: float, latency: float, seed: int
) -> None:
    """The fault plan of a faulty fake provider: seeded shares of 429 and 500, numbers or
    addresses refused with 400 (`bad`), the latency of a distant provider, faults counted."""
    fake.rng = random.Random(seed)
    fake.rate_limited_share = rate_limited
    fake.server_error_share = server_error
    fake.latency = latency
    fake.bad = set()
    fake.faults = Counter()
    # A sender killed with -9 resets its connection: expected here, not worth a traceback.
    fake.httpd.handle_error = lambda request, client_address: None


class FaultySendGrid(FakeSendGrid):
    """The suite's fake SendGrid, answering 429 or 500 to a fraction of calls (seeded), 400 to
    any request holding one of `bad` addresses (the backend splits the batch until the culprit
    stands alone), and taking `latency` seconds per call like a distant provider."""

    def __init__(self, *, rate_limited: float, server_error: float, latency: float,
                 seed: int = 2026) -> None:
        super().__init__()
        set_up_faults(self, rate_limited, server_error, latency, seed)

    def next_reply(self) -> Reply:
        with self.lock:
            draw = self.rng.random()
        if draw < self.rate_limited_share:
            reply = self.rate_limited(reset_in=1.0)
        elif draw < self.rate_limited_share + self.server_error_share:
            reply = Reply(500, {}, {"errors": [{"message": "internal error"}]})
        else:
            return Reply(202, {}, None, self.latency)
        with self.lock:
            self.faults[reply.status] += 1
        return reply

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        body = json.loads(raw or b"{}")
        addresses = {p["to"][0]["email"] for p in body.get("personalizations", [])}
        if addresses & self.bad:
            with self.lock:
                self.requests.append({"path": path, "headers": headers, "body": body,
                                      "status": 400})
                self.faults[400] += 1
            return self.bad_request()
        return super().handle(path, headers, raw)

    def links(self) -> dict[int, tuple[str, str]]:
        """message id → (personal link's path, address), for every accepted personalization."""
        found = {}
        with self.lock:
            for request in self.requests:
                if request["status"] != 202:
                    continue
                for item in request["body"].get("personalizations", []):
                    message_id = int(item["custom_args"]["barometre_message_id"])
                    link = urlsplit(item["substitutions"]["%%link%%"]).path
                    found[message_id] = (link, item["to"][0]["email"])
        return found


class FaultyTwilio(FakeTwilio):
    """The suite's fake Twilio, answering 429 (Twilio's 20429) or 500 to a fraction of calls
    (seeded), 400 with error 21211 to any number of `bad`, and taking `latency` seconds per SMS.
    `accepted` lists (sid, number, personal link's path) of every 201-answered SMS, in order."""

    def __init__(self, *, rate_limited: float, server_error: float, latency: float,
                 seed: int = 2027) -> None:
        super().__init__()
        set_up_faults(self, rate_limited, server_error, latency, seed)
        self.accepted: list[tuple[str, str, str]] = []

    def next_reply(self) -> Reply:
        with self.lock:
            draw = self.rng.random()
        if draw < self.rate_limited_share:
            reply = self.error(429, 20429, "Too Many Requests")
        elif draw < self.rate_limited_share + self.server_error_share:
            reply = self.error(500, 20500, "Internal Server Error")
        else:
            return Reply(201, {}, None, self.latency)
        with self.lock:
            self.faults[reply.status] += 1
        return reply

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        from urllib.parse import parse_qs

        form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
        if form.get("To") in self.bad:
            with self.lock:
                self.requests.append({"path": path, "headers": headers, "form": form,
                                      "status": 400})
                self.faults[400] += 1
            return self.error(400, 21211, "The 'To' number is not a valid phone number.")
        reply = super().handle(path, headers, raw)
        if reply.status == 201:
            link = LINK_IN_SMS.search(form.get("Body", ""))
            with self.lock:
                self.accepted.append((reply.body["sid"], form["To"],
                                      urlsplit(link.group(0)).path if link else ""))
        return reply


# --- the run's bookkeeping -----------------------------------------------------------------------


@dataclass
class Drill:
    sizes: Sizes
    folder: Path
    env: dict[str, str]
    started: float = field(default_factory=time.perf_counter)
    steps: list[tuple[str, float, str]] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)  # of the respondents, sought in the logs
    by_channel: list[dict] = field(default_factory=list)  # the invitations' table, per channel
    # (sid, number, link) of the SMS invitations the fake Twilio accepted, before any reminder
    sms_invitations_accepted: list[tuple[str, str, str]] = field(default_factory=list)
    planted_sms: dict[str, int] = field(default_factory=dict)  # status callbacks' outcomes
    kills: int = 0  # workers killed with -9 during sending

    @contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        """Time a step; the caller may append one line of detail."""
        detail: list[str] = []
        began = time.perf_counter()
        print(f"-- {name}", flush=True)
        yield detail
        elapsed = time.perf_counter() - began
        self.steps.append((name, elapsed, "; ".join(detail)))
        print(f"   {elapsed:.1f} s  {'; '.join(detail)}", flush=True)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append((name, bool(ok), detail))

    def barometre(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([str(BIN / "barometre"), *args], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"barometre {' '.join(args)} exited {done.returncode}:\n"
                               f"{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, name: str, *args: str, **env: str) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("ab")
        process = subprocess.Popen([str(BIN / "barometre"), *args], env={**self.env, **env},
                                   stdout=log, stderr=log)
        self.processes[name] = process
        return process

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


# --- the database --------------------------------------------------------------------------------


@contextmanager
def fresh_database(admin_url: str, keep: bool) -> Iterator[str]:
    from sqlalchemy import create_engine, make_url, text

    name = f"barometre_drill_{os.getpid()}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"database kept: {name}")
        else:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def application(drill: Drill):  # noqa: ANN201 - a Flask app, imported late
    from survey import create_app
    from survey.config import sms_window_from_environment

    # The drill's own reminders follow the processes' SMS window, not this shell's.
    return create_app({"INSTANCE_PATH": drill.env["BAROMETRE_INSTANCE_PATH"],
                       "SQLALCHEMY_DATABASE_URI": drill.env["BAROMETRE_DATABASE_URL"],
                       "SECRET_KEY": SECRET_KEY,
                       "SMS_WINDOW": sms_window_from_environment(drill.env)})


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               every: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


# --- respondents ---------------------------------------------------------------------------------


@dataclass
class Crowd:
    completed: set[str] = field(default_factory=set)  # tokens thanked
    abandoned: set[str] = field(default_factory=set)
    double_submits: int = 0
    duplicate_answers: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    pages: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def answer(base: str, link: str, crowd: Crowd, rng: random.Random, *, stop_after: int | None,
           double_submit: bool) -> None:
    """One customer's visit: pages answered like a browser, down to the thank-you page, or
    leaving after `stop_after` pages. A double-submitter sends the last page twice at once."""
    browser = Browser(base)
    try:
        reply = browser.request("GET", link)
        for answered in range(20):
            if reply.status != 200:
                crowd.failures.append(f"GET {reply.path}: {reply.status}")
                return
            if reply.path.endswith("/thanks"):
                with crowd.lock:
                    crowd.completed.add(link)
                return
            if stop_after is not None and answered >= stop_after:
                with crowd.lock:
                    crowd.abandoned.add(link)
                return
            html = reply.text
            action = ACTION.search(html).group(1)
            data = [("csrf_token", CSRF.search(html).group(1)),
                    ("_revision", REVISION.search(html).group(1)), *page_answers(html, rng)]
            last_page = "callback" in html
            if double_submit and last_page:
                posted = double_post(browser, base, action, data, crowd)
            else:
                posted = browser.request("POST", action, data)
            with crowd.lock:
                crowd.pages += 1
            if posted.status != 303 or posted.location is None:
                crowd.failures.append(f"POST {action}: {posted.status} {posted.text[:200]}")
                return
            reply = browser.request("GET", urlsplit(posted.location).path)
        crowd.failures.append(f"{link}: too many pages")
    finally:
        browser.close()


def double_post(browser: Browser, base: str, action: str, data: list, crowd: Crowd):  # noqa: ANN201
    """Two clicks on "Send": the same form on two connections at once, with the same cookies."""
    twin = Browser(base)
    twin.cookies = dict(browser.cookies)
    replies: list = []
    thread = threading.Thread(target=lambda: replies.append(twin.request("POST", action, data)))
    thread.start()
    mine = browser.request("POST", action, data)
    thread.join()
    twin.close()
    with crowd.lock:
        crowd.double_submits += 1
    # The browser shows whichever answer arrives last; either must lead to the thank-you page.
    return mine if mine.status == 303 else replies[0]


def crowd_answers(base: str, visits: list[tuple[str, int | None, bool]], clients: int,
                  crowd: Crowd, seed: int) -> None:
    work: queue.Queue = queue.Queue()
    for visit in visits:
        work.put(visit)

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        while True:
            try:
                link, stop_after, double = work.get_nowait()
            except queue.Empty:
                return
            try:
                answer(base, link, crowd, rng, stop_after=stop_after, double_submit=double)
            except Exception as error:  # noqa: BLE001 - counted as a failure of the run
                crowd.failures.append(f"{link[:6]}…: {error!r}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# --- a manager in the browser --------------------------------------------------------------------

MANAGER = ("manager@centre.example", "a-long-password-for-the-drill")


def manager_session(base: str) -> Browser:
    browser = Browser(base)
    page = browser.request("GET", "/login")
    signed_in = browser.request("POST", "/login", [
        ("csrf_token", CSRF.search(page.text).group(1)),
        ("email", MANAGER[0]), ("password", MANAGER[1])])
    if signed_in.status not in (302, 303):
        raise RuntimeError(f"the manager could not sign in: {signed_in.status}")
    return browser


def upload(browser: Browser, path: str, fields: list[tuple[str, str]], name: str,
           filename: str, content: bytes) -> tuple[int, str, str | None]:
    """A multipart form post, as the browser sends a file input."""
    boundary = f"drill{random.getrandbits(64):x}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
             f"{value}\r\n".encode() for key, value in fields]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                 f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
                 + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}",
               "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())}
    browser.connection.request("POST", path, body=body, headers=headers)
    reply = browser.connection.getresponse()
    return reply.status, reply.read().decode("utf-8", errors="replace"), \
        reply.getheader("Location")


def follow_job(browser: Browser, location: str | None, timeout: float = 120) -> str:
    """The page a redirect leads to; a background job's page is read again until the job has
    ended (its page no longer shows a running job), at most `timeout` seconds."""
    if not location:
        return ""
    path = urlsplit(location).path
    deadline = time.monotonic() + timeout
    while True:
        page = browser.request("GET", path)
        if "data-job-running" not in page.text or time.monotonic() > deadline:
            return page.text
        time.sleep(0.5)


# --- webhooks ------------------------------------------------------------------------------------


def signed_webhook(base: str, key, events: list[dict]) -> int:  # noqa: ANN001
    import http.client

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    payload = json.dumps(events)
    timestamp = str(int(time.time()))
    signature = key.sign((timestamp + payload).encode(), ec.ECDSA(hashes.SHA256()))
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    connection.request("POST", "/webhooks/sendgrid", body=payload, headers={
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp})
    status = connection.getresponse().status
    connection.close()
    return status


def twilio_callback(base: str, params: dict[str, str]) -> int:
    """One status callback, form-encoded and signed as Twilio signs it (X-Twilio-Signature)."""
    import http.client
    from urllib.parse import urlencode

    from twilio.request_validator import RequestValidator

    url = f"{base}/webhooks/twilio"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    connection.request("POST", "/webhooks/twilio", body=urlencode(params), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    status = connection.getresponse().status
    connection.close()
    return status


# --- the run -------------------------------------------------------------------------------------


def run(sizes: Sizes, admin_url: str, keep: bool) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    webhook_key = ec.generate_private_key(ec.SECP256R1())
    public_key = base64.b64encode(webhook_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    fake = FaultySendGrid(rate_limited=0.04, server_error=0.04, latency=0.15)
    twilio = FaultyTwilio(rate_limited=0.04, server_error=0.04, latency=0.02)
    folder = Path(tempfile.mkdtemp(prefix="barometre-drill-"))
    port = free_port()
    port_b = free_port()
    with fake, twilio, fresh_database(admin_url, keep) as database_url:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("BAROMETRE_", "SENDGRID_", "TWILIO_"))}
        env.update({
            "BAROMETRE_INSTANCE_PATH": str(folder / "instance"),
            "BAROMETRE_DATABASE_URL": database_url,
            "BAROMETRE_SECRET_KEY": SECRET_KEY,
            "BAROMETRE_BASE_URL": f"http://127.0.0.1:{port}",
            "BAROMETRE_EMAIL_BACKEND": "sendgrid",
            "BAROMETRE_MAIL_FROM": "enquete@centre.example",
            "SENDGRID_API_KEY": "SG.drill",
            "BAROMETRE_SENDGRID_HOST": fake.url,
            "SENDGRID_WEBHOOK_PUBLIC_KEY": public_key,
            "BAROMETRE_SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_FROM": TWILIO_FROM,
            "BAROMETRE_TWILIO_BASE_URL": twilio.url,
            # SMS at any hour: the drill must pass at night, on Sundays and on holidays.
            "BAROMETRE_SMS_HOURS": "00:00-24:00",
            "BAROMETRE_SMS_DAYS": "mon-sun",
            "BAROMETRE_SMS_HOLIDAYS": "none",
            # Retries after 1, 2, 4… s rather than 30, 60…: the drill's year lasts minutes.
            "BAROMETRE_SEND_BACKOFF_BASE": "1",
            "BAROMETRE_SEND_STALE_AFTER": "20",
            "BAROMETRE_JOB_STALE_AFTER": "20",
            "BAROMETRE_SEND_BATCH_SIZE": str(sizes.batch_size),
            # Both web servers stand behind one (simulated) proxy.
            "BAROMETRE_TRUSTED_PROXIES": "1",
            # The scheduler's year, compressed like the rest.
            "BAROMETRE_SCHEDULE_REMINDERS": "5s",
            "BAROMETRE_SCHEDULE_CLOSE_FIELDWORK": "5s",
        })
        drill = Drill(sizes, folder, env)
        print(f"drill in {folder}, database {database_url.rsplit('/', 1)[1]}, "
              f"fake SendGrid on {fake.url}, fake Twilio on {twilio.url}, web on :{port} "
              f"and :{port_b}")
        try:
            play(drill, fake, twilio, webhook_key, port, port_b)
        except Exception as error:  # noqa: BLE001 - reported as a failed check, then the table
            drill.check("the drill ran to its end", False, repr(error)[:300])
        finally:
            drill.stop_all()
        if not any(name == "the drill ran to its end" for name, _, _ in drill.checks):
            drill.check("the drill ran to its end", True, "")
        scan_logs(drill, fake, twilio)
        status = summary(drill)
    if status == 0 and not keep:
        shutil.rmtree(folder, ignore_errors=True)  # a failed drill keeps its logs to read
    return status


def play(drill: Drill, fake: FaultySendGrid, twilio: FaultyTwilio, webhook_key,  # noqa: ANN001
         port: int, port_b: int) -> None:
    from sqlalchemy import func, select

    from survey.audit import record_event
    from survey.extensions import db
    from survey.frame.suppressions import add_suppression
    from survey.frame.synthetic import synthetic_customer_csv
    from survey.models import AuditEvent, Campaign, Customer, Invitation, Message, Response

    sizes = drill.sizes
    rng = random.Random(2026)
    base = f"http://127.0.0.1:{port}"
    base_b = f"http://127.0.0.1:{port_b}"

    with drill.step("database: barometre db upgrade, a manager's account") as detail:
        detail.append(drill.barometre("db", "upgrade").strip())
        drill.barometre("users", "create", MANAGER[0], "--role", "manager",
                        stdin=MANAGER[1] + "\n")

    customers_file = drill.folder / "customers.csv"
    customers_file.write_bytes(synthetic_customer_csv(sizes.customers, seed=2026))
    with drill.step(f"import {sizes.customers:,} customers") as detail:
        out = drill.barometre("customers", "import", str(customers_file), "--accept-rejects")
        detail.append(out.strip().splitlines()[-1][:120])

    with drill.step("campaign: create, plan, draw") as detail:
        drill.barometre("campaigns", "create", SLUG, "--programme", "Baromètre drill",
                        "--year", "2026", "--questionnaire", "nf-relation-client",
                        "--channel", "email", "--channel", "sms")
        plan = json.loads(drill.barometre(
            "campaigns", "plan", SLUG, "--strata", "segment", "--margin", str(sizes.margin),
            "--response-rate", str(sizes.respondents / sizes.invitations), "--json"))
        drill.barometre("campaigns", "draw", SLUG, "--seed", "2026")
        detail.append(f"plan asks {plan.get('invitations')} invitations "
                      f"(±{100 * plan.get('expected_margin', 0):.2f} pts)")

    app = application(drill)
    with app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == SLUG))
        sampled = db.session.scalar(select(func.count()).select_from(Invitation)
                                    .where(Invitation.campaign_id == campaign.id))
        # Reminders wait for the drill's own moment (below), not for the senders' clock.
        campaign.reminder_days = []
        record_event(db.session, "drill.reminders", actor="drill", object_type="campaign",
                     object_id=campaign.id, summary={"reminder_days": []})
        emails = list(db.session.scalars(
            select(Customer.email).join(Invitation, Invitation.customer_id == Customer.id)
            .where(Invitation.campaign_id == campaign.id, Invitation.channel == "email")
            .order_by(Invitation.id)))
        phones = list(db.session.scalars(
            select(Customer.phone).join(Invitation, Invitation.customer_id == Customer.id)
            .where(Invitation.campaign_id == campaign.id, Invitation.channel == "sms")
            .order_by(Invitation.id)))
        rng.shuffle(emails)
        rng.shuffle(phones)
        # Customers who opt out between the draw and the launch (another survey's link, a STOP).
        for email in emails[:sizes.opted_out_before_launch]:
            add_suppression(db.session, "email", email, "opt_out", "drill", SECRET_KEY,
                            actor="drill")
        for phone in phones[:sizes.sms_opted_out_before_launch]:
            add_suppression(db.session, "phone", phone, "opt_out", "drill", SECRET_KEY,
                            actor="drill")
        fake.bad = set(emails[sizes.opted_out_before_launch:
                              sizes.opted_out_before_launch + sizes.bad_addresses])
        twilio.bad = set(phones[sizes.sms_opted_out_before_launch:
                                sizes.sms_opted_out_before_launch + sizes.bad_phones])
        db.session.commit()
    drill.check("the plan drew about the expected sample",
                abs(sampled - sizes.invitations) <= 0.1 * sizes.invitations,
                f"{sampled} sampled for ~{sizes.invitations}")
    drill.check("part of the sample is invited by SMS",
                len(phones) >= 0.05 * sampled and len(emails) >= 0.8 * sampled,
                f"{len(emails)} by email, {len(phones)} by SMS (mobile number, no email)")

    with drill.step("start two web servers (own instance folders) and two workers"):
        for name, web_port in (("web-a", port), ("web-b", port_b)):
            drill.start(name, "serve", "--host", "127.0.0.1", "--port", str(web_port),
                        "--workers", "1",
                        BAROMETRE_INSTANCE_PATH=str(drill.folder / f"instance-{name}"))
        for name in ("worker-a", "worker-b"):
            drill.start(name, "worker", "--worker-id", f"drill-{name[-1]}")
        for web in (base, base_b):
            wait_until(lambda web=web: healthz(web)[0] == 200, 300, f"{web}/healthz to answer 200")
    drill.check("/healthz is 200 on both web servers with the workers running",
                healthz(base)[0] == 200 and healthz(base_b)[0] == 200,
                json.dumps(healthz(base_b)[1].get("checks", {}).get("sender", {})))

    with drill.step(f"web B: a manager uploads the {sizes.customers:,}-customer file again "
                    "(an update, imported by a worker)") as detail:
        manager = manager_session(base_b)
        page = manager.request("GET", "/manage/customers?lang=en")
        began = time.perf_counter()
        status, html, location = upload(manager, "/manage/customers",
                                        [("csrf_token", CSRF.search(page.text).group(1)),
                                         ("accept_rejects", "y")],
                                        "file", "customers.csv", customers_file.read_bytes())
        upload_seconds = time.perf_counter() - began
        if status == 303:  # imported in the background: its job's page tells the outcome
            html = follow_job(manager, location)
        manager.close()
        detail.append(f"HTTP {status} in {upload_seconds:.1f} s (gunicorn's timeout: 60 s)")
        said = re.search(r'class="(?:flash[^"]*|field-error)"[^>]*>([^<]+)', html)
        detail.append(said.group(1).strip()[:100] if said else "")
    drill.check("the web import of the whole base answers within the server's timeout",
                status in (200, 303) and upload_seconds < 60 and said is not None
                and "imported" in said.group(1),
                f"HTTP {status} after {upload_seconds:.1f} s")

    with drill.step("launch and send (429/500 faults, one worker killed -9 and restarted)") \
            as detail:
        began = time.perf_counter()
        drill.barometre("campaigns", "launch", SLUG)
        killed_at = sampled * 0.4
        wait_until(lambda: len(fake.accepted) + len(twilio.accepted) >= killed_at, 300,
                   "40 % of the sample sent", every=0.05)
        victim = drill.processes["worker-a"]
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        drill.kills += 1
        detail.append(f"worker A killed after {len(fake.accepted)} emails and "
                      f"{len(twilio.accepted)} SMS accepted")
        drill.check("/healthz stays 200 with one worker killed", healthz(base)[0] == 200, "")
        drill.start("worker-a", "worker", "--worker-id", "drill-a")

        def queue_empty() -> bool:
            with app.app_context():
                left = db.session.scalar(select(func.count()).select_from(Message).where(
                    Message.state.in_(("queued", "sending"))))
                db.session.rollback()
                return left == 0

        wait_until(queue_empty, 300, "every invitation sent or given up")
        seconds = time.perf_counter() - began
        detail.append(f"{len(fake.accepted)} emails and {len(twilio.accepted)} SMS accepted "
                      f"in {seconds:.1f} s, faults SendGrid {dict(fake.faults)}, "
                      f"Twilio {dict(twilio.faults)}")

    links = fake.links()
    # Every SMS accepted so far is an invitation: reminders are queued later, by the drill.
    drill.sms_invitations_accepted = list(twilio.accepted)
    with app.app_context():
        invitation_of = dict(db.session.execute(
            select(Message.id, Message.invitation_id).where(Message.sequence == 0)).all())
        sms_message_of = {number: (message_id, invitation_id, sid)
                          for message_id, invitation_id, number, sid in db.session.execute(
                              select(Message.id, Message.invitation_id, Message.to_address,
                                     Message.provider_id)
                              .where(Message.sequence == 0, Message.channel == "sms"))}
    by_invitation: dict[int, tuple[int, str, str]] = {}
    for message_id, (link, address) in links.items():
        if message_id in invitation_of:
            by_invitation.setdefault(invitation_of[message_id], (message_id, link, address))
    sms_sid: dict[int, str] = {}  # invitation → the SMS id the sender recorded
    for _, number, link in drill.sms_invitations_accepted:
        if number in sms_message_of:
            message_id, invitation_id, sid = sms_message_of[number]
            by_invitation.setdefault(invitation_id, (message_id, link, number))
            sms_sid[invitation_id] = sid
    invitations = sorted(by_invitation)
    rng.shuffle(invitations)

    # Who does what: respondents, abandoners, then bounces and opt-outs among the others.
    respondents = invitations[:sizes.respondents]
    leavers = invitations[sizes.respondents:sizes.respondents + sizes.abandoners]
    others = invitations[sizes.respondents + sizes.abandoners:]
    email_others = [i for i in others if i not in sms_sid]
    sms_others = [i for i in others if i in sms_sid]
    bounced = email_others[:len(email_others) // 50]
    unsubscribed = email_others[len(email_others) // 50:
                                len(email_others) // 50 + len(email_others) // 100]
    delivered = [i for i in invitations
                 if i not in sms_sid and i not in set(bounced) | set(unsubscribed)]
    undelivered_sms = sms_others[:max(1, len(sms_others) // 25)]
    failed_sms = sms_others[len(undelivered_sms):len(undelivered_sms)
                            + max(1, len(sms_others) // 50)]
    drill.planted_sms = {"undelivered": len(undelivered_sms), "failed": len(failed_sms)}

    # The provider's events arrive while the first customers answer, as in a real launch.
    events = []
    for number, invitation_id in enumerate(delivered + bounced + unsubscribed):
        message_id, _, address = by_invitation[invitation_id]
        kind = "bounce" if invitation_id in set(bounced) else \
            "unsubscribe" if invitation_id in set(unsubscribed) else "delivered"
        events.append({"email": address, "event": kind, "sg_event_id": f"drill-{number}",
                       "barometre_message_id": str(message_id),
                       "timestamp": int(time.time()), "reason": "550 no such user"})
    statuses: list[int] = []
    webhook_seconds: list[float] = []

    def post_events() -> None:
        began = time.perf_counter()
        for start in range(0, len(events), 500):
            statuses.append(signed_webhook(base, webhook_key, events[start:start + 500]))
        statuses.append(signed_webhook(base, webhook_key, events[:500]))  # a provider retry
        webhook_seconds.append(time.perf_counter() - began)

    webhooks = threading.Thread(target=post_events)

    # Twilio calls back once per SMS and status; error 30003: unreachable handset, 30008: unknown.
    outcome_of = {**dict.fromkeys(undelivered_sms, ("undelivered", "30003")),
                  **dict.fromkeys(failed_sms, ("failed", "30008"))}
    callbacks = []
    for invitation_id, sid in sms_sid.items():
        status, error_code = outcome_of.get(invitation_id, ("delivered", ""))
        params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status,
                  "SmsStatus": status, "AccountSid": TWILIO_ACCOUNT, "From": TWILIO_FROM,
                  "To": by_invitation[invitation_id][2], "ApiVersion": "2010-04-01"}
        if error_code:
            params["ErrorCode"] = error_code
        callbacks.append(params)
    callback_statuses: list[int] = []

    def post_callbacks() -> None:
        for params in callbacks + callbacks[:1]:  # the first one twice, as Twilio may retry
            callback_statuses.append(twilio_callback(base, params))

    status_callbacks = threading.Thread(target=post_callbacks)

    # Respondents in two waves around the reminders; some leave and come back in the second.
    resumers = set(respondents[: sizes.respondents // 10])
    doubles = set(respondents[sizes.respondents // 10: sizes.respondents // 10
                              + sizes.respondents // 20])
    first_wave = [(by_invitation[i][1], 1 if i in resumers else None, i in doubles)
                  for i in respondents[: (2 * sizes.respondents) // 3]]
    first_wave += [(by_invitation[i][1], 1, False) for i in leavers]
    crowd = Crowd()
    with drill.step(f"first wave: {len(first_wave)} customers answering concurrently, "
                    f"{len(events)} webhook events, {len(callbacks)} SMS status callbacks") \
            as detail:
        began = time.perf_counter()
        webhooks.start()
        status_callbacks.start()
        crowd_answers(base, first_wave, sizes.clients, crowd, seed=1)
        detail.append(f"{len(crowd.completed)} complete, {len(crowd.abandoned)} left, "
                      f"{crowd.pages / (time.perf_counter() - began):.0f} pages posted/s")
        webhooks.join()
        status_callbacks.join()
        detail.append(f"webhooks: {len(statuses)} signed posts (one twice) in "
                      f"{webhook_seconds[0] if webhook_seconds else float('nan'):.1f} s, "
                      f"{len(callback_statuses)} SMS status callbacks (one twice)")
    drill.check("webhooks accepted", set(statuses) == {200}, str(dict(Counter(statuses))))
    drill.check("Twilio status callbacks accepted (signed)",
                callbacks and set(callback_statuses) == {204},
                str(dict(Counter(callback_statuses))))

    with drill.step("reminders queued by the workers' scheduler (7 days compressed to none)") \
            as detail:
        with app.app_context():
            campaign = db.session.scalar(select(Campaign).where(Campaign.slug == SLUG))
            campaign.reminder_days = [0]
            record_event(db.session, "drill.reminders", actor="drill", object_type="campaign",
                         object_id=campaign.id, summary={"reminder_days": [0]})
            db.session.commit()

        def reminders_queued() -> int:
            with app.app_context():
                count = db.session.scalar(select(func.count()).select_from(Message).where(
                    Message.sequence > 0))
                db.session.rollback()
                return count

        wait_until(lambda: reminders_queued() > 0, 120, "the scheduler to queue reminders")
        wait_until(queue_empty, 300, "every reminder sent")
        queued = reminders_queued()
        detail.append(f"{queued} reminders queued by the scheduler and sent")
    drill.check("reminders were sent", queued > 0, f"{queued}")

    second_wave = [(by_invitation[i][1], None, i in doubles)
                   for i in respondents[(2 * sizes.respondents) // 3:]]
    second_wave += [(by_invitation[i][1], None, False) for i in resumers]  # they come back
    with drill.step(f"second wave on web B: {len(second_wave)} customers, with the returning "
                    "ones") as detail:
        began = time.perf_counter()
        crowd_answers(base_b, second_wave, sizes.clients, crowd, seed=2)
        detail.append(f"{len(crowd.completed)} complete in all, "
                      f"{crowd.double_submits} double submissions")

    with drill.step("fieldwork's end date passes: the scheduler closes it") as detail:
        from datetime import date, timedelta

        with app.app_context():
            campaign = db.session.scalar(select(Campaign).where(Campaign.slug == SLUG))
            campaign.fieldwork_start = date.today() - timedelta(days=10)
            campaign.fieldwork_end = date.today() - timedelta(days=2)
            record_event(db.session, "drill.fieldwork_end", actor="drill",
                         object_type="campaign", object_id=campaign.id,
                         summary={"fieldwork_end": campaign.fieldwork_end.isoformat()})
            db.session.commit()

        def closed() -> bool:
            with app.app_context():
                status = db.session.scalar(select(Campaign.status).where(Campaign.slug == SLUG))
                db.session.rollback()
                return status == "closed"

        began = time.perf_counter()
        wait_until(closed, 120, "the scheduler to close fieldwork")
        detail.append(f"closed {time.perf_counter() - began:.1f} s after its end date was set")
    with app.app_context():
        closer = db.session.scalar(select(AuditEvent.actor).where(
            AuditEvent.action == "campaign.close"))
    drill.check("fieldwork closed at its end date by the scheduler",
                closed() and (closer or "").startswith("job:"), f"closed by {closer}")

    with drill.step("report, export, analyze, audit verify") as detail:
        report_file = drill.folder / "report.html"
        report_line = drill.barometre("report", SLUG, "--out", str(report_file), "--lang", "en")
        export_file = drill.folder / "export.csv"
        export_lines = drill.barometre("export", SLUG, "--format", "csv", "--out",
                                       str(export_file))
        design_file = re.search(r"design file: (.+)", export_lines).group(1).strip()
        results_file = drill.folder / "results.json"
        drill.barometre("analyze", str(export_file), "--design", design_file,
                        "--out", str(results_file))
        # The senders seal as they go; the last events (close, report, export) now.
        drill.barometre("audit", "seal")
        audit = json.loads(drill.barometre("audit", "verify", "--json"))
        detail.append(f"{audit['events']} audit events sealed, head anchored: "
                      f"{audit['anchored']}")

    with drill.step("web B: the manager generates the report; its worker is killed -9 "
                    "mid-job") as detail:
        manager = manager_session(base_b)
        reports = f"/manage/campaigns/{SLUG}/reports"
        page = manager.request("GET", reports)
        began = time.perf_counter()
        generated = manager.request("POST", reports, [
            ("csrf_token", CSRF.search(page.text).group(1)), ("lang", "fr")])
        report_seconds = time.perf_counter() - began
        job_id = int(urlsplit(generated.location or "/0").path.rsplit("/", 1)[1])
        killed = kill_worker_of_job(drill, app, job_id)
        detail.append(f"job {job_id}: " + (f"worker {killed[0]} killed at stage {killed[1]}"
                                           if killed else "ended before it could be killed"))
        # The other worker takes it over once the heartbeat is 20 s old; then the killed one
        # comes back. The job's page is read on web A: any server tells the outcome.
        outcome = follow_job(manager_session(base), f"/manage/jobs/{job_id}", timeout=240)
        if killed:
            drill.start(f"worker-{killed[0][-1]}", "worker", "--worker-id", killed[0])
        manager.close()
        said = re.search(r"Report \d+ generated|Rapport \d+ généré", outcome)
        detail.append(f"HTTP {generated.status} in {report_seconds:.1f} s; "
                      f"{said.group(0) if said else 'no report announced'}")
    drill.check("the web report generation answers within the server's timeout",
                generated.status in (302, 303) and report_seconds < 60 and said is not None,
                f"HTTP {generated.status} after {report_seconds:.1f} s")
    check_jobs(drill, app, job_id, killed)
    check_throttles(drill, base, base_b)

    # --- the checks ---
    with app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == SLUG))
        check_invitations(drill, db.session, campaign, fake, twilio)
        complete = db.session.execute(
            select(Response.invitation_id).join(Invitation)
            .where(Invitation.campaign_id == campaign.id, Response.status == "complete")
        ).scalars().all()
        check_reminders(drill, db.session, campaign, fake, twilio)
    drill.check("complete responses in the database = completed by the clients",
                len(complete) == len(crowd.completed) == sizes.respondents,
                f"{len(complete)} in the database, {len(crowd.completed)} completed by clients,"
                f" {sizes.respondents} expected")
    drill.check("no duplicate response", len(set(complete)) == len(complete),
                f"{len(complete) - len(set(complete))} duplicates")
    drill.check("no client failure", not crowd.failures,
                f"{len(crowd.failures)}: {crowd.failures[:3]}")
    check_report(drill, report_file, report_line, export_lines, results_file, len(complete))
    drill.check("audit chain verifies", audit["ok"],
                f"{audit['events']} events" + ("" if audit["ok"] else f", {audit['reason']}"))
    drill.check("/healthz answers 200 at the end on both web servers",
                healthz(base)[0] == 200 and healthz(base_b)[0] == 200, "")
    drill.tokens = [link.rsplit("/", 1)[1] for link in crowd.completed]


def check_invitations(drill: Drill, session, campaign, fake: FaultySendGrid,  # noqa: ANN001
                      twilio: FaultyTwilio) -> None:
    """Per channel: sent = sampled − suppressed − failed, the provider's record agreeing, and
    no customer invited twice outside the batch in flight when the sender was killed."""
    from sqlalchemy import func, select

    from survey.models import Invitation, Message, Response

    invitations = session.execute(select(Invitation.id, Invitation.channel,
                                         Invitation.disposition).where(
        Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False))).all()
    first = {m.invitation_id: m for m in session.scalars(
        select(Message).where(Message.campaign_id == campaign.id, Message.sequence == 0))}
    complete = set(session.scalars(
        select(Response.invitation_id).join(Invitation)
        .where(Invitation.campaign_id == campaign.id, Response.status == "complete")))
    reminders = dict(session.execute(
        select(Message.channel, func.count()).where(
            Message.campaign_id == campaign.id, Message.sequence > 0,
            Message.sent_at.is_not(None)).group_by(Message.channel)).all())
    # What each provider accepted, per invitation message: message id (SendGrid's custom
    # argument) or number (Twilio; one customer per number), counted once per acceptance.
    accepted = {
        "email": Counter(int(message_id) for message_id, _ in fake.accepted
                         if message_id and int(message_id) in {m.id for m in first.values()}),
        "sms": Counter(number for _, number, _ in drill.sms_invitations_accepted),
    }
    planted = {"email": (drill.sizes.opted_out_before_launch, drill.sizes.bad_addresses),
               "sms": (drill.sizes.sms_opted_out_before_launch, drill.sizes.bad_phones)}
    faults = {"email": fake.faults, "sms": twilio.faults}
    for channel in ("email", "sms"):
        mine = [(i, disposition) for i, c, disposition in invitations if c == channel]
        messages = [first[i] for i, _ in mine if i in first]
        without = Counter(disposition for i, disposition in mine if i not in first)
        sent = sum(1 for m in messages if m.sent_at is not None)
        failed = sum(1 for m in messages if m.state == "failed" and m.sent_at is None) \
            + without.get("failed", 0)
        suppressed = without.get("opted_out", 0) + sum(
            1 for m in messages if m.state == "cancelled" and "opted out" in (m.last_error or ""))
        left = sum(1 for m in messages if m.state in ("queued", "sending"))
        key = (lambda m: m.id) if channel == "email" else (lambda m: m.to_address)
        in_flight = {key(m) for m in messages if m.possibly_duplicated}
        twice = {k for k, count in accepted[channel].items() if count > 1}
        row = {
            "channel": channel, "sampled": len(mine), "suppressed": suppressed,
            "failed": failed, "sent": sent, "left": left,
            "provider accepted": len(accepted[channel]),
            "sent twice": len(twice), "in flight": len(in_flight),
            "delivered": sum(1 for m in messages if m.state == "delivered"),
            "bounced": sum(1 for m in messages if m.state == "bounced"),
            "failed after sending": sum(1 for m in messages
                                        if m.state == "failed" and m.sent_at is not None),
            "reminders": reminders.get(channel, 0),
            "complete": sum(1 for i, _ in mine if i in complete),
            "faults": ", ".join(f"{status}×{count}"
                                for status, count in sorted(faults[channel].items())),
        }
        drill.by_channel.append(row)
        drill.check(f"{channel}: invitations sent = sampled − suppressed − failed",
                    sent == len(mine) - suppressed - failed and left == 0
                    and sent == len(accepted[channel]) and sent > 0,
                    f"{sent} = {len(mine)} − {suppressed} − {failed}; {left} left in the "
                    f"queue; the provider accepted {len(accepted[channel])}")
        opted_out_planted, bad_planted = planted[channel]
        drill.check(f"{channel}: suppressed and failed as planted",
                    suppressed == opted_out_planted and failed >= bad_planted,
                    f"{suppressed} suppressed (planted {opted_out_planted}), {failed} failed "
                    f"({bad_planted} bad {'addresses' if channel == 'email' else 'numbers'})")
        # A killed worker re-sends at most its batch in flight through SendGrid, and at most
        # the one SMS in flight through Twilio (each is marked sent right after its call).
        bound = drill.kills * (drill.sizes.batch_size if channel == "email" else 1)
        row["duplicate bound"] = bound
        drill.check(f"{channel}: duplicates within the bound ({bound} for {drill.kills} kill)",
                    twice <= in_flight and len(twice) <= bound,
                    f"{len(twice)} sent twice, all from what was in flight when the worker "
                    f"was killed ({len(in_flight)} messages re-queued)" if twice <= in_flight
                    else f"{len(twice - in_flight)} sent twice outside any in-flight batch")
    sms = drill.by_channel[-1]
    drill.check("SMS status callbacks applied to the messages",
                sms["bounced"] == drill.planted_sms.get("undelivered")
                and sms["failed after sending"] == drill.planted_sms.get("failed")
                and sms["delivered"] > 0,
                f"{sms['delivered']} delivered, {sms['bounced']} undelivered (planted "
                f"{drill.planted_sms.get('undelivered')}), {sms['failed after sending']} failed "
                f"after sending (planted {drill.planted_sms.get('failed')})")


def check_reminders(drill: Drill, session, campaign, fake: FaultySendGrid,  # noqa: ANN001
                    twilio: FaultyTwilio) -> None:
    from sqlalchemy import func, or_, select

    from survey.models import Invitation, Message, Response

    reminders = select(Message.id).join(Invitation, Message.invitation_id == Invitation.id)
    wrong = session.scalar(select(func.count()).select_from(
        reminders.join(Response, Response.invitation_id == Invitation.id, isouter=True)
        .where(Message.campaign_id == campaign.id, Message.sequence > 0,
               Message.sent_at.is_not(None),
               or_(Response.completed_at < Message.created_at,
                   Invitation.opted_out_at < Message.created_at,
                   Invitation.disposition == "bounced")).subquery()))
    sent = session.scalar(select(func.count()).select_from(Message).where(
        Message.campaign_id == campaign.id, Message.sequence > 0, Message.sent_at.is_not(None)))
    drill.check("no reminder to a customer who had completed, bounced or opted out",
                wrong == 0 and sent > 0, f"{sent} reminders sent, {wrong} wrong")
    # Once each: one reminder row per invitation (a unique key), and each accepted once by
    # its provider although two workers' schedulers ran.
    rows = session.execute(select(Message.id, Message.invitation_id, Message.channel,
                                  Message.to_address).where(
        Message.campaign_id == campaign.id, Message.sequence > 0,
        Message.sent_at.is_not(None))).all()
    email_ids = {message_id for message_id, _, channel, _ in rows if channel == "email"}
    emails = Counter(int(message_id) for message_id, _ in fake.accepted
                     if message_id and int(message_id) in email_ids)
    sms_numbers = Counter(number for _, number, _ in
                          twilio.accepted[len(drill.sms_invitations_accepted):])
    twice = sum(1 for count in [*emails.values(), *sms_numbers.values()] if count > 1)
    per_invitation = Counter(invitation_id for _, invitation_id, _, _ in rows)
    drill.check("every reminder sent once (two schedulers running)",
                twice == 0 and max(per_invitation.values(), default=1) == 1,
                f"{len(rows)} reminders, {twice} accepted twice by a provider")


def check_report(drill: Drill, report_file: Path, report_line: str, export_lines: str,
                 results_file: Path, respondents: int) -> None:
    report_sha = re.search(r"data sha256 ([0-9a-f]{64})", report_line).group(1)
    export_sha = re.search(r"\(sha256 ([0-9a-f]{64})\)", export_lines).group(1)
    estimates = {e["indicator"]: e for e in json.loads(results_file.read_text())["estimates"]
                 if e["domain"] is None}
    html = report_file.read_text(encoding="utf-8")
    shown = {name: float(value.replace(",", "").replace("\u202f", "").split()[0])
             for name, value in re.findall(r'data-indicator="([^"]+)">([^<%]+)', html)}
    mismatched = []
    for name, value in shown.items():
        estimate = estimates.get(name, {}).get("estimate")
        if estimate is None or min(abs(value - estimate), abs(value - 100 * estimate)) > 0.051:
            mismatched.append(f"{name}: report {value}, analyze {estimate}")
    n = max((e["n"] for e in estimates.values()), default=0)
    drill.check("report numbers = barometre analyze on the export",
                report_sha == export_sha and shown and not mismatched and n == respondents,
                f"{len(shown)} headline indicators equal, same data sha256 {report_sha[:12]}…, "
                f"n = {n}" if not mismatched else "; ".join(mismatched[:3]))


def kill_worker_of_job(drill: Drill, app, job_id: int) -> tuple[str, str] | None:  # noqa: ANN001
    """Kill -9 the worker running `job_id` once it has begun its work; (worker id, stage)."""
    from sqlalchemy import select

    from survey.extensions import db
    from survey.models import Job

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with app.app_context():
            row = db.session.execute(select(Job.state, Job.claimed_by, Job.stage)
                                     .where(Job.id == job_id)).one()
            db.session.rollback()
        state, worker_id, stage = row
        if state in ("succeeded", "failed"):
            return None
        if state == "running" and worker_id and stage:
            name = f"worker-{worker_id[-1]}"
            os.kill(drill.processes[name].pid, signal.SIGKILL)
            drill.processes[name].wait()
            return worker_id, stage
        time.sleep(0.02)
    return None


def check_jobs(drill: Drill, app, report_job: int,  # noqa: ANN001
               killed: tuple[str, str] | None) -> None:
    """Every job done once: all succeeded, the killed report job taken over by the other worker
    and its report stored once; the web import written once."""
    from sqlalchemy import func, select

    from survey.extensions import db
    from survey.models import AuditEvent, CustomerImport, Job, Report

    with app.app_context():
        states = Counter(db.session.scalars(select(Job.state)))
        kinds = Counter(db.session.scalars(select(Job.kind)))
        job = db.session.get(Job, report_job)
        reports = db.session.scalar(select(func.count()).select_from(Report)
                                    .where(Report.created_by_id.is_not(None)))
        imports = db.session.scalar(select(func.count()).select_from(CustomerImport))
        takeovers = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "job.requeue"))
        finished_by = db.session.scalar(select(AuditEvent.summary).where(
            AuditEvent.action == "job.finish", AuditEvent.object_id == str(report_job)))
        pending = db.session.scalar(select(func.count()).select_from(Job).where(
            Job.kind != "scheduled", Job.state != "succeeded"))
    # Periodic runs keep coming every few seconds: one may be queued or running now.
    drill.check("every job succeeded, none failed", pending == 0 and not states.get("failed"),
                f"{dict(states)} over {dict(kinds)}")
    drill.check("the report job, its worker killed mid-job, was taken over and done once",
                killed is not None and job.state == "succeeded" and job.attempts == 2
                and takeovers >= 1 and reports == 1 and finished_by is not None,
                f"worker {killed[0] if killed else '?'} killed at stage "
                f"{killed[1] if killed else '?'}; attempts {job.attempts}, "
                f"{takeovers} takeover(s), {reports} report(s) stored from the web")
    drill.check("the web import was written once (command line + web: 2 imports)",
                imports == 2, f"{imports} customer imports")


def check_throttles(drill: Drill, base: str, base_b: str) -> None:
    """Through the proxy: bad links and failed logins alternating between the two servers are
    counted together, per client address; other clients are not affected."""
    import http.client
    from urllib.parse import urlencode

    def call(web: str, method: str, path: str, client: str, body: str | None = None) -> int:
        host, port = web.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"X-Forwarded-For": client}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        status = connection.getresponse().status
        connection.close()
        return status

    guesses = [call((base, base_b)[n % 2], "GET", f"/r/{'G' * 31}{n % 10}", "203.0.113.50")
               for n in range(26)]
    other = call(base_b, "GET", f"/r/{'G' * 32}", "203.0.113.51")
    drill.check("bad links: the limit (20) held across both servers, per client",
                guesses.count(404) == 20 and guesses[20:] == [429] * 6 and other == 404,
                f"{guesses.count(404)} answered not found, then {guesses.count(429)} refused; "
                f"another client: {other}")
    # Logins need the form's CSRF token: a real session per server.
    codes = []
    for n in range(25):
        web = (base, base_b)[n % 2]
        browser = Browser(web)
        page = browser.request("GET", "/login")
        token = CSRF.search(page.text).group(1)
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        browser.close()
        host, port = web.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request("POST", "/login", body=urlencode(
            {"csrf_token": token, "email": f"guess{n}@centre.example",
             "password": "not the password"}),
            headers={"X-Forwarded-For": "203.0.113.60", "Cookie": cookie,
                     "Content-Type": "application/x-www-form-urlencoded"})
        codes.append(connection.getresponse().status)
        connection.close()
    drill.check("failed logins: the limit (20) held across both servers, per client",
                codes.count(200) == 20 and codes[20:] == [429] * 5,
                f"{codes.count(200)} refused as wrong, then {codes.count(429)} throttled")


def scan_logs(drill: Drill, fake: FaultySendGrid, twilio: FaultyTwilio) -> None:
    """The structured logs: JSON lines, and no token, address or phone number in any of them."""
    text = "\n".join(path.read_text(errors="replace") for path in drill.folder.glob("*.log"))
    tokens = drill.tokens
    addresses = {address for _, address in fake.accepted}
    addresses |= {number for _, number, _ in twilio.accepted} | twilio.bad
    leaked = [t for t in tokens if t in text] + [a for a in addresses if a in text]
    batches = sum(1 for line in text.splitlines() if '"event": "send.batch"' in line)
    requests = sum(1 for line in text.splitlines() if '"event": "request"' in line)
    drill.check("logs: one JSON line per request and batch, no token, address or number",
                not leaked and batches > 0 and requests > 0,
                f"{requests} request lines, {batches} batch lines, {len(leaked)} leaks")


def healthz(base: str) -> tuple[int, dict]:
    import http.client

    host, port = base.removeprefix("http://").split(":")
    try:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/healthz")
        reply = connection.getresponse()
        body = json.loads(reply.read() or b"{}")
        connection.close()
        return reply.status, body
    except (OSError, ValueError):
        return 0, {}


def summary(drill: Drill) -> int:
    total = time.perf_counter() - drill.started
    width = max(len(name) for name, _, _ in drill.steps + [("", 0, "")]) + 2
    print("\n== drill: steps")
    for name, seconds, detail in drill.steps:
        print(f"{name:<{width}}{seconds:>8.1f} s  {detail}")
    print(f"{'total':<{width}}{total:>8.1f} s")
    if drill.by_channel:
        print("\n== drill: invitations by channel (sent = sampled − suppressed − failed)")
        columns = [name for name in drill.by_channel[0] if name != "left"]
        widths = {name: max(len(name), *(len(str(row[name])) for row in drill.by_channel))
                  for name in columns}
        print("  ".join(f"{name:>{widths[name]}}" for name in columns))
        for row in drill.by_channel:
            print("  ".join(f"{row[name]!s:>{widths[name]}}" for name in columns))
    print("\n== drill: checks")
    for name, ok, detail in drill.checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    failed = [name for name, ok, _ in drill.checks if not ok]
    if total > 600:
        print(f"FAIL  the drill took {total:.0f} s, more than 10 minutes")
        failed.append("duration")
    print(f"\ndrill {'FAILED: ' + ', '.join(failed) if failed else 'passed'} "
          f"in {total:.0f} s" + (f"; logs and files in {drill.folder}" if failed else ""))
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--ci", action="store_true", help="two fifths of the sizes (CI's)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the drill's database and folder (logs, report, export)")
    parser.add_argument("--admin-url", default=os.environ.get("BAROMETRE_DRILL_ADMIN_URL",
                                                              ADMIN_URL),
                        help="PostgreSQL URL allowed to create and drop a database")
    args = parser.parse_args()
    return run(QUICK if args.quick else CI if args.ci else FULL, args.admin_url, args.keep)


if __name__ == "__main__":
    sys.exit(main())
