"""Manager pages' services: the fieldwork dashboard and the follow-up queue."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import AnalysisInputError, analyze, parse_design
from survey.audit import record_event
from survey.models import (
    Campaign,
    Disposition,
    FollowUp,
    FollowUpStatus,
    Invitation,
    Response,
    ResponseStatus,
    User,
    utcnow,
)
from survey.reporting.builder import headline_indicators
from survey.reporting.dataset import DatasetError, build_dataset


class FollowUpError(ValueError):
    """A follow-up change that cannot be made, with the reason."""


def _rates(rows: list[tuple[str, str]]) -> list[dict[str, Any]]:
    invited = Counter(key for key, _ in rows)
    complete = Counter(key for key, disposition in rows if disposition == Disposition.COMPLETE)
    return [
        {
            "key": key,
            "invited": invited[key],
            "complete": complete[key],
            "rate": complete[key] / invited[key] if invited[key] else None,
        }
        for key in sorted(invited)
    ]


def fieldwork_dashboard(session: Session, campaign: Campaign) -> dict[str, Any]:
    """Response rates by stratum and channel, completes per day, precision and indices so far.

    The indices are provisional while fieldwork runs: the design weights every stratum by its
    respondents so far.
    """
    invitations = session.execute(
        select(Invitation.stratum, Invitation.channel, Invitation.disposition).where(
            Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False)
        )
    ).all()
    completed = session.scalars(
        select(Response.completed_at)
        .join(Invitation, Response.invitation_id == Invitation.id)
        .where(
            Invitation.campaign_id == campaign.id,
            Invitation.is_test.is_(False),
            Response.status == ResponseStatus.COMPLETE.value,
        )
    ).all()
    per_day: Counter[date] = Counter(moment.date() for moment in completed if moment)
    days = sorted(per_day)
    dashboard: dict[str, Any] = {
        "invited": len(invitations),
        "complete": sum(1 for *_, d in invitations if d == Disposition.COMPLETE),
        "by_stratum": _rates([(s, d) for s, _, d in invitations]),
        "by_channel": _rates([(c, d) for _, c, d in invitations]),
        "per_day": [(day, per_day[day]) for day in days],
        "max_per_day": max(per_day.values(), default=0),
        "indices": [],
        "margin": None,
        "target": (campaign.plan or {}).get("margin"),
        "error": None,
    }
    try:
        dataset = build_dataset(session, campaign)
        design = {**dataset.design, "by": []}
        result = analyze(dataset.frame, parse_design(design))
    except (DatasetError, AnalysisInputError) as error:
        dashboard["error"] = str(error)
        return dashboard
    headline = headline_indicators(design)
    kinds = {i["name"]: i["kind"] for i in design["indicators"]}
    for name in headline.names():
        estimate = result.get(name)
        scale = 100 if kinds[name] == "proportion" else 1
        dashboard["indices"].append(
            {
                "name": name,
                "kind": kinds[name],
                "estimate": None if estimate.estimate is None else estimate.estimate * scale,
                "ci_low": None if estimate.ci_low is None else estimate.ci_low * scale,
                "ci_high": None if estimate.ci_high is None else estimate.ci_high * scale,
                "n": estimate.n,
            }
        )
        if name == headline.satisfied and estimate.ci_low is not None:
            dashboard["margin"] = (estimate.ci_high - estimate.ci_low) / 2
    return dashboard


def follow_up_queue(
    session: Session, campaign: Campaign, *, status: str | None = None
) -> list[FollowUp]:
    query = select(FollowUp).where(FollowUp.campaign_id == campaign.id)
    if status:
        query = query.where(FollowUp.status == status)
    # Open ones first, the oldest on top: the next customer to call is the first line.
    return list(
        session.scalars(query.order_by(FollowUp.status != "open", FollowUp.created_at, FollowUp.id))
    )


@dataclass(frozen=True)
class FollowUpChange:
    status: str
    owner_id: int | None
    notes: str | None
    due_at: datetime | None


def update_follow_up(
    session: Session, follow_up: FollowUp, change: FollowUpChange, *, actor: str,
    actor_id: int | None = None,
) -> FollowUp:  # fmt: skip
    """Change owner, status, notes or due date; closing stamps `closed_at`."""
    if change.status not in {s.value for s in FollowUpStatus}:
        raise FollowUpError(f"status must be open, in_progress or closed, not {change.status!r}")
    if change.owner_id is not None:
        owner = session.get(User, change.owner_id)
        if owner is None or not owner.active or owner.role not in ("admin", "manager"):
            raise FollowUpError("the owner must be an active manager or admin")
    before = follow_up.status
    follow_up.status = change.status
    follow_up.owner_id = change.owner_id
    follow_up.notes = (change.notes or "").strip() or None
    follow_up.due_at = change.due_at
    if change.status == FollowUpStatus.CLOSED and follow_up.closed_at is None:
        follow_up.closed_at = utcnow()
    elif change.status != FollowUpStatus.CLOSED:
        follow_up.closed_at = None
    session.flush()
    record_event(
        session,
        "follow_up.update",
        actor=actor,
        actor_id=actor_id,
        object_type="follow_up",
        object_id=follow_up.id,
        campaign_id=follow_up.campaign_id,
        # Notes may name the customer: the trail keeps only what changed, not what was written.
        summary={
            "from": before,
            "to": follow_up.status,
            "owner_id": follow_up.owner_id,
            "has_notes": follow_up.notes is not None,
            "due_at": follow_up.due_at,
        },
    )
    return follow_up
