"""The audit trail: append-only events for every action that changes data, chained by a keyed
hash and anchored outside the database.

Appending and chaining are two steps, as in append-only transparency logs:

1. `record_event` inserts the event in the caller's transaction, with no lock: its id orders it,
   and any number of respondents, senders and managers append at once.
2. `seal_pending_events` (the sender runs it every `BAROMETRE_AUDIT_SEAL_EVERY` seconds; reports
   and `barometre audit seal` run it too) gives the committed unsealed events, in id order, the
   next positions of the chain (`seq`) and chains each to the one before with an HMAC-SHA256
   under `BAROMETRE_AUDIT_KEY`, a key kept outside the database: someone able to write to the
   database cannot recompute the chain. It then writes the chain's head (position and hash) to
   `<instance>/audit_head.json`, outside the database, which reports print and
   `barometre audit verify` checks: deleting the newest sealed events, or rebuilding the trail,
   no longer goes unseen.

The window: an event can be deleted or changed undetected between its commit and its sealing
(a few seconds while a sender runs; the `/healthz` check `audit_trail` fails when an event
waits longer than two minutes). Every sealed event is covered by the chain and the head.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from survey.clients.scope import ALL_CLIENTS, owning_client_id
from survey.models import AuditEvent, Campaign, utcnow

GENESIS = "0" * 64
HEAD_FILE = "audit_head.json"
# An unsealed event older than this means no sealer runs: the health check says so.
SEAL_LATE_AFTER = 120.0

_AUDIT_EVENT = AuditEvent.__table__
_CHAINED_FIELDS = (
    "created_at", "actor", "actor_id", "action", "object_type", "object_id", "campaign_id",
    "summary",
)
_APPEND = insert(_AUDIT_EVENT)
# An event about a campaign recorded without a current client (the sender, the scheduler, a
# webhook) is that campaign's client's.
_APPEND_FOR_CAMPAIGN = insert(_AUDIT_EVENT).values(
    client_id=select(Campaign.client_id)
    .where(Campaign.id == bindparam("for_campaign")).scalar_subquery()
)
# Distinct from the other advisory locks of the application (imports 7263, jobs 7264).
_SEAL_LOCK = 7262


def _digest(key: bytes, fields: Mapping[str, Any], event_id: int, seq: int, prev: str) -> str:
    content = {name: fields[name] for name in _CHAINED_FIELDS}
    content["created_at"] = fields["created_at"].isoformat(timespec="microseconds")
    content.update(id=event_id, seq=seq, prev=prev)
    blob = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, blob.encode("utf-8"), hashlib.sha256).hexdigest()


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
    client_id: int | None = None,
) -> int:
    """Append one event, in the transaction of the session (or of the connection), and return
    its id; the caller commits with its own change. The sealer chains it shortly after.

    One plain statement, no lock: appends of concurrent requests never wait on each other.
    The summary must not hold personal data (emails, phones, names): the trail outlives purges.
    """
    connection = session if isinstance(session, Connection) else session.connection()
    fields: dict[str, Any] = {
        "created_at": at or utcnow(),
        "actor": actor,
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "campaign_id": campaign_id,
        "summary": json.loads(json.dumps(summary or {}, default=str)),
    }
    # The client whose trail it is: the one named, else the current one, else the campaign's;
    # none for the installation's own events. Not chained: events sealed before clients
    # existed keep their hash.
    if client_id is None:
        client_id = owning_client_id()
    if client_id is None and campaign_id is not None:
        return connection.execute(
            _APPEND_FOR_CAMPAIGN, {**fields, "for_campaign": campaign_id}
        ).inserted_primary_key[0]
    return connection.execute(_APPEND, {**fields, "client_id": client_id}).inserted_primary_key[0]


# --- the head, outside the database ----------------------------------------------------------


@dataclass(frozen=True)
class Head:
    """The newest sealed event: its position in the chain and its hash."""

    seq: int
    hash: str
    sealed_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "sealed_at": self.sealed_at}


def read_head(instance_path: str | os.PathLike[str]) -> Head | None:
    """The head recorded in the instance folder, or None before the first sealing."""
    path = Path(instance_path) / HEAD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Head(int(data["seq"]), str(data["hash"]), data.get("sealed_at"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AuditTrailError(f"{path}: not a readable audit head ({exc})") from exc


def write_head(instance_path: str | os.PathLike[str], head: Head) -> None:
    """Record `head` unless the file already holds a later one (several sealers may share an
    instance folder); written whole, then renamed, so that a reader never sees half a file."""
    folder = Path(instance_path)
    current = read_head(folder)
    if current is not None and current.seq >= head.seq:
        return
    temporary = folder / f".{HEAD_FILE}.{os.getpid()}"
    temporary.write_text(json.dumps(head.as_dict()) + "\n", encoding="utf-8")
    os.replace(temporary, folder / HEAD_FILE)


class AuditTrailError(RuntimeError):
    """The audit trail's head or key cannot be used."""


# --- sealing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealResult:
    sealed: int
    head: Head | None


def seal_pending_events(
    session: Session, *, key: str | bytes, instance_path: str | os.PathLike[str],
    limit: int = 5000,
) -> SealResult:
    """Chain the committed unsealed events (at most `limit`, oldest first), commit, and record
    the new head in the instance folder.

    Commits its own transaction: the head is written outside the database only once the chain
    it names is committed, so that it never names events that a rollback removed. Sealers
    exclude each other (an advisory lock on PostgreSQL, the write lock on SQLite); appenders
    never wait for them.
    """
    secret = key.encode("utf-8") if isinstance(key, str) else key
    session.commit()  # start from what is committed; never seal the caller's pending work
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({_SEAL_LOCK})"))
    # One chain for the installation: its last link is whichever client's, even when sealing
    # from within one client's scope (a command run with --client, a request).
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq.desc()).limit(1).execution_options(**{ALL_CLIENTS: True})
    ).first()
    seq, previous = (last.seq, last.hash) if last else (0, GENESIS)
    pending = session.execute(
        select(_AUDIT_EVENT).where(_AUDIT_EVENT.c.seq.is_(None))
        .order_by(_AUDIT_EVENT.c.id).limit(limit)
    ).mappings().all()
    chained = []
    for row in pending:
        seq += 1
        digest = _digest(secret, row, row["id"], seq, previous)
        chained.append({"event_id": row["id"], "new_seq": seq, "new_prev": previous,
                        "new_hash": digest})
        previous = digest
    if chained:
        session.connection().execute(
            update(_AUDIT_EVENT).where(_AUDIT_EVENT.c.id == bindparam("event_id"))
            .values(seq=bindparam("new_seq"), prev_hash=bindparam("new_prev"),
                    hash=bindparam("new_hash")),
            chained,
        )
    session.commit()
    head = Head(seq, previous, utcnow().isoformat(timespec="seconds")) if seq else None
    if head is not None:
        write_head(instance_path, head)
    return SealResult(len(chained), head)


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainVerification:
    events: int
    first_broken_id: int | None
    reason: str | None
    pending: int = 0
    head: Head | None = None
    anchored: bool = False  # checked against a head recorded outside the database

    @property
    def ok(self) -> bool:
        return self.reason is None


def verify_chain(
    session: Session, *, key: str | bytes | None = None, head: Head | None = None,
    head_hash: str | None = None,
) -> ChainVerification:
    """Walk the sealed chain in order and name the first event whose position, link or content
    does not hold; then check that the chain still reaches `head` (the one recorded in the
    instance folder) and `head_hash` (an auditor's copy from a report), so that deleting the
    newest events or rebuilding the trail is seen.

    `key` defaults to the application's `AUDIT_KEY`. Unsealed events are counted, not checked.
    """
    if key is None:
        from flask import current_app

        key = current_app.config["AUDIT_KEY"]
    secret = key.encode("utf-8") if isinstance(key, str) else key
    previous, count, seq = GENESIS, 0, 0
    seen_hashes: dict[str, int] = {}
    query = (select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)
             .execution_options(yield_per=1000))
    for event in session.scalars(query):
        count += 1
        seq += 1
        if event.seq != seq or (event.prev_hash or GENESIS) != previous:
            return _broken(session, count, event.id,
                           "does not follow the event before it", head)
        fields = {name: getattr(event, name) for name in _CHAINED_FIELDS}
        if not hmac.compare_digest(_digest(secret, fields, event.id, seq, previous),
                                   event.hash or ""):
            return _broken(session, count, event.id,
                           "content changed after it was recorded", head)
        previous = event.hash
        if head_hash is not None or head is not None:
            seen_hashes[event.hash] = event.seq
    pending = _pending(session)
    last = Head(seq, previous) if seq else None
    for expected, source in ((head, "the head recorded in the instance folder"),
                             (Head(-1, head_hash) if head_hash else None, "the head given")):
        if expected is None:
            continue
        at = seen_hashes.get(expected.hash)
        if at is None or (expected.seq >= 0 and at != expected.seq):
            position = f"event {expected.seq} " if expected.seq >= 0 else ""
            return ChainVerification(
                count, None,
                f"the trail does not reach {source} ({position}{expected.hash[:16]}…): "
                f"its newest events were deleted or the trail was rebuilt (it ends at "
                f"{'event ' + str(seq) if seq else 'no event'})",
                pending, last, True,
            )
    return ChainVerification(count, None, None, pending, last,
                             head is not None or head_hash is not None)


def _broken(session: Session, count: int, event_id: int, reason: str,
            head: Head | None) -> ChainVerification:
    return ChainVerification(count, event_id, reason, _pending(session), None, head is not None)


def _pending(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.seq.is_(None))) or 0


def sealed_head(session: Session) -> Head | None:
    """The newest sealed event of the database: what a report prints as the trail's head."""
    row = session.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.is_not(None))
                          .order_by(AuditEvent.seq.desc()).limit(1)
                          .execution_options(**{ALL_CLIENTS: True})).first()
    return Head(row.seq, row.hash) if row else None


def oldest_unsealed_age(session: Session, now: datetime | None = None) -> float | None:
    """Seconds since the oldest unsealed event was recorded, None when all are sealed."""
    oldest = session.scalar(select(func.min(AuditEvent.created_at))
                            .where(AuditEvent.seq.is_(None)))
    if oldest is None:
        return None
    return max(0.0, ((now or utcnow()) - oldest).total_seconds())
