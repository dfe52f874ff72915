"""The managers' home: one card per campaign with what a director asks first.

Its state, completed questionnaires against the plan's target (overall and in the weakest
stratum), the headline index with its interval, the open and overdue follow-ups, and the next
thing to do. Counts come from two grouped queries for every campaign at once; the headline index
is computed (as the fieldwork page does) only for campaigns with responses, and kept in memory
until the campaign's number of completes changes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.campaigns.lifecycle import Step, next_step
from survey.models import (
    Campaign,
    Disposition,
    FollowUp,
    FollowUpStatus,
    Invitation,
    Report,
    utcnow,
)

HEADLINE_LABELS = {
    "index": _l("Satisfaction index"),
    "proportion": _l("Satisfied customers"),
    "nps": _l("Net Promoter Score"),
    "mean": _l("Mean overall satisfaction"),
}


@dataclass
class CampaignCard:
    campaign: Campaign
    target: int | None  # respondents the plan aims at
    complete: int
    invited: int
    weakest: dict[str, Any] | None  # {"stratum", "complete", "target", "ratio"}
    headline: dict[str, Any] | None  # {"label", "estimate", "ci_low", "ci_high", "kind"}
    open_follow_ups: int
    overdue_follow_ups: int
    next: Step | None
    has_report: bool
    strata: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        return self.complete / self.target if self.target else None


_headline_cache: dict[tuple[int, int], dict[str, Any] | None] = {}


def _headline(session: Session, campaign: Campaign, complete: int) -> dict[str, Any] | None:
    if complete == 0:
        return None
    key = (campaign.id, complete)
    if key not in _headline_cache:
        from survey.reporting.fieldwork import fieldwork_dashboard

        indices = fieldwork_dashboard(session, campaign).get("indices") or []
        chosen = None
        for kind in ("index", "proportion", "nps", "mean"):
            chosen = next((i for i in indices if i["kind"] == kind and i["estimate"] is not None),
                          None)
            if chosen:
                break
        _headline_cache[key] = None if chosen is None else {
            "label": HEADLINE_LABELS[chosen["kind"]], "kind": chosen["kind"],
            "estimate": chosen["estimate"], "ci_low": chosen["ci_low"],
            "ci_high": chosen["ci_high"], "n": chosen["n"],
        }
    return _headline_cache[key]


def campaign_cards(
    session: Session, campaigns: list[Campaign], *, with_headline: bool = True
) -> list[CampaignCard]:
    """The home page's cards, in the order of `campaigns` (the headline index only when
    `with_headline`: it runs the analysis)."""
    ids = [c.id for c in campaigns]
    if not ids:
        return []
    completes: dict[int, dict[str, int]] = defaultdict(dict)
    invited: dict[int, int] = defaultdict(int)
    rows = session.execute(
        select(Invitation.campaign_id, Invitation.stratum, Invitation.disposition,
               func.count())
        .where(Invitation.campaign_id.in_(ids), Invitation.is_test.is_(False))
        .group_by(Invitation.campaign_id, Invitation.stratum, Invitation.disposition)
    ).all()
    for campaign_id, stratum, disposition, count in rows:
        invited[campaign_id] += count
        if disposition == Disposition.COMPLETE:
            completes[campaign_id][stratum] = completes[campaign_id].get(stratum, 0) + count
    now = utcnow()
    open_rows = session.execute(
        select(FollowUp.campaign_id, FollowUp.due_at)
        .where(FollowUp.campaign_id.in_(ids), FollowUp.status != FollowUpStatus.CLOSED.value)
    ).all()
    open_counts: dict[int, int] = defaultdict(int)
    overdue: dict[int, int] = defaultdict(int)
    for campaign_id, due_at in open_rows:
        open_counts[campaign_id] += 1
        if due_at is not None and due_at < now:
            overdue[campaign_id] += 1
    reported = set(session.scalars(select(Report.campaign_id).where(Report.campaign_id.in_(ids))))

    cards = []
    for campaign in campaigns:
        plan = campaign.plan or {}
        by_stratum = completes.get(campaign.id, {})
        complete = sum(by_stratum.values())
        strata = [
            {"stratum": s["stratum"], "target": s.get("respondents") or 0,
             "complete": by_stratum.get(s["stratum"], 0)}
            for s in plan.get("strata") or []
        ]
        for s in strata:
            s["ratio"] = s["complete"] / s["target"] if s["target"] else None
        weakest = min((s for s in strata if s["ratio"] is not None),
                      key=lambda s: s["ratio"], default=None)
        cards.append(CampaignCard(
            campaign=campaign,
            target=plan.get("respondents"),
            complete=complete,
            invited=invited.get(campaign.id, 0),
            weakest=weakest if len(strata) > 1 else None,
            headline=_headline(session, campaign, complete) if with_headline else None,
            open_follow_ups=open_counts.get(campaign.id, 0),
            overdue_follow_ups=overdue.get(campaign.id, 0),
            next=next_step(campaign),
            has_report=campaign.id in reported,
            strata=strata,
        ))
    return cards
