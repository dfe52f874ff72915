"""The improvement plan in the next campaign's report: last year's actions followed up.

`plan_records` reads, for a campaign, the actions decided from the programme's previous campaign
and those already decided from this one, as plain data (`ReportInputs.actions`). `follow_up` is
the engine's (`analysis.report.follow_up`): for each followed action it sets the targeted
indicator's estimate of the previous campaign beside this one's, with the difference, its
interval and its test, by the report's own year-on-year comparison (independent samples,
Welch–Satterthwaite t, Holm's correction over the plan's indicators as one family), and whether
the target is reached. An item whose trend the questionnaire broke is not tested. `plan_spec`
writes the followed actions into the design file, so that ``analyze --report`` follows them up
from the export alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.report import follow_up as report_follow_up
from survey.improvement.operations import actions_of
from survey.models import Campaign, ImprovementAction


def action_record(action: ImprovementAction, campaign: Campaign) -> dict[str, Any]:
    """One action as plain data, without its owner's account (the report is handed out)."""
    return {
        "id": action.id, "campaign": campaign.slug, "year": campaign.year,
        "title": action.title, "item": action.item, "commitment": action.commitment,
        "change": action.change, "due_on": action.due_on, "status": action.status,
        "done_on": action.done_on, "indicator": action.indicator, "target": action.target,
        "public": action.public,
    }


def previous_campaign(session: Session, campaign: Campaign) -> Campaign | None:
    """The programme's campaign before `campaign` (the latest of an earlier year)."""
    return session.scalars(
        select(Campaign).where(Campaign.programme_id == campaign.programme_id,
                               Campaign.year < campaign.year)
        .order_by(Campaign.year.desc(), Campaign.id.desc())).first()


def plan_records(session: Session, campaign: Campaign) -> dict[str, Any]:
    """The actions the report of `campaign` states: `followed` (decided from the previous
    campaign), `decided` (from this one), and the previous campaign's slug and year."""
    previous = previous_campaign(session, campaign)
    followed = [action_record(a, previous) for a in actions_of(session, [previous.id])
                ] if previous else []
    decided = [action_record(a, campaign) for a in actions_of(session, [campaign.id])]
    return {
        "previous": {"slug": previous.slug, "year": previous.year} if previous else None,
        "followed": followed,
        "decided": decided,
    }


def follow_up(
    plan: Mapping[str, Any],
    overall: Mapping[str, Mapping[str, Any]],
    previous_estimates: Sequence[Mapping[str, Any]] | None,
    *,
    items: Mapping[str, str | None],
    broken_items: set[str],
    confidence: float,
) -> dict[str, Any]:
    """`analysis.report.follow_up` of the plan's followed actions (the very function
    ``barometre analyze --report`` runs on the export), with this campaign's own actions
    (`decided`) beside them."""
    return {**report_follow_up(plan.get("previous"), plan.get("followed") or (), overall,
                               previous_estimates, items=items, broken_items=broken_items,
                               confidence=confidence),
            "decided": list(plan.get("decided") or ())}


def plan_spec(plan: Mapping[str, Any] | None,
              trend_breaks: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The design file's ``report.improvement`` (`analysis.report.ReportSpec`): the previous
    campaign and the actions decided from it, as JSON (dates in ISO form), with the items whose
    question changed since. None without a previous campaign."""
    if not plan or not plan.get("previous"):
        return None
    return {
        "previous": dict(plan["previous"]),
        "actions": [{key: value.isoformat() if isinstance(value, date) else value
                     for key, value in action.items()} for action in plan.get("followed") or ()],
        "trend_broken": sorted({str(b.get("code")) for b in trend_breaks}),
    }


def follow_up_of(session: Session, campaign: Campaign) -> dict[str, Any] | None:
    """`follow_up` for `campaign` from the database, with the whole-sample estimates the report
    computes (they do not depend on its domains), for the auditor's pack."""
    from analysis import AnalysisInputError, analyze, parse_design
    from survey.reporting.dataset import DatasetError, build_dataset

    plan = plan_records(session, campaign)
    if not plan["followed"] and not plan["decided"]:
        return None

    def whole_sample(which: Campaign) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        dataset = build_dataset(session, which)
        spec = parse_design({**dataset.design, "by": []})
        estimates = [e.to_dict() for e in analyze(dataset.frame, spec).estimates]
        return dataset.design, estimates

    design, estimates = whole_sample(campaign)
    previous = previous_campaign(session, campaign)
    try:
        before = whole_sample(previous)[1] if previous is not None else None
    except (DatasetError, AnalysisInputError):
        before = None  # as the report: a campaign that cannot be analysed has no estimates
    breaks = (campaign.trend_check or {}).get("breaks") or ()
    return follow_up(
        plan, {e["indicator"]: e for e in estimates if e["domain"] is None}, before,
        items={i["name"]: i.get("item") for i in design["indicators"]},
        broken_items={str(b.get("code")) for b in breaks},
        confidence=float(design.get("confidence", 0.95)),
    )  # fmt: skip
