"""Benchmark: audit appends from concurrent writers, then sealing and verifying the chain.

    .venv/bin/python bench/bench_audit.py                  # SQLite, 8 threads x 500 appends
    .venv/bin/python bench/bench_audit.py --quick          # 8 x 100
    .venv/bin/python bench/bench_audit.py --database-url postgresql+psycopg://.../db

Each thread appends events in transactions of their own (one event and one commit each, as a
respondent's page does), first through the former scheme, which took one global advisory lock
and read the last hash to chain each event on append (emulated here, PostgreSQL only), then
through `record_event`, which only inserts. It prints appends per second for both, then seals
every event (`seal_pending_events`) and verifies the chain, in events per second.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from survey import create_app  # noqa: E402
from survey.audit import record_event, seal_pending_events, verify_chain  # noqa: E402
from survey.database import upgrade_database  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import AuditEvent, utcnow  # noqa: E402

KEY = "bench-audit-key-long-enough-0123456789abcdef"


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def locked_append(connection, n: int) -> None:
    """The former append: a global lock, the last hash read, the new one computed and stored
    (into `summary`, the scheme's hash column being the sealer's now)."""
    connection.execute(text("SELECT pg_advisory_xact_lock(7262)"))
    last = connection.execute(select(AuditEvent.id).order_by(AuditEvent.id.desc())
                              .limit(1)).scalar()
    digest = hashlib.sha256(json.dumps([n, last]).encode()).hexdigest()
    connection.execute(insert(AuditEvent.__table__), {
        "created_at": utcnow(), "actor": "bench", "action": "bench.locked",
        "summary": {"chained": digest}})


def appends_per_second(app, threads: int, per_thread: int, append) -> float:
    def writer(offset: int) -> None:
        with app.app_context():
            for n in range(per_thread):
                with db.engine.begin() as connection:
                    append(connection, offset + n)

    workers = [threading.Thread(target=writer, args=(k * per_thread,)) for k in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return threads * per_thread / (time.perf_counter() - started)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url")
    parser.add_argument("--threads", type=int, default=8)
    arguments = parser.parse_args(argv)
    per_thread = 100 if arguments.quick else 500
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database_url or f"sqlite:///{folder}/bench.db"
        if url.startswith("postgresql"):
            reset_postgres(url)
        app = create_app({"INSTANCE_PATH": folder, "SQLALCHEMY_DATABASE_URI": url,
                          "AUDIT_KEY": KEY, "SECRET_KEY": KEY})
        upgrade_database(app)
        backend = url.split(":", 1)[0]
        total = arguments.threads * per_thread
        print(f"audit trail on {backend}: {arguments.threads} threads x {per_thread} appends, "
              "one commit each")
        if url.startswith("postgresql"):
            rate = appends_per_second(app, arguments.threads, per_thread, locked_append)
            print(f"  former append (global lock, chained on insert): {rate:,.0f} events/s")
            with app.app_context():
                db.session.execute(text("DELETE FROM audit_event"))
                db.session.commit()
        rate = appends_per_second(
            app, arguments.threads, per_thread,
            lambda connection, n: record_event(connection, "bench.append", actor="bench",
                                               summary={"n": n}))
        print(f"  append (insert only, sealed later):              {rate:,.0f} events/s")
        with app.app_context():
            started = time.perf_counter()
            sealed = 0
            while True:
                step = seal_pending_events(db.session, key=KEY, instance_path=folder).sealed
                if not step:
                    break
                sealed += step
            seal_seconds = time.perf_counter() - started
            started = time.perf_counter()
            result = verify_chain(db.session, key=KEY)
            verify_seconds = time.perf_counter() - started
            assert sealed == total and result.ok and result.events == total, result
        print(f"  sealing: {sealed:,} events in {seal_seconds:.2f} s "
              f"({sealed / seal_seconds:,.0f} events/s)")
        print(f"  verifying: {result.events:,} events in {verify_seconds:.2f} s "
              f"({result.events / verify_seconds:,.0f} events/s)")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
