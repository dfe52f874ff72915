"""The closed loop's services: creating follow-ups with their due dates, the queue, assigning,
the notes thread, closing with an outcome, reopening.

Every change flushes and appends one audit event; the request or the command commits once.
The trail never copies what a note says (it may name the customer), only that one was written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select
from sqlalchemy.orm import Session, selectinload

from questionnaires import Questionnaire
from questionnaires.questions import NpsQuestion, TextQuestion
from survey.audit import record_event
from survey.distribution.sms_window import DEFAULT_SMS_WINDOW, SmsWindow
from survey.followups.service_levels import (
    ServiceLevelError,
    check_service_days,
    due_at,
)
from survey.models import (
    Campaign,
    FollowUp,
    FollowUpNote,
    FollowUpOutcome,
    FollowUpStatus,
    Programme,
    Role,
    User,
    utcnow,
)

PER_PAGE = 25
ACTIVE = (FollowUpStatus.OPEN.value, FollowUpStatus.IN_PROGRESS.value)
STATES = ("active", "open", "in_progress", "closed", "all")
SORTS = ("due", "-due", "created", "-created", "score", "-score")
OWNERS = (Role.ADMIN.value, Role.MANAGER.value)
# Outcomes that say the customer was reached: closing with one counts as a first contact.
REACHED = frozenset({FollowUpOutcome.RESOLVED, FollowUpOutcome.NOT_RESOLVED,
                     FollowUpOutcome.COMPLAINT, FollowUpOutcome.DECLINED})
MAX_NOTE = 5000
EXCERPT_WORDS = 12


class FollowUpError(ValueError):
    """A follow-up change that cannot be made, with the reason."""


# --- creation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """The centre's working days (the SMS window's days and holidays) and its time zone."""

    timezone: str = "Europe/Paris"
    window: SmsWindow = DEFAULT_SMS_WINDOW

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Calendar:
        return cls(config.get("TIMEZONE") or "Europe/Paris",
                   config.get("SMS_WINDOW") or DEFAULT_SMS_WINDOW)


def current_calendar() -> Calendar:
    """The application's calendar, or the default one outside an application."""
    from flask import current_app, has_app_context

    return Calendar.from_config(current_app.config) if has_app_context() else Calendar()


def score_of(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> tuple[int | None,
                                                                                int | None]:
    """The answer a follow-up is judged by, with its scale's top: the Net Promoter answer when
    the questionnaire asks one, else the overall satisfaction; (None, None) without either."""
    shown = questionnaire.shown_answers(answers)
    for _, question in questionnaire.questions():
        if isinstance(question, NpsQuestion) and isinstance(shown.get(question.code), int):
            return shown[question.code], question.scale()[1]
    overall = questionnaire.overall_question()
    if overall is not None and isinstance(shown.get(overall.code), int):
        return shown[overall.code], overall.scale()[1]
    return None, None


def new_follow_up_rows(
    questionnaire: Questionnaire, answers: Mapping[str, Any],
    found: Sequence[tuple[str, str | None]], *, campaign_id: int, response_id: int,
    created: datetime, callback_days: int, detractor_days: int, calendar: Calendar,
    client_id: int | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """The rows of the follow-ups `found` (kind, preferred channel) for one complete response,
    each with its due date from the programme's service level in the centre's calendar."""
    score, score_max = score_of(questionnaire, answers)
    days = {"callback": callback_days, "detractor": detractor_days}
    return [
        {
            "client_id": client_id,  # None: the ORM's flush takes the campaign's
            "campaign_id": campaign_id,
            "response_id": response_id,
            "kind": kind,
            "preferred_channel": channel,
            "score": score,
            "score_max": score_max,
            "created_at": created,
            "due_at": due_at(created, days[kind], timezone=calendar.timezone,
                             window=calendar.window),
        }
        for kind, channel in found
    ]


def programme_service_days(connection: Connection | Session, campaign_id: int) -> tuple[int, int]:
    """(callback days, detractor days) of the campaign's programme, in one statement."""
    row = connection.execute(
        select(Programme.callback_days, Programme.detractor_days)
        .join(Campaign, Campaign.programme_id == Programme.id)
        .where(Campaign.id == campaign_id)
    ).one()
    return row[0], row[1]


def set_service_levels(session: Session, programme: Programme, *, callback_days: int,
                       detractor_days: int, actor: str, actor_id: int | None = None) -> None:
    """Change a programme's service levels; follow-ups created afterwards use them (those
    already created keep the due date they were given, as the customer was promised)."""
    try:
        check_service_days(callback_days, what="the callback service level")
        check_service_days(detractor_days, what="the detractor service level")
    except ServiceLevelError as error:
        raise FollowUpError(str(error)) from error
    before = {"callback_days": programme.callback_days,
              "detractor_days": programme.detractor_days}
    programme.callback_days, programme.detractor_days = callback_days, detractor_days
    session.flush()
    record_event(session, "programme.service_levels", actor=actor, actor_id=actor_id,
                 object_type="programme", object_id=programme.id,
                 summary={"from": before, "to": {"callback_days": callback_days,
                                                 "detractor_days": detractor_days}})


# --- the queue -----------------------------------------------------------------------------


@dataclass
class QueueFilters:
    """What the queue shows: every field comes from the page's query string."""

    state: str = "active"
    overdue: bool = False
    campaign: str | None = None
    kind: str | None = None
    owner: str | None = None  # "me", "none" or a user id
    channel: str | None = None  # phone, email, or "none" (no callback asked)
    score_at_most: int | None = None
    sort: str = "due"
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QueueFilters:
        """Filters from a query string; an unknown value is ignored rather than an error (a
        bookmarked link from an older version still opens)."""

        def choice(name: str, allowed: Iterable[str], default: str | None = None) -> str | None:
            value = (args.get(name) or "").strip()
            return value if value in allowed else default

        def number(name: str, low: int, high: int) -> int | None:
            value = (args.get(name) or "").strip()
            return int(value) if value.isdigit() and low <= int(value) <= high else None

        owner = (args.get("owner") or "").strip()
        return cls(
            state=choice("state", STATES, "active") or "active",
            overdue=args.get("overdue") in ("1", "on", "true"),
            campaign=(args.get("campaign") or "").strip() or None,
            kind=choice("kind", ("callback", "detractor")),
            owner=owner if owner in ("me", "none") or owner.isdigit() else None,
            channel=choice("channel", ("phone", "email", "none")),
            score_at_most=number("score", 0, 10),
            sort=choice("sort", SORTS, "due") or "due",
            page=number("page", 1, 10**6) or 1,
        )

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """The query string of these filters with `changes`, without defaults (for links)."""
        values = {
            "state": self.state, "overdue": "1" if self.overdue else None,
            "campaign": self.campaign, "kind": self.kind, "owner": self.owner,
            "channel": self.channel, "score": self.score_at_most, "sort": self.sort,
            "page": self.page,
        }  # fmt: skip
        values.update(changes)
        defaults = {"state": "active", "sort": "due", "page": 1}
        return {k: v for k, v in values.items() if v not in (None, "") and defaults.get(k) != v}


@dataclass
class QueuePage:
    items: list[FollowUp]
    total: int
    page: int
    pages: int
    excerpts: dict[int, str] = field(default_factory=dict)


def filtered_query(filters: QueueFilters, *, user_id: int | None, now: datetime):  # noqa: ANN202
    query = select(FollowUp).join(Campaign, Campaign.id == FollowUp.campaign_id)
    if filters.state == "active":
        query = query.where(FollowUp.status.in_(ACTIVE))
    elif filters.state != "all":
        query = query.where(FollowUp.status == filters.state)
    if filters.overdue:
        query = query.where(FollowUp.status.in_(ACTIVE), FollowUp.due_at < now)
    if filters.campaign:
        query = query.where(Campaign.slug == filters.campaign)
    if filters.kind:
        query = query.where(FollowUp.kind == filters.kind)
    if filters.owner == "me":
        query = query.where(FollowUp.owner_id == user_id)
    elif filters.owner == "none":
        query = query.where(FollowUp.owner_id.is_(None))
    elif filters.owner:
        query = query.where(FollowUp.owner_id == int(filters.owner))
    if filters.channel == "none":
        query = query.where(FollowUp.preferred_channel.is_(None))
    elif filters.channel:
        query = query.where(FollowUp.preferred_channel == filters.channel)
    if filters.score_at_most is not None:
        query = query.where(FollowUp.score <= filters.score_at_most)
    return query


def ordering(sort: str) -> list[Any]:
    column = {"due": FollowUp.due_at, "created": FollowUp.created_at,
              "score": FollowUp.score}[sort.lstrip("-")]
    descending = sort.startswith("-")
    # Rows without a value go last either way; the id breaks ties so that pages never overlap.
    return [column.is_(None), column.desc() if descending else column.asc(),
            FollowUp.id.desc() if descending else FollowUp.id.asc()]


def queue_page(session: Session, filters: QueueFilters, *, user_id: int | None,
               now: datetime | None = None, per_page: int = PER_PAGE) -> QueuePage:
    """One page of the queue, with the total behind it."""
    now = now or utcnow()
    query = filtered_query(filters, user_id=user_id, now=now)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(filters.page, pages)
    items = list(session.scalars(
        query.options(selectinload(FollowUp.owner), selectinload(FollowUp.campaign),
                      selectinload(FollowUp.response))
        .order_by(*ordering(filters.sort)).offset((page - 1) * per_page).limit(per_page)))
    return QueuePage(items, total, page, pages, excerpts=comment_excerpts(items))


def comment_excerpts(items: Sequence[FollowUp]) -> dict[int, str]:
    """The first words of each follow-up's free comments, contact details masked."""
    from survey.reporting.dataset import load_questionnaire, mask_personal_data

    questionnaires: dict[int, Questionnaire] = {}
    excerpts: dict[int, str] = {}
    for item in items:
        campaign = item.campaign
        if campaign.id not in questionnaires:
            questionnaires[campaign.id] = load_questionnaire(campaign)
        questionnaire = questionnaires[campaign.id]
        shown = questionnaire.shown_answers(item.response.answers or {})
        texts = [str(shown[q.code]) for _, q in questionnaire.questions()
                 if isinstance(q, TextQuestion) and shown.get(q.code)]
        if texts:
            words = mask_personal_data(" ".join(texts)).split()
            excerpt = " ".join(words[:EXCERPT_WORDS])
            excerpts[item.id] = excerpt + (" …" if len(words) > EXCERPT_WORDS else "")
    return excerpts


def loop_counts(session: Session, *, now: datetime | None = None,
                owner_id: int | None = None) -> dict[str, int]:
    """How many follow-ups are being handled (open or in progress) and how many are overdue;
    only `owner_id`'s when given."""
    now = now or utcnow()
    active = select(func.count()).select_from(FollowUp).where(FollowUp.status.in_(ACTIVE))
    if owner_id is not None:
        active = active.where(FollowUp.owner_id == owner_id)
    return {
        "active": session.scalar(active) or 0,
        "overdue": session.scalar(active.where(FollowUp.due_at < now)) or 0,
    }


def possible_owners(session: Session) -> list[User]:
    """Who may own a follow-up: active managers and admins."""
    return list(session.scalars(
        select(User).where(User.role.in_(OWNERS), User.active.is_(True)).order_by(User.email)))


def is_overdue(item: FollowUp, now: datetime | None = None) -> bool:
    return (item.status in ACTIVE and item.due_at is not None
            and item.due_at < (now or utcnow()))


# --- changes -------------------------------------------------------------------------------


def _event(session: Session, action: str, item: FollowUp, *, actor: str, actor_id: int | None,
           summary: dict[str, Any]) -> int:
    return record_event(session, action, actor=actor, actor_id=actor_id,
                        object_type="follow_up", object_id=item.id,
                        campaign_id=item.campaign_id, summary=summary)


def assign(session: Session, item: FollowUp, owner_id: int | None, *, actor: str,
           actor_id: int | None = None, now: datetime | None = None) -> bool:
    """Give `item` to `owner_id` (None: to nobody); True when the owner changed.

    The new owner is told by email (`survey.followups.notifications`) unless they assigned it
    to themselves.
    """
    from survey.followups.notifications import queue_assignment

    if owner_id is not None:
        owner = session.get(User, owner_id)
        if owner is None or not owner.active or owner.role not in OWNERS:
            raise FollowUpError("the owner must be an active manager or admin")
    if item.status == FollowUpStatus.CLOSED:
        raise FollowUpError(f"follow-up {item.id} is closed: reopen it before assigning it")
    if item.owner_id == owner_id:
        return False
    now = now or utcnow()
    before = item.owner_id
    item.owner_id = owner_id
    item.assigned_at = now if owner_id is not None else None
    session.flush()
    event_id = _event(session, "follow_up.assign", item, actor=actor, actor_id=actor_id,
                      summary={"from": before, "to": owner_id})
    if owner_id is not None and owner_id != actor_id:
        queue_assignment(session, item, key=f"assignment:{item.id}:{event_id}")
    return True


def bulk_assign(session: Session, ids: Iterable[int], owner_id: int | None, *, actor: str,
                actor_id: int | None = None) -> int:
    """Assign every follow-up of `ids` that is still being handled; returns how many changed.
    Closed ones are left as they are (a bulk action never reopens)."""
    wanted = sorted(set(ids))
    items = session.scalars(select(FollowUp).where(FollowUp.id.in_(wanted))).all()
    if len(items) != len(wanted):
        missing = sorted(set(wanted) - {item.id for item in items})
        raise FollowUpError(f"no follow-up {', '.join(map(str, missing))}")
    changed = 0
    for item in sorted(items, key=lambda i: i.id):
        if item.status in ACTIVE:
            changed += assign(session, item, owner_id, actor=actor, actor_id=actor_id)
    return changed


def add_note(session: Session, item: FollowUp, body: str, *, contact_attempt: bool = False,
             actor: str, actor_id: int | None = None, now: datetime | None = None) -> FollowUpNote:
    """Append a note to the thread; a note that records a try to reach the customer counts it,
    and the first such try is the follow-up's first contact (an open one is now in progress)."""
    text = (body or "").strip()
    if not text:
        raise FollowUpError("a note cannot be empty")
    if len(text) > MAX_NOTE:
        raise FollowUpError(f"a note holds at most {MAX_NOTE} characters, not {len(text)}")
    now = now or utcnow()
    note = FollowUpNote(follow_up_id=item.id, author_id=actor_id, body=text,
                        contact_attempt=contact_attempt, created_at=now)
    session.add(note)
    if contact_attempt:
        if item.status == FollowUpStatus.CLOSED:
            raise FollowUpError(f"follow-up {item.id} is closed: reopen it to record a try")
        item.contact_attempts += 1
        if item.first_contact_at is None:
            item.first_contact_at = now
        if item.status == FollowUpStatus.OPEN:
            item.status = FollowUpStatus.IN_PROGRESS.value
    session.flush()
    _event(session, "follow_up.note", item, actor=actor, actor_id=actor_id,
           summary={"note_id": note.id, "contact_attempt": contact_attempt,
                    "contact_attempts": item.contact_attempts})
    return note


def close(session: Session, item: FollowUp, outcome: str, *, reference: str | None = None,
          actor: str, actor_id: int | None = None, now: datetime | None = None) -> FollowUp:
    """Close with an outcome; a complaint names its reference in the centre's own tool, and
    "not reachable" needs at least one recorded try."""
    if item.status == FollowUpStatus.CLOSED:
        raise FollowUpError(f"follow-up {item.id} is already closed")
    if outcome not in {o.value for o in FollowUpOutcome}:
        raise FollowUpError(
            f"outcome must be one of {', '.join(o.value for o in FollowUpOutcome)}, "
            f"not {outcome!r}")
    reference = (reference or "").strip() or None
    if outcome == FollowUpOutcome.COMPLAINT and not reference:
        raise FollowUpError("a complaint needs its reference in the centre's complaint tool")
    if reference and len(reference) > 100:
        raise FollowUpError("the complaint's reference holds at most 100 characters")
    if outcome == FollowUpOutcome.UNREACHABLE and item.contact_attempts == 0:
        raise FollowUpError("record the tries to reach the customer before closing as not "
                            "reachable")
    now = now or utcnow()
    item.status = FollowUpStatus.CLOSED.value
    item.closed_at = now
    item.outcome = outcome
    item.outcome_reference = reference if outcome == FollowUpOutcome.COMPLAINT else None
    if outcome in REACHED and item.first_contact_at is None:
        item.first_contact_at = now
    session.flush()
    _event(session, "follow_up.close", item, actor=actor, actor_id=actor_id,
           summary={"outcome": outcome, "has_reference": item.outcome_reference is not None,
                    "on_time": item.due_at is None or now <= item.due_at,
                    "contact_attempts": item.contact_attempts})
    return item


def reopen(session: Session, item: FollowUp, *, actor: str,
           actor_id: int | None = None) -> FollowUp:
    """Reopen a closed follow-up (its due date stays: a reopened item late is still late)."""
    if item.status != FollowUpStatus.CLOSED:
        raise FollowUpError(f"follow-up {item.id} is not closed")
    before = item.outcome
    item.status = FollowUpStatus.IN_PROGRESS.value
    item.closed_at = None
    item.outcome = None
    item.outcome_reference = None
    session.flush()
    _event(session, "follow_up.reopen", item, actor=actor, actor_id=actor_id,
           summary={"outcome_was": before})
    return item


def follow_up_or_none(session: Session, follow_up_id: int) -> FollowUp | None:
    return session.get(FollowUp, follow_up_id)


def owner_choices_filter(session: Session) -> list[tuple[str, str]]:
    """The owners the queue can filter on: everyone who owns or may own a follow-up."""
    owners = session.scalars(
        select(User).where(or_(User.id.in_(select(FollowUp.owner_id).distinct()),
                               User.role.in_(OWNERS) & User.active.is_(True)))
        .order_by(User.email)).all()
    return [(str(user.id), user.email) for user in owners]
