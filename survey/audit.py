"""The audit trail: append-only, hash-chained events for every action that changes data.

Each event stores the SHA-256 of the previous event and of its own content, so that changing,
deleting or inserting a row anywhere breaks the chain at that point (`verify_chain`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from survey.models import AuditEvent, utcnow

GENESIS = "0" * 64


def _content_digest(event: AuditEvent, prev_hash: str) -> str:
    content = {
        "prev": prev_hash,
        "created_at": event.created_at.isoformat(timespec="microseconds"),
        "actor": event.actor,
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "campaign_id": event.campaign_id,
        "summary": event.summary,
    }
    blob = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def record_event(
    session: Session,
    action: str,
    *,
    actor: str,
    actor_id: int | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    campaign_id: int | None = None,
    summary: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain and flush; the caller commits with its own change.

    The summary must not hold personal data (emails, phones, names): the trail outlives purges.
    """
    if session.get_bind().dialect.name == "postgresql":
        # One appender at a time, so that two events never claim the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(7262)"))
    last = session.scalars(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    event = AuditEvent(
        created_at=at or utcnow(),
        actor=actor,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        campaign_id=campaign_id,
        summary=json.loads(json.dumps(summary or {}, default=str)),
        prev_hash=last,
    )
    event.hash = _content_digest(event, last or GENESIS)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainVerification:
    events: int
    first_broken_id: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify_chain(session: Session) -> ChainVerification:
    """Walk the chain in order and name the first event whose link or content does not hold."""
    previous = GENESIS
    count = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        count += 1
        if (event.prev_hash or GENESIS) != previous:
            return ChainVerification(count, event.id, "does not follow the event before it")
        if _content_digest(event, previous) != event.hash:
            return ChainVerification(count, event.id, "content changed after it was recorded")
        previous = event.hash
    return ChainVerification(count, None, None)
