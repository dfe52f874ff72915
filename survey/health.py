"""`/healthz`: what a load balancer or a monitoring probe asks of a running barometre.

Public and without personal data: the answer says whether the database answers, whether its
schema is at the code's revision, and how long ago a sender worker last showed a sign of life.
It is 200 when the service can do its work and 503 otherwise, so that a reverse proxy or
systemd watchdog can act on the status code alone.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from survey.extensions import db
from survey.models import Message, MessageState, WorkerHeartbeat, utcnow

blueprint = Blueprint("health", __name__)

# The sender's own threshold for taking a worker for dead (SenderSettings.stale_after).
DEFAULT_STALE_AFTER = 120.0


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    report = health_report()
    response = jsonify(report)
    response.status_code = 200 if report["status"] == "ok" else 503
    # A probe must see the state of now, never a cached one.
    response.headers["Cache-Control"] = "no-store"
    return response


def health_report() -> dict[str, Any]:
    """The three checks, each with its own verdict; the whole is `ok` only when all are."""
    checks: dict[str, Any] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except SQLAlchemyError as exc:
        db.session.rollback()
        # The driver's message may name the host, never a person: still, keep only the class.
        checks["database"] = {"ok": False, "error": type(exc.orig or exc).__name__}
        checks["migrations"] = {"ok": False, "error": "database unreachable"}
        checks["sender"] = {"ok": False, "error": "database unreachable"}
        checks["audit_trail"] = {"ok": False, "error": "database unreachable"}
        return {"status": "unavailable", "checks": checks}

    checks["migrations"] = _migrations()
    checks["sender"] = _sender()
    checks["audit_trail"] = _audit_trail()
    db.session.rollback()  # read-only: end the transaction the checks opened
    healthy = all(check["ok"] for check in checks.values())
    return {"status": "ok" if healthy else "unavailable", "checks": checks}


def _migrations() -> dict[str, Any]:
    from alembic.runtime.migration import MigrationContext

    from survey.database import head_revision

    # Through the session's own connection: on SQLite a second connection would wait for
    # the write lock that the session's transaction holds (every transaction is IMMEDIATE).
    current = MigrationContext.configure(db.session.connection()).get_current_revision()
    head = head_revision()
    return {"ok": current == head, "current": current, "head": head}


def _sender() -> dict[str, Any]:
    """A sender is needed only when messages wait: an idle centre with no worker is healthy,
    a queue with nobody to deliver it is not."""
    stale_after = float(current_app.config.get("SEND_STALE_AFTER") or DEFAULT_STALE_AFTER)
    now = utcnow()
    last_seen = db.session.scalar(select(func.max(WorkerHeartbeat.seen_at)))
    age = None if last_seen is None else max(0.0, (now - last_seen).total_seconds())
    alive = age is not None and age <= stale_after
    waiting = db.session.scalar(
        select(Message.id)
        .where(Message.state == MessageState.QUEUED, Message.due_at <= now)
        .limit(1)
    ) is not None
    if alive:
        state = "running"
    elif waiting:
        state = "down"
    else:
        state = "idle"
    return {
        "ok": state != "down",
        "state": state,
        "heartbeat_age_seconds": None if age is None else round(age, 1),
        "stale_after_seconds": stale_after,
        "messages_waiting": waiting,
    }


def _audit_trail() -> dict[str, Any]:
    """Events are sealed (no event waits longer than `SEAL_LATE_AFTER`: a sealer runs), and
    the database still holds the head recorded in the instance folder (not truncated)."""
    from survey.audit import SEAL_LATE_AFTER, AuditTrailError, oldest_unsealed_age, read_head
    from survey.models import AuditEvent

    age = oldest_unsealed_age(db.session)
    check: dict[str, Any] = {"ok": True, "oldest_unsealed_seconds":
                             None if age is None else round(age, 1)}
    if age is not None and age > SEAL_LATE_AFTER:
        check.update(ok=False, error="events wait to be sealed: no sender runs")
    try:
        head = read_head(current_app.config["INSTANCE_PATH"])
    except AuditTrailError:
        return {**check, "ok": False, "error": "the recorded head cannot be read"}
    if head is not None:
        found = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == head.seq))
        check["head_seq"] = head.seq
        if found != head.hash:
            check.update(ok=False, error="the trail no longer reaches the recorded head")
    return check
