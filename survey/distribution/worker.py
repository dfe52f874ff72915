"""The sender: claims due messages from the Message table, sends them, records what happened.

Crash safety comes from three transactions per batch:

1. claim: `queued → sending` with this worker's id and a batch id, committed before any
   network call (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so that workers never share a row;
   on SQLite every transaction begins IMMEDIATE, which serialises claims);
2. the backend call, with no transaction open (SQLite's write lock is not held while waiting
   for a provider);
3. the outcomes: `sending → sent | queued (retry) | failed`, only for rows still claimed by
   this worker and batch.

A worker killed between 1 and 3 leaves its batch `sending`. When it restarts under the same
id, or when another worker sees that its heartbeat is older than `stale_after`, the batch is
queued again and flagged `possibly_duplicated`: the provider may have accepted it, and those
messages, at most one batch per crash, are counted in the campaign status.
"""

from __future__ import annotations

import logging
import math
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.distribution.backends import ACCEPTED, FAILED, Backend, Outcome, backend_for
from survey.distribution.operations import (
    NO_REMINDER,
    advance_dispositions,
    schedule_reminders,
    suppressed_pairs,
    suppression_hash,
)
from survey.distribution.rendering import Outgoing, TemplateCache, links_for, wording_for
from survey.distribution.sms_window import DEFAULT_SMS_WINDOW
from survey.extensions import db
from survey.models import (
    Campaign,
    CampaignStatus,
    Channel,
    Disposition,
    Invitation,
    Message,
    MessageKind,
    MessageState,
    WorkerHeartbeat,
    utcnow,
)

log = logging.getLogger(__name__)

# Cases that no message may reach any more, whatever its kind.
NO_MESSAGE = (Disposition.COMPLETE, Disposition.OPTED_OUT, Disposition.INELIGIBLE)


def _env_float(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


# The environment variable of each setting, written in full so that docs/configuration.md can be
# checked against the code (tests/survey/test_documentation.py).
_SENDER_VARIABLES = {
    "SEND_MAX_RATE_EMAIL": "BAROMETRE_SEND_MAX_RATE_EMAIL",
    "SEND_MAX_RATE_SMS": "BAROMETRE_SEND_MAX_RATE_SMS",
    "SEND_BATCH_SIZE": "BAROMETRE_SEND_BATCH_SIZE",
    "SEND_MAX_ATTEMPTS": "BAROMETRE_SEND_MAX_ATTEMPTS",
    "SEND_BACKOFF_BASE": "BAROMETRE_SEND_BACKOFF_BASE",
    "SEND_STALE_AFTER": "BAROMETRE_SEND_STALE_AFTER",
    "SEND_DUPLICATE_SHARE": "BAROMETRE_SEND_DUPLICATE_SHARE",
}


@dataclass
class SenderSettings:
    batch_size: int = 1000  # capped by each backend's own maximum
    max_attempts: int = 8
    backoff_base: float = 30.0  # seconds before the first retry; doubles each attempt
    backoff_max: float = 3600.0
    stale_after: float = 120.0  # a claim whose worker was not seen for this long is re-queued
    # A batched provider's batch is at most this share of the messages queued (at least
    # `min_batch`): a killed worker re-sends at most that batch (`Sender.duplicate_bound`).
    duplicate_share: float = 0.02
    min_batch: int = 100
    heartbeat_every: float = 15.0  # also while a slow batch is in hand (a thread of its own)
    reminder_every: float = 60.0
    # Audit events are chained by the sender shortly after they are appended (survey.audit):
    # the window in which a fresh event could be removed unseen. None: from AUDIT_SEAL_EVERY.
    seal_every: float | None = None
    idle_sleep: float = 2.0
    # SMS only inside the configured window (`SMS_WINDOW`, by default 9:00-20:00 Monday to
    # Saturday but French public holidays); False only where no phone rings (the demo's outbox).
    sms_window: bool = True
    # Messages per second and channel; None: as fast as the provider accepts.
    max_rate: dict[str, float | None] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping) -> SenderSettings:  # noqa: ANN102
        def pick(key: str) -> float | None:
            value = config.get(key)
            return float(value) if value else _env_float(_SENDER_VARIABLES[key])

        settings = cls(max_rate={Channel.EMAIL: pick("SEND_MAX_RATE_EMAIL"),
                                 Channel.SMS: pick("SEND_MAX_RATE_SMS")})
        for key, attribute in (("SEND_BATCH_SIZE", "batch_size"),
                               ("SEND_MAX_ATTEMPTS", "max_attempts")):
            value = pick(key)
            if value:
                setattr(settings, attribute, int(value))
        for key, attribute in (("SEND_BACKOFF_BASE", "backoff_base"),
                               ("SEND_STALE_AFTER", "stale_after"),
                               ("SEND_DUPLICATE_SHARE", "duplicate_share")):
            value = pick(key)
            if value is not None:
                setattr(settings, attribute, value)
        return settings


class RateLimiter:
    """Paces batches so that a channel never exceeds `rate` messages per second."""

    def __init__(self, rate: float | None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.sleep = sleep
        self.next_free = 0.0

    def batch_limit(self, size: int) -> int:
        """Batches hold at most one second's worth, so that pacing stays smooth."""
        return size if not self.rate else max(1, min(size, int(self.rate)))

    def acquire(self, count: int) -> None:
        if not self.rate:
            return
        now = time.monotonic()
        start = max(now, self.next_free)
        if start > now:
            self.sleep(start - now)
        self.next_free = start + count / self.rate


@dataclass
class SendStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    requeued: int = 0
    reminders: int = 0
    batches: int = 0

    def add(self, other: SendStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Sender:
    """One sending worker. Call inside an application context."""

    def __init__(self, app: Flask, *, worker_id: str | None = None,
                 backends: Mapping[str, Backend] | None = None,
                 settings: SenderSettings | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.app = app
        self.worker_id = worker_id or default_worker_id()
        self.actor = f"worker:{self.worker_id}"[:100]
        self.settings = settings or SenderSettings.from_config(app.config)
        self.clock = clock
        self.sleep = sleep
        self._backends = dict(backends or {})
        self.timezone = app.config.get("TIMEZONE", "Europe/Paris")
        self.sms_window = app.config.get("SMS_WINDOW") or DEFAULT_SMS_WINDOW
        self.secret_key = app.config["SECRET_KEY"]
        self.templates = TemplateCache()
        self.limiters = {channel: RateLimiter(self.settings.max_rate.get(channel), sleep)
                         for channel in Channel}
        self.paused_until: dict[str, datetime] = {}
        self.stop = threading.Event()
        self._last_reminders = -float("inf")
        self._last_seal = -float("inf")
        self.seal_every = (self.settings.seal_every
                           or float(app.config.get("AUDIT_SEAL_EVERY") or 10.0))
        # `barometre send` queues reminders itself; inside `barometre worker` the scheduler's
        # `reminders` task does, once across all workers.
        self.queues_reminders = True
        self._queued: dict[str, int] = {}

    @property
    def session(self) -> Session:
        return db.session

    def backend(self, channel: str) -> Backend:
        if channel not in self._backends:
            self._backends[channel] = backend_for(channel, self.app.config)
        return self._backends[channel]

    # --- the loop ------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> SendStats:
        """Send until stopped (or, with `once`, until nothing is due)."""
        total = SendStats()
        total.requeued += self.recover(own=True)
        done = threading.Event()
        beating = threading.Thread(target=self._beat_until, args=(done,), daemon=True,
                                   name=f"heartbeat {self.worker_id}")
        beating.start()
        try:
            self._loop(total, once)
        finally:
            done.set()
            beating.join(timeout=10)
        return total

    def _beat_until(self, done: threading.Event) -> None:
        """Keep the heartbeat fresh while a batch waits on a slow provider, so that no other
        worker takes this one for dead (its own session, in its own application context)."""
        with self.app.app_context():
            try:
                while not done.wait(self.settings.heartbeat_every):
                    self.heartbeat()
            finally:
                db.session.remove()

    def _loop(self, total: SendStats, once: bool) -> None:
        while not self.stop.is_set():
            self.heartbeat()
            # Reminders and stale claims once a minute (and at start), not at every batch.
            if time.monotonic() - self._last_reminders >= self.settings.reminder_every:
                self.templates = TemplateCache()  # a changed closing date shows from now on
                if self.queues_reminders:
                    total.reminders += self.queue_reminders()
                total.requeued += self.recover(own=False)
                self._queued.clear()  # batch sizes follow what is queued now
                self._last_reminders = time.monotonic()
            if time.monotonic() - self._last_seal >= self.seal_every:
                self.seal_audit_trail()
                self._last_seal = time.monotonic()
            stats = self.send_due()
            total.add(stats)
            if stats.batches == 0:
                if once:
                    break
                self.stop.wait(self.settings.idle_sleep)

    def heartbeat(self) -> None:
        session = self.session
        now = self.clock()
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(WorkerHeartbeat).values(worker_id=self.worker_id, seen_at=now)
        session.execute(statement.on_conflict_do_update(
            index_elements=[WorkerHeartbeat.worker_id], set_={"seen_at": now}))
        session.commit()

    def seal_audit_trail(self) -> int:
        """Chain the audit events appended since the last sealing and record the new head.

        Until survey/worker's scheduler runs it, the sender does: every deployment runs one.
        """
        from survey.audit import seal_pending_events

        result = seal_pending_events(self.session, key=self.app.config["AUDIT_KEY"],
                                     instance_path=self.app.config["INSTANCE_PATH"])
        return result.sealed

    def queue_reminders(self) -> int:
        queued = schedule_reminders(self.session, secret_key=self.secret_key, now=self.clock(),
                                    timezone=self.timezone, actor=self.actor,
                                    window=self.sms_window)
        self.session.commit()
        return queued

    def recover(self, *, own: bool) -> int:
        """Queue again the messages left `sending` by a worker that stopped mid-batch."""
        session = self.session
        now = self.clock()
        cutoff = now - timedelta(seconds=self.settings.stale_after)
        dead = select(WorkerHeartbeat.worker_id).where(WorkerHeartbeat.seen_at < cutoff)
        alive = select(WorkerHeartbeat.worker_id)
        claimed_by_dead = or_(
            Message.claimed_by.in_(dead),
            Message.claimed_by.is_(None),
            (~Message.claimed_by.in_(alive)) & (Message.claimed_at < cutoff),
        )
        if own:  # at start: whatever this worker id had in flight died with its last run
            condition = or_(Message.claimed_by == self.worker_id, claimed_by_dead)
        else:
            condition = claimed_by_dead & Message.claimed_by.is_distinct_from(self.worker_id)
        result = session.execute(
            update(Message)
            .where(Message.state == MessageState.SENDING, condition)
            .values(state=MessageState.QUEUED.value, possibly_duplicated=True, claimed_by=None,
                    due_at=now, last_error="the worker stopped with this message in flight")
            .execution_options(synchronize_session=False)
        )
        count = result.rowcount or 0
        if count:
            record_event(session, "distribution.requeue", actor=self.actor,
                         object_type="message", summary={"requeued_in_flight": count})
            log.warning("re-queued %d messages left in flight by a stopped worker", count)
        session.commit()
        return count

    # --- one pass --------------------------------------------------------------------------

    def send_due(self) -> SendStats:
        stats = SendStats()
        now = self.clock()
        for channel in (Channel.EMAIL, Channel.SMS):
            if self.stop.is_set():
                break
            if self.paused_until.get(channel, now) > now:
                continue
            if channel == Channel.SMS and self.settings.sms_window and \
                    not self.sms_window.contains(now, self.timezone):
                continue  # held until the window opens again (BAROMETRE_SMS_HOURS, _DAYS...)
            has_work = self.session.scalar(
                select(Message.id).where(Message.state == MessageState.QUEUED,
                                         Message.channel == channel.value,
                                         Message.due_at <= now).limit(1))
            if has_work is None:
                self.session.commit()
                continue
            backend = self.backend(channel)
            limit = self.limiters[channel].batch_limit(
                min(self.settings.batch_size, backend.max_batch, self.duplicate_bound(channel)))
            batch_id, ids = self.claim(channel, limit, now)
            if ids:
                stats.add(self.process(channel, backend, batch_id, ids))
        return stats

    def duplicate_bound(self, channel: str) -> int:
        """The largest batch for a batched provider (SendGrid), whose batch in flight is sent
        again when its worker is killed: `duplicate_share` of the messages queued (read once a
        minute), never fewer than `min_batch`. A per-message provider has no such bound: its
        messages are marked sent one by one."""
        backend = self.backend(channel)
        if getattr(backend, "per_message", False) or not self.settings.duplicate_share:
            return self.settings.batch_size
        queued = self._queued.get(channel)
        if queued is None:
            queued = self._queued[channel] = self.session.scalar(
                select(func.count()).select_from(Message).where(
                    Message.state == MessageState.QUEUED, Message.channel == channel)) or 0
        return max(self.settings.min_batch, math.ceil(queued * self.settings.duplicate_share))

    def claim(self, channel: str, limit: int, now: datetime) -> tuple[str, list[int]]:
        session = self.session
        batch_id = uuid.uuid4().hex
        due = (
            select(Message.id)
            .where(Message.state == MessageState.QUEUED, Message.channel == channel,
                   Message.due_at <= now)
            # By due time only: the (state, due_at) index then yields rows in order and the
            # LIMIT stops the scan; a tie-break on id would sort every due row at each claim.
            .order_by(Message.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list(session.scalars(
            update(Message)
            .where(Message.id.in_(due.scalar_subquery()))
            .values(state=MessageState.SENDING.value, claimed_by=self.worker_id,
                    claimed_at=now, batch_id=batch_id, attempts=Message.attempts + 1)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        ))
        session.commit()
        return batch_id, sorted(ids)

    def process(self, channel: str, backend: Backend, batch_id: str,
                ids: Sequence[int]) -> SendStats:
        session = self.session
        stats = SendStats(batches=1)
        rows = session.execute(
            select(Message.id, Message.kind, Message.to_address, Message.campaign_id,
                   Message.attempts, Invitation.id, Invitation.language, Invitation.token_salt,
                   Invitation.disposition, Invitation.opted_out_at)
            .join(Invitation, Message.invitation_id == Invitation.id)
            .where(Message.id.in_(ids))
        ).all()
        campaigns = {c.id: c for c in session.scalars(
            select(Campaign).where(Campaign.id.in_({row[3] for row in rows})))}
        hashes = {row[0]: (campaigns[row[3]].client_id,
                           suppression_hash(self.secret_key, channel, row[2]))
                  for row in rows if row[2]}
        suppressed = suppressed_pairs(session, hashes.values())
        outgoing: list[Outgoing] = []
        attempts: dict[int, tuple[int, int]] = {}  # message id -> (attempts, invitation id)
        cancelled: dict[str, list[int]] = {}
        opted_out_invitations: list[int] = []
        for (message_id, kind, address, campaign_id, tries, invitation_id, language, salt,
             disposition, opted_out_at) in rows:
            campaign = campaigns[campaign_id]
            reason = None
            if campaign.status != CampaignStatus.OPEN:
                reason = f"campaign is {campaign.status}"
            elif disposition in NO_MESSAGE or opted_out_at is not None:
                reason = f"invitation is {disposition}"
            elif kind == MessageKind.REMINDER and disposition in NO_REMINDER:
                reason = f"no reminder: invitation is {disposition}"
            elif not address:
                reason = "no address"
            elif hashes[message_id] in suppressed:
                reason = "contact opted out"
                opted_out_invitations.append(invitation_id)
            if reason:
                cancelled.setdefault(reason, []).append(message_id)
                continue
            template = self.templates.get(campaign, channel, wording_for(kind, disposition),
                                          language)
            outgoing.append(Outgoing(message_id, channel, address, template, links_for(salt),
                                     reference=f"barometre-{message_id}"))
            attempts[message_id] = (tries, invitation_id)
        for reason, message_ids in cancelled.items():
            session.execute(
                update(Message).where(Message.id.in_(message_ids))
                .values(state=MessageState.CANCELLED.value, claimed_by=None,
                        last_error=f"not sent: {reason}")
                .execution_options(synchronize_session=False))
            stats.cancelled += len(message_ids)
        if opted_out_invitations:
            advance_dispositions(session, opted_out_invitations, Disposition.OPTED_OUT,
                                 self.clock())
        session.commit()  # no transaction (and no SQLite lock) held while the provider answers

        if outgoing:
            self.limiters[channel].acquire(len(outgoing))
            on_outcome = None
            if getattr(backend, "per_message", False):
                def on_outcome(message: Outgoing, outcome: Outcome) -> None:
                    self._sent_now(batch_id, message, outcome, attempts)
            outcomes = backend.send(outgoing, on_outcome=on_outcome)
            self.record(channel, backend, batch_id, outgoing, outcomes, attempts, stats)
        else:
            session.commit()
        return stats

    def record(self, channel: str, backend: Backend, batch_id: str,
               outgoing: Sequence[Outgoing], outcomes: Sequence[Outcome],
               attempts: Mapping[int, tuple[int, int]], stats: SendStats) -> None:
        session = self.session
        now = self.clock()
        table = Message.__table__
        mine = (table.c.id == bindparam("b_id"), table.c.state == MessageState.SENDING.value,
                table.c.claimed_by == self.worker_id, table.c.batch_id == batch_id)
        sent, retried, failed = [], [], []
        sent_invitations, failed_invitations, refused_invitations = [], [], []
        longest_wait = 0.0
        for message, outcome in zip(outgoing, outcomes, strict=True):
            tries, invitation_id = attempts[message.message_id]
            if outcome.status == ACCEPTED:
                sent.append({"b_id": message.message_id, "b_provider": outcome.provider_id})
                sent_invitations.append(invitation_id)
            elif outcome.status == FAILED or tries >= self.settings.max_attempts:
                error = outcome.error if outcome.status == FAILED else \
                    f"gave up after {tries} attempts: {outcome.error}"
                failed.append({"b_id": message.message_id, "b_error": (error or "")[:2000]})
                (refused_invitations if outcome.opted_out else failed_invitations).append(
                    invitation_id)
            else:
                wait = self.backoff(tries, outcome.retry_after)
                if outcome.retry_after is not None:
                    longest_wait = max(longest_wait, outcome.retry_after)
                retried.append({"b_id": message.message_id, "b_error": (outcome.error or "")[:2000],
                                "b_due": now + timedelta(seconds=wait),
                                "b_doubt": outcome.in_doubt})
        if sent:
            self._mark_sent(sent, batch_id, now)
            advance_dispositions(session, sent_invitations, Disposition.SENT, now)
        if retried:
            session.execute(
                update(table).where(*mine).values(
                    state=MessageState.QUEUED.value, claimed_by=None,
                    due_at=bindparam("b_due"), last_error=bindparam("b_error"),
                    possibly_duplicated=table.c.possibly_duplicated | bindparam("b_doubt")),
                retried)
        if failed:
            session.execute(
                update(table).where(*mine).values(
                    state=MessageState.FAILED.value, claimed_by=None,
                    last_error=bindparam("b_error")), failed)
            advance_dispositions(session, failed_invitations, Disposition.FAILED, now)
        if refused_invitations:
            self._provider_opt_outs(refused_invitations)
        if longest_wait:
            self.paused_until[channel] = now + timedelta(seconds=longest_wait)
        record_event(session, "distribution.send", actor=self.actor, object_type="batch",
                     object_id=batch_id, summary={
                         "channel": channel, "backend": backend.name, "sent": len(sent),
                         "retry": len(retried), "failed": len(failed),
                         "cancelled": stats.cancelled})
        session.commit()
        # One JSON line per batch (survey.logging): counts and ids, never an address.
        log.info("batch sent", extra={"fields": {
            "event": "send.batch", "worker": self.worker_id, "batch": batch_id,
            "channel": channel, "backend": backend.name, "sent": len(sent),
            "retry": len(retried), "failed": len(failed), "cancelled": stats.cancelled,
            "paused_seconds": longest_wait or None}})
        stats.sent += len(sent)
        stats.retried += len(retried)
        stats.failed += len(failed)

    def _sent_now(self, batch_id: str, message: Outgoing, outcome: Outcome,
                  attempts: Mapping[int, tuple[int, int]]) -> None:
        """A per-message provider accepted one message: marked sent at once, in a transaction
        of its own, so that a worker killed later in the batch does not send it again."""
        if outcome.status != ACCEPTED:
            return
        now = self.clock()
        self._mark_sent([{"b_id": message.message_id, "b_provider": outcome.provider_id}],
                        batch_id, now)
        advance_dispositions(self.session, [attempts[message.message_id][1]],
                             Disposition.SENT, now)
        self.session.commit()

    def _mark_sent(self, sent: list[dict], batch_id: str, now: datetime) -> None:
        """`sending → sent`. A SendGrid request gives one id to its whole batch: one UPDATE per
        provider id then, rather than one per message (a thousand round trips on PostgreSQL)."""
        table = Message.__table__
        still_mine = (table.c.state == MessageState.SENDING.value,
                      table.c.claimed_by == self.worker_id, table.c.batch_id == batch_id)
        by_provider_id: dict[str | None, list[int]] = {}
        for row in sent:
            by_provider_id.setdefault(row["b_provider"], []).append(row["b_id"])
        one_by_one = []
        for provider_id, ids in by_provider_id.items():
            if len(ids) == 1:
                one_by_one.append({"b_id": ids[0], "b_provider": provider_id})
                continue
            self.session.execute(
                update(table).where(table.c.id.in_(ids), *still_mine).values(
                    state=MessageState.SENT.value, sent_at=now, claimed_by=None,
                    provider_id=provider_id, last_error=None))
        if one_by_one:
            self.session.execute(
                update(table).where(table.c.id == bindparam("b_id"), *still_mine).values(
                    state=MessageState.SENT.value, sent_at=now, claimed_by=None,
                    provider_id=bindparam("b_provider"), last_error=None), one_by_one)

    def _provider_opt_outs(self, invitation_ids: Sequence[int]) -> None:
        from survey.distribution.operations import opt_out

        for invitation in self.session.scalars(
            select(Invitation).where(Invitation.id.in_(invitation_ids))
        ):
            opt_out(self.session, invitation, secret_key=self.secret_key,
                    source="provider", actor=self.actor, now=self.clock())

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter, never sooner than the provider asked."""
        exponential = min(self.settings.backoff_max,
                          self.settings.backoff_base * 2 ** max(0, attempts - 1))
        jittered = random.uniform(exponential / 2, exponential)
        return max(jittered, retry_after or 0.0)
