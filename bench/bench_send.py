"""Benchmark: send N invitations through the `sendgrid` backend to a fake SendGrid on 127.0.0.1.

    .venv/bin/python bench/bench_send.py                 # 100,000 on SQLite, one worker
    .venv/bin/python bench/bench_send.py --quick         # 10,000
    .venv/bin/python bench/bench_send.py --database-url postgresql+psycopg://.../db --workers 2

Builds a fresh database (SQLite in a temporary folder, or the PostgreSQL database given, whose
tables are emptied), a sampled campaign of N customers, launches it (timed), then runs
`barometre send --once` worker processes until every message is sent, and prints invitations
per second (launch excluded), the provider's requests, and peak memory of the workers.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

from survey import create_app  # noqa: E402
from survey.database import upgrade_database  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import Customer, Invitation, Message  # noqa: E402
from survey.tokens import issue_token  # noqa: E402
from tests.distribution.fakes import FakeSendGrid  # noqa: E402

SECRET = "bench-secret-key-long-enough-0123456789abcdef"


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), 0 once it is gone.

    Read from /proc while the worker runs: getrusage(RUSAGE_CHILDREN) would count the
    parent's memory copied at fork time.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def build(app, count: int) -> str:
    from survey.distribution.operations import launch_campaign
    from tests.survey.factories import make_campaign

    with app.app_context():
        campaign = make_campaign(slug="bench", status="sampled")
        db.session.commit()
        customers = [{"external_id": f"B{n:07d}", "email": f"customer{n}@example.org",
                      "language": "fr" if n % 4 else "en", "attributes": {}, "consent": True}
                     for n in range(count)]
        for start in range(0, count, 10000):
            db.session.execute(insert(Customer), customers[start:start + 10000])
        ids = db.session.scalars(select(Customer.id).order_by(Customer.id)).all()
        invitations = []
        for n, customer_id in enumerate(ids):
            salt, _token, digest = issue_token(SECRET)
            invitations.append({"campaign_id": campaign.id, "customer_id": customer_id,
                                "stratum": "A", "design_weight": 10.0, "attributes": {},
                                "token_salt": salt, "token_hash": digest,
                                "language": "fr" if n % 4 else "en", "channel": "email",
                                "disposition": "pending", "is_test": False})
        for start in range(0, count, 10000):
            db.session.execute(insert(Invitation), invitations[start:start + 10000])
        db.session.commit()
        started = time.perf_counter()
        result = launch_campaign(db.session, campaign, secret_key=SECRET, actor="bench")
        db.session.commit()
        elapsed = time.perf_counter() - started
        print(f"launch: {result.messages} messages queued in {elapsed:.2f} s "
              f"({result.messages / elapsed:,.0f}/s)")
        return campaign.slug


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 invitations")
    parser.add_argument("--count", type=int, help="number of invitations (default 100,000)")
    parser.add_argument("--database-url", help="PostgreSQL URL (its tables are dropped)")
    parser.add_argument("--workers", type=int, help="sender processes (1 SQLite, 2 PostgreSQL)")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    count = args.count or (10_000 if args.quick else 100_000)
    workers = args.workers or (2 if args.database_url else 1)

    folder = Path(tempfile.mkdtemp(prefix="bench-send-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    if args.database_url:
        reset_postgres(url)
    app = create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": url,
                      "SECRET_KEY": SECRET})
    upgrade_database(app)
    dialect = url.split(":", 1)[0]
    print(f"{count:,} invitations, {dialect}, {workers} worker(s), batches of {args.batch_size}")
    build(app, count)

    with FakeSendGrid() as fake:
        env = {**os.environ, "BAROMETRE_DATABASE_URL": url, "BAROMETRE_INSTANCE_PATH": str(folder),
               "BAROMETRE_SECRET_KEY": SECRET, "BAROMETRE_EMAIL_BACKEND": "sendgrid",
               "SENDGRID_API_KEY": "SG.bench", "BAROMETRE_SENDGRID_HOST": fake.url}
        started = time.perf_counter()
        processes = [subprocess.Popen(
            [sys.executable, "-m", "survey", "send", "--once", "--worker-id", f"bench-{n}",
             "--batch-size", str(args.batch_size)],
            cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for n in range(workers)]
        worker_peak = 0.0
        while any(process.poll() is None for process in processes):
            worker_peak = max([worker_peak, *(peak_rss_mib(p.pid) for p in processes)])
            time.sleep(0.2)
        for process in processes:
            _out, err = process.communicate()
            if process.returncode:
                raise SystemExit(f"worker failed: {err}")
        elapsed = time.perf_counter() - started
        requests = len(fake.requests)
        accepted = len(fake.accepted)
        distinct = len(fake.accepted_counts())
    with app.app_context():
        sent = db.session.scalar(select(func.count()).select_from(Message).where(
            Message.state == "sent"))
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"send: {sent:,} sent in {elapsed:.2f} s = {sent / elapsed:,.0f} invitations/s "
          f"(worker start-up included)")
    print(f"provider: {requests} requests, {accepted:,} personalizations, {distinct:,} distinct")
    print(f"peak memory: each worker at most {worker_peak:,.0f} MiB; bench with its data and "
          f"the fake provider {own_peak:,.0f} MiB")
    if sent != count or distinct != count or accepted != count:
        raise SystemExit("not every invitation was sent exactly once")


if __name__ == "__main__":
    main()
