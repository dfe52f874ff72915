"""Emails to staff about the loop: the assignee of a follow-up, and each morning's digest.

Notifications are rows of `StaffNotification` (a small outbox of their own, apart from the
customers' Message queue) delivered through the configured email backend. Each row has a `key`
that says what it is for (`digest:<day>:<user>`, `assignment:<follow-up>:<event>`): building
the same day's digest twice, or in two workers at once, inserts the same keys and the second
insert is refused, so each person gets one digest a day. Delivery claims a row with a
conditional update before sending it, so that two workers never send the same row.

Staff have no language of their own in barometre: every notification is written in French,
then in English.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from survey.distribution.backends import ACCEPTED, RETRY, OutboxBackend, backend_for
from survey.distribution.rendering import MessageTemplate, Outgoing
from survey.followups.operations import ACTIVE, OWNERS, Calendar
from survey.models import (
    Channel,
    FollowUp,
    NotificationState,
    StaffNotification,
    User,
    utcnow,
)

MAX_ATTEMPTS = 5
MAX_LISTED = 50  # a digest lists this many follow-ups per section, then says how many more
KIND_WORDS = {"callback": ("rappel demandé", "callback request"),
              "detractor": ("client insatisfait", "dissatisfied customer")}


class StaffOutgoing(Outgoing):
    """An email to staff: no unsubscribe headers (it is not a marketing or survey message)."""

    @property
    def headers(self) -> dict[str, str]:
        return {}


def _link(base_url: str, item: FollowUp) -> str:
    return f"{base_url.rstrip('/')}/manage/follow-ups/{item.id}"


def _day(moment: datetime | None, timezone: str, lang: str) -> str:
    if moment is None:
        return "–"
    return format_date(moment.astimezone(ZoneInfo(timezone)).date(), "short", locale=lang)


def _line(item: FollowUp, *, base_url: str, timezone: str, lang: str, now: datetime) -> str:
    index = 0 if lang == "fr" else 1
    kind = KIND_WORDS[item.kind][index]
    score = f" {item.score}/{item.score_max}" if item.score is not None else ""
    due = _day(item.due_at, timezone, lang)
    late = (" — EN RETARD" if lang == "fr" else " — OVERDUE") if (
        item.due_at is not None and item.due_at < now) else ""
    words = ("échéance", "due")[index]
    return (f"- #{item.id} {item.campaign.slug}, {kind}{score}, {words} {due}{late}\n"
            f"  {_link(base_url, item)}")


def _queue(session: Session, notification: StaffNotification) -> bool:
    """Insert `notification` unless one with its key exists; True when inserted."""
    try:
        with session.begin_nested():
            session.add(notification)
            session.flush()
    except IntegrityError:
        return False
    return True


def queue_assignment(session: Session, item: FollowUp, *, key: str,
                     base_url: str | None = None, calendar: Calendar | None = None) -> bool:
    """Queue the email that tells `item`'s owner it is theirs."""
    from survey.followups.operations import current_calendar

    calendar = calendar or current_calendar()
    base_url = base_url or _base_url()
    owner = session.get(User, item.owner_id) if item.owner_id else None
    if owner is None:
        return False
    now = utcnow()
    parts = []
    for lang, intro in (("fr", "Ce suivi vous est confié :"),
                        ("en", "This follow-up is now yours:")):
        line = _line(item, base_url=base_url, timezone=calendar.timezone, lang=lang, now=now)
        parts.append(f"{intro}\n{line}")
    subject = f"Suivi #{item.id} confié / Follow-up #{item.id} assigned to you"
    return _queue(session, StaffNotification(
        key=key, kind="assignment", user_id=owner.id, to_address=owner.email, subject=subject,
        body="\n\n".join(parts) + "\n"))


def _base_url() -> str:
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config.get("BASE_URL") or "http://127.0.0.1:5000"
    return "http://127.0.0.1:5000"


@dataclass
class DigestResult:
    day: date
    queued: int = 0  # digests this call queued
    already: int = 0  # digests of that day queued before (by another worker or an earlier run)
    recipients: list[str] = field(default_factory=list)


def build_digest(session: Session, *, now: datetime | None = None,
                 calendar: Calendar | None = None, base_url: str | None = None) -> DigestResult:
    """Queue today's digest (today in the centre's time zone) to each active manager and admin
    who has something to hear: their own follow-ups due by tonight or overdue, and for all of
    them, as escalation, every overdue follow-up and how many wait without an owner.

    Each person gets at most one digest a day, however many times or places this runs.
    """
    from survey.followups.operations import current_calendar

    calendar = calendar or current_calendar()
    base_url = base_url or _base_url()
    now = now or utcnow()
    zone = ZoneInfo(calendar.timezone)
    today = now.astimezone(zone).date()
    tonight = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    active = list(session.scalars(
        select(FollowUp).where(FollowUp.status.in_(ACTIVE), FollowUp.due_at < tonight)
        .options(joinedload(FollowUp.campaign)).order_by(FollowUp.due_at, FollowUp.id)))
    overdue = [item for item in active if item.due_at < now]
    unassigned_count = session.scalar(
        select(func.count()).select_from(FollowUp)
        .where(FollowUp.status.in_(ACTIVE), FollowUp.owner_id.is_(None))) or 0
    lines = {(item.id, lang): _line(item, base_url=base_url, timezone=calendar.timezone,
                                    lang=lang, now=now)
             for item in active for lang in ("fr", "en")}
    result = DigestResult(today)
    users = session.scalars(select(User).where(User.role.in_(OWNERS), User.active.is_(True))
                            .order_by(User.id)).all()
    for user in users:
        own = [item for item in active if item.owner_id == user.id]
        if not own and not overdue and not unassigned_count:
            continue
        body = _digest_body(own, overdue, unassigned_count, lines=lines, base_url=base_url)
        subject = (f"Suivis du {format_date(today, 'short', locale='fr')} : {len(own)} pour "
                   f"vous, {len(overdue)} en retard / Follow-ups for "
                   f"{format_date(today, 'short', locale='en')}: {len(own)} yours, "
                   f"{len(overdue)} overdue")
        notification = StaffNotification(
            key=f"digest:{today.isoformat()}:{user.id}", kind="digest", user_id=user.id,
            to_address=user.email, subject=subject, body=body)
        if _queue(session, notification):
            result.queued += 1
            result.recipients.append(user.email)
        else:
            result.already += 1
    return result


def _digest_body(own: list[FollowUp], overdue: list[FollowUp], unassigned: int, *,
                 lines: Mapping[tuple[int, str], str], base_url: str) -> str:
    sections = []
    for lang in ("fr", "en"):
        fr = lang == "fr"
        text = [("Vos suivis à traiter aujourd'hui ou en retard :" if fr else
                 "Your follow-ups due today or overdue:")]
        text += [lines[i.id, lang] for i in own[:MAX_LISTED]] or [
            "- " + ("aucun" if fr else "none")]
        if len(own) > MAX_LISTED:
            text.append(f"… (+{len(own) - MAX_LISTED})")
        text.append("")
        text.append(f"Suivis en retard, tous responsables confondus ({len(overdue)}) :" if fr
                     else f"Overdue follow-ups, whoever owns them ({len(overdue)}):")
        text += [lines[i.id, lang] + (f" — {i.owner.email}" if i.owner else
                                      (" — sans responsable" if fr else " — no owner"))
                 for i in overdue[:MAX_LISTED]] or ["- " + ("aucun" if fr else "none")]
        if len(overdue) > MAX_LISTED:
            text.append(f"… (+{len(overdue) - MAX_LISTED})")
        text.append("")
        text.append(f"Suivis sans responsable : {unassigned}" if fr else
                      f"Follow-ups without an owner: {unassigned}")
        text.append(f"{base_url.rstrip('/')}/manage/follow-ups")
        sections.append("\n".join(text))
    return "\n\n----\n\n".join(sections) + "\n"


# --- delivery ------------------------------------------------------------------------------


def staff_backend(config: Mapping[str, Any]):  # noqa: ANN201 - a distribution Backend
    """The configured email backend; the outbox writes staff emails in a folder of their own
    (`<instance>/outbox/staff/`) so that they never share names with customers' messages."""
    if (config.get("EMAIL_BACKEND") or "outbox") == "outbox":
        return OutboxBackend(Path(config["INSTANCE_PATH"]) / "outbox" / "staff", Channel.EMAIL,
                             config.get("MAIL_FROM") or "barometre@localhost")
    return backend_for(Channel.EMAIL, config)


def _outgoing(notification: StaffNotification) -> StaffOutgoing:
    escaped = html.escape(notification.body)
    template = MessageTemplate(
        channel=Channel.EMAIL, language="fr", wording="staff", text=notification.body,
        subject=notification.subject,
        html=f'<pre style="font-family:sans-serif;white-space:pre-wrap">{escaped}</pre>')
    # A negative id: providers' events name it back, and no customer Message has one.
    return StaffOutgoing(message_id=-notification.id, channel=Channel.EMAIL,
                         to=notification.to_address, template=template,
                         reference=f"barometre-staff-{notification.id}")


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    retrying: int = 0


_CLAIM = update(StaffNotification.__table__)


def deliver(session: Session, config: Mapping[str, Any], *, limit: int = 200,
            now: datetime | None = None) -> Delivery:
    """Send queued staff notifications, each claimed first so that no two workers send one.

    Commits around each send (as the customers' sender does): a claim must be visible to the
    other workers before the email leaves, and a sent email must be recorded even if the next
    one fails.
    """
    table = StaffNotification.__table__
    backend = staff_backend(config)
    result = Delivery()
    ids = session.scalars(select(StaffNotification.id)
                          .where(StaffNotification.state == NotificationState.QUEUED)
                          .order_by(StaffNotification.id).limit(limit)).all()
    session.commit()
    for notification_id in ids:
        moment = now or utcnow()
        claimed = session.execute(
            _CLAIM.where(table.c.id == notification_id,
                         table.c.state == NotificationState.QUEUED.value)
            .values(state=NotificationState.SENDING.value, claimed_at=moment,
                    attempts=table.c.attempts + 1)).rowcount
        session.commit()
        if claimed != 1:
            continue  # another worker has it
        notification = session.get(StaffNotification, notification_id)
        session.refresh(notification)
        outcome = backend.send([_outgoing(notification)])[0]
        if outcome.status == ACCEPTED:
            notification.state = NotificationState.SENT.value
            notification.sent_at = utcnow()
            notification.provider_id = outcome.provider_id
            notification.last_error = None
            result.sent += 1
        elif outcome.status == RETRY and notification.attempts < MAX_ATTEMPTS:
            notification.state = NotificationState.QUEUED.value
            notification.last_error = outcome.error
            result.retrying += 1
        else:
            notification.state = NotificationState.FAILED.value
            notification.last_error = outcome.error
            result.failed += 1
        session.commit()
    return result


def run_digest(session: Session, config: Mapping[str, Any], *,
               now: datetime | None = None) -> tuple[DigestResult, Delivery]:
    """The morning's work: queue today's digests (once each a day), commit, send what waits.

    The command `barometre followups digest` runs it; a scheduler runs the same function.
    """
    result = build_digest(session, now=now, calendar=Calendar.from_config(config),
                          base_url=config.get("BASE_URL") or "http://127.0.0.1:5000")
    session.commit()
    return result, deliver(session, config)
