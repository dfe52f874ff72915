"""Reading the audit trail for its page: filtered, newest first, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import AuditEvent, Campaign, User

PAGE_SIZE = 50


@dataclass(frozen=True)
class TrailPage:
    events: list[AuditEvent]
    total: int
    page: int
    pages: int
    campaigns: dict[int, str]  # id -> slug, for the events shown
    actors: dict[int, str]  # user id -> email (staff accounts, not customers)


def trail_page(session: Session, *, campaign_id: int | None = None, action: str | None = None,
               page: int = 1, page_size: int = PAGE_SIZE) -> TrailPage:
    query = select(AuditEvent)
    if campaign_id is not None:
        query = query.where(AuditEvent.campaign_id == campaign_id)
    if action:
        query = query.where(AuditEvent.action == action)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    events = list(session.scalars(
        query.order_by(AuditEvent.id.desc()).limit(page_size).offset((page - 1) * page_size)
    ))
    campaign_ids = {e.campaign_id for e in events if e.campaign_id is not None}
    actor_ids = {user_id for e in events if (user_id := actor_user_id(e)) is not None}
    campaigns = dict(session.execute(
        select(Campaign.id, Campaign.slug).where(Campaign.id.in_(campaign_ids))).all())
    actors = dict(session.execute(
        select(User.id, User.email).where(User.id.in_(actor_ids))).all())
    return TrailPage(events, total, page, pages, campaigns, actors)


def actor_user_id(event: AuditEvent) -> int | None:
    """The staff account behind an event: its actor_id, or the id in an actor "user:N"."""
    if event.actor_id is not None:
        return event.actor_id
    kind, _, number = event.actor.partition(":")
    return int(number) if kind == "user" and number.isdigit() else None


def trail_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def campaign_choices(session: Session) -> list[tuple[int, str]]:
    return list(session.execute(
        select(Campaign.id, Campaign.slug).order_by(Campaign.year.desc(), Campaign.slug)
    ).all())
