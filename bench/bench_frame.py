"""Benchmark: import a generated customer base (Windows-1252, `;`) and draw a stratified sample.

    .venv/bin/python bench/bench_frame.py [--quick] [--customers N] [--sample N]
                                          [--database-url URL]

Without --database-url it runs on a fresh SQLite file, and on PostgreSQL too when
BAROMETRE_BENCH_POSTGRES_URL names an (expendable) database. Prints wall time, rate and the
process's peak resident memory for each step. Targets for 1,000,000 customers and a sample of
20,000: import under 60 s, draw under 10 s, peak memory under 3 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey import create_app  # noqa: E402
from survey.campaigns.operations import create_campaign  # noqa: E402
from survey.database import upgrade_database  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.frame.importing import import_customers  # noqa: E402
from survey.frame.sampling import draw_sample, plan_campaign  # noqa: E402
from survey.frame.synthetic import synthetic_customer_csv  # noqa: E402
from survey.models import Customer  # noqa: E402


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def run(
    database_url: str, label: str, data: bytes, sample: int, instance: Path, reimport: bool
) -> None:
    app = create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": database_url,
                      "SECRET_KEY": "bench-secret-key-0123456789-0123456789"})
    upgrade_database(app)
    with app.app_context():
        session = db.session
        started = time.perf_counter()
        report = import_customers(session, data, "customers.csv", actor="bench")
        session.commit()
        elapsed = time.perf_counter() - started
        customers = session.scalar(select(func.count()).select_from(Customer))
        print(f"[{label}] import: {report.rows_total:,} rows, {report.rows_created:,} created, "
              f"{report.rows_rejected:,} rejected in {elapsed:.1f} s "
              f"({report.rows_total / elapsed:,.0f} rows/s); {customers:,} customers; "
              f"peak memory {peak_memory_mb():,.0f} MB")

        if reimport:
            started = time.perf_counter()
            again = import_customers(session, data, "customers.csv", actor="bench")
            session.commit()
            elapsed = time.perf_counter() - started
            print(f"[{label}] re-import: {again.rows_unchanged:,} unchanged in {elapsed:.1f} s; "
                  f"peak memory {peak_memory_mb():,.0f} MB")

        campaign = create_campaign(session, "bench", programme="Bench", year=2026,
                                   questionnaire_key="nf-relation-client",
                                   channels=("email", "sms"), actor="bench")
        frame_size = report.rows_created
        started = time.perf_counter()
        # A margin chosen so the plan asks for about `sample` invitations at a 100 % rate.
        plan = plan_campaign(session, campaign, strata_variables=["segment", "site"],
                             margin=_margin_for(sample, frame_size), confidence=0.95,
                             response_rate=1.0, secret_key=app.config["SECRET_KEY"],
                             actor="bench")
        session.commit()
        planned = time.perf_counter() - started
        started = time.perf_counter()
        result = draw_sample(session, campaign, 20260101,
                             secret_key=app.config["SECRET_KEY"], actor="bench")
        session.commit()
        drawn = time.perf_counter() - started
        print(f"[{label}] plan: frame {plan['frame_size']:,} in {len(plan['strata'])} strata, "
              f"{plan['invitations']:,} invitations planned in {planned:.1f} s")
        print(f"[{label}] draw: {result.sample_size:,} invitations from {result.frame_size:,} "
              f"in {drawn:.1f} s; peak memory {peak_memory_mb():,.0f} MB")
        db.session.remove()
        db.engine.dispose()


def _margin_for(sample: int, population: int) -> float:
    from analysis.sample_size import expected_margin

    return expected_margin(sample, population)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 customers, sample 2,000")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--database-url")
    parser.add_argument("--reimport", action="store_true", help="also time a re-import")
    args = parser.parse_args()
    customers, sample = (50_000, 2_000) if args.quick else (args.customers, args.sample)

    started = time.perf_counter()
    data = synthetic_customer_csv(customers)
    print(f"generated {customers:,} customers: {len(data) / 1e6:.1f} MB of Windows-1252 CSV "
          f"in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        targets = []
        if args.database_url:
            targets.append(("database", args.database_url))
        else:
            targets.append(("sqlite", f"sqlite:///{folder}/bench.db"))
            if os.environ.get("BAROMETRE_BENCH_POSTGRES_URL"):
                targets.append(("postgresql", os.environ["BAROMETRE_BENCH_POSTGRES_URL"]))
        for label, url in targets:
            if url.startswith("postgresql"):
                reset_postgres(url)
            instance = Path(folder) / f"instance-{label}"
            instance.mkdir()
            run(url, label, data, sample, instance, args.reimport)


if __name__ == "__main__":
    main()
