"""The audit trail: append-only, hash-chained events for every action that changes data.

Each event stores the SHA-256 of the previous event and of its own content, so that changing,
deleting or inserting a row anywhere breaks the chain at that point (`verify_chain`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text
from sqlalchemy.orm import Session

from survey.models import AuditEvent, utcnow

GENESIS = "0" * 64


_AUDIT_EVENT = AuditEvent.__table__
_CHAINED_FIELDS = (
    "created_at", "actor", "actor_id", "action", "object_type", "object_id", "campaign_id",
    "summary",
)
_LAST_HASH = select(_AUDIT_EVENT.c.hash).order_by(_AUDIT_EVENT.c.id.desc()).limit(1)
_APPEND = insert(_AUDIT_EVENT)


def _content_digest(fields: Mapping[str, Any], prev_hash: str) -> str:
    content = {name: fields[name] for name in _CHAINED_FIELDS}
    content["prev"] = prev_hash
    content["created_at"] = fields["created_at"].isoformat(timespec="microseconds")
    blob = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def record_event(
    session: Session | Connection,
    action: str,
    *,
    actor: str,
    actor_id: int | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    campaign_id: int | None = None,
    summary: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append one event to the chain, in the transaction of the session (or of the connection),
    and return its id; the caller commits with its own change.

    Written with two plain statements rather than through the ORM: a respondent's answers
    append two events, and a flush of one object costs more than both statements.
    The summary must not hold personal data (emails, phones, names): the trail outlives purges.
    """
    connection = session if isinstance(session, Connection) else session.connection()
    if connection.dialect.name == "postgresql":
        # One appender at a time, so that two events never claim the same predecessor.
        connection.execute(text("SELECT pg_advisory_xact_lock(7262)"))
    last = connection.execute(_LAST_HASH).scalar()
    fields: dict[str, Any] = {
        "created_at": at or utcnow(),
        "actor": actor,
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "campaign_id": campaign_id,
        "summary": json.loads(json.dumps(summary or {}, default=str)),
        "prev_hash": last,
    }
    fields["hash"] = _content_digest(fields, last or GENESIS)
    return connection.execute(_APPEND, fields).inserted_primary_key[0]


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
        fields = {name: getattr(event, name) for name in _CHAINED_FIELDS}
        if _content_digest(fields, previous) != event.hash:
            return ChainVerification(count, event.id, "content changed after it was recorded")
        previous = event.hash
    return ChainVerification(count, None, None)
