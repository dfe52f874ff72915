"""Benchmark: the follow-up queue, the home page's counts, the loop's figures and the daily
digest over a large backlog of follow-ups.

    python bench/bench_followups.py [--quick] [--follow-ups N] [--database-url URL]

Prints the time of each; the target is a queue page under 0.5 s with 50,000 follow-ups
(a large centre's several years of callbacks and detractors).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey import create_app  # noqa: E402
from survey.auth.operations import create_user  # noqa: E402
from survey.campaigns.operations import create_campaign  # noqa: E402
from survey.database import upgrade_database  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.followups import operations as ops  # noqa: E402
from survey.followups.figures import follow_ups_table, loop_figures  # noqa: E402
from survey.followups.notifications import build_digest  # noqa: E402
from survey.models import FollowUp, Invitation, Response  # noqa: E402

QUEUE_LIMIT_S = 0.5


def timed(label: str, work, repeat: int = 3):  # noqa: ANN001, ANN201
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    print(f"{label:<40} {best * 1000:>9.1f} ms")
    return best, result


def seed(session, n: int) -> None:  # noqa: ANN001
    rng = np.random.default_rng(19)
    campaign = create_campaign(session, "bench-2026", programme="Bench", year=2026,
                               questionnaire_key="nf-relation-client", actor="bench")
    users = [create_user(session, f"agent{i}@bench.example", "manager", "a-long-password-123",
                         actor="bench") for i in range(20)]
    session.flush()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    invitations, responses, follow_ups = [], [], []
    for i in range(1, n + 1):
        created = start + timedelta(minutes=int(rng.integers(0, 3 * 365 * 24 * 60)))
        invitations.append({"id": i, "campaign_id": campaign.id, "stratum": "A",
                            "design_weight": 1.0, "attributes": {}, "token_salt": f"{i:032d}",
                            "token_hash": f"{i:064d}", "language": "fr", "channel": "email",
                            "disposition": "complete", "is_test": False, "created_at": created})
        score = int(rng.integers(0, 7))
        responses.append({"id": i, "invitation_id": i,
                          "questionnaire_version_id": campaign.questionnaire_version_id,
                          "answers": {"nps": score, "comment": "Attente trop longue, merci de "
                                      "me rappeler au plus vite s'il vous plaît."},
                          "current_page": 3, "status": "complete", "language": "fr",
                          "revision": 4, "started_at": created, "updated_at": created,
                          "completed_at": created})
        closed = rng.random() < 0.9
        closed_at = created + timedelta(hours=float(rng.gamma(2, 20))) if closed else None
        follow_ups.append({
            "campaign_id": campaign.id, "response_id": i,
            "kind": "callback" if rng.random() < 0.4 else "detractor",
            "status": "closed" if closed else str(rng.choice(["open", "in_progress"])),
            "preferred_channel": "phone", "score": score, "score_max": 10,
            "owner_id": users[int(rng.integers(0, 20))].id if rng.random() < 0.7 else None,
            "due_at": created + timedelta(days=3), "created_at": created,
            "first_contact_at": closed_at, "contact_attempts": 1 if closed else 0,
            "closed_at": closed_at, "outcome": "resolved" if closed else None})
    for table, rows in ((Invitation, invitations), (Response, responses),
                        (FollowUp, follow_ups)):
        for chunk in range(0, len(rows), 5000):
            session.execute(insert(table.__table__), rows[chunk:chunk + 5000])
    session.commit()


def run(url: str, label: str, n: int, instance: Path) -> bool:
    app = create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url,
                      "SECRET_KEY": "bench-secret-key-0123456789-0123456789"})
    upgrade_database(app)
    with app.app_context():
        session = db.session
        started = time.perf_counter()
        seed(session, n)
        print(f"== {label}: {n:,} follow-ups seeded in {time.perf_counter() - started:.1f} s")
        now = datetime(2027, 1, 10, 9, tzinfo=UTC)
        first, page = timed("queue, first page (being handled)", lambda: ops.queue_page(
            session, ops.QueueFilters(), user_id=1, now=now))
        last, _ = timed("queue, last page of all", lambda: ops.queue_page(
            session, ops.QueueFilters(state="all", page=10**6), user_id=1, now=now))
        timed("queue, overdue by score", lambda: ops.queue_page(
            session, ops.QueueFilters(overdue=True, sort="score"), user_id=1, now=now))
        timed("home page counts", lambda: ops.loop_counts(session, now=now))
        timed("loop figures (report, status)", lambda: loop_figures(
            follow_ups_table(session, 1), now=now))
        session.rollback()
        digest, result = timed("digest to 20 managers", lambda: build_digest(
            session, now=now), repeat=1)
        session.rollback()
        print(f"queue: {page.total:,} being handled, {page.pages:,} pages; digest: "
              f"{result.queued} queued")
    with app.app_context():
        db.engine.dispose()
    worst = max(first, last)
    print(f"queue page at worst {worst * 1000:.0f} ms (limit {QUEUE_LIMIT_S * 1000:.0f} ms)")
    return worst < QUEUE_LIMIT_S


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 follow-ups instead")
    parser.add_argument("--follow-ups", type=int, default=None)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    n = args.follow_ups or (5_000 if args.quick else 50_000)
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        targets = [("database", args.database_url)] if args.database_url else [
            ("sqlite", f"sqlite:///{folder}/bench.db")]
        if not args.database_url and os.environ.get("BAROMETRE_BENCH_POSTGRES_URL"):
            targets.append(("postgresql", os.environ["BAROMETRE_BENCH_POSTGRES_URL"]))
        for label, url in targets:
            if url.startswith("postgresql"):
                engine = create_engine(url)
                with engine.begin() as connection:
                    connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                    connection.execute(text("CREATE SCHEMA public"))
                engine.dispose()
            instance = Path(folder) / f"instance-{label}"
            instance.mkdir()
            ok = run(url, label, n, instance) and ok
    print("OK" if ok else "OVER LIMIT")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
