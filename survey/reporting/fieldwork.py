"""Manager pages' services: the fieldwork dashboard (follow-ups live in `survey.followups`)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import AnalysisInputError, analyze, parse_design
from survey.models import (
    Campaign,
    Disposition,
    Invitation,
    Response,
    ResponseStatus,
)
from survey.reporting.builder import headline_indicators
from survey.reporting.dataset import DatasetError, build_dataset


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
