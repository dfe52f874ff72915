"""The improvement plan in the next campaign's report: last year's actions followed up.

`plan_records` reads, for a campaign, the actions decided from the programme's previous campaign
and those already decided from this one, as plain data (`ReportInputs.actions`). `follow_up` is
pure: for each followed action it sets the targeted indicator's estimate of the previous
campaign beside this one's, with the difference, its interval and its test, by the report's own
year-on-year comparison (`analysis.comparison.compare_to_previous`: independent samples,
Welch–Satterthwaite t, Holm's correction over the plan's indicators as one family), and whether
the target is reached. An item whose trend the questionnaire broke is not tested.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.comparison import compare_to_previous
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
    """Each followed action with its indicator compared between the two campaigns.

    `overall` is this campaign's whole-sample estimates by indicator; `previous_estimates` the
    previous campaign's (None when it cannot be analysed); `items` the questionnaire item of each
    indicator (None for the index); `broken_items` the items whose trend the questionnaire broke.
    The indicators the plan targets are one family for Holm's correction; an indicator targeted
    by two actions is tested once."""
    before = {e["indicator"]: e for e in previous_estimates or () if e["domain"] is None}
    wanted: list[str] = []
    for action in plan.get("followed") or ():
        name = action.get("indicator")
        if name and name in overall and name in before and name not in wanted \
                and items.get(name) not in broken_items:
            wanted.append(name)
    compared = compare_to_previous([overall[name] for name in wanted],
                                   [before[name] for name in wanted],
                                   confidence=confidence, alpha=1 - confidence)
    tests = {row.indicator: row for row in compared}
    rows = []
    for action in plan.get("followed") or ():
        name = action.get("indicator")
        current = overall.get(name) if name else None
        test = tests.get(name) if name else None
        comparison = None
        if test is not None:
            comparison = {
                "previous": test.previous, "current": test.current,
                "difference": test.difference.estimate, "ci_low": test.difference.ci_low,
                "ci_high": test.difference.ci_high, "p_value": test.difference.p_value,
                "p_adjusted": test.p_adjusted, "significant": test.significant,
            }
        reached = None
        if current is not None and current.get("estimate") is not None \
                and action.get("target") is not None:
            reached = current["estimate"] >= action["target"] - 1e-12
        rows.append({
            **action,
            "previous_estimate": dict(before[name]) if name in before else None,
            "current_estimate": dict(current) if current else None,
            "comparison": comparison,
            "trend_broken": bool(name) and items.get(name) in broken_items,
            "reached": reached,
        })
    counts = {status: sum(1 for row in rows if row["status"] == status)
              for status in ("planned", "in_progress", "done", "abandoned")}
    return {"previous": plan.get("previous"), "rows": rows, "counts": counts,
            "decided": list(plan.get("decided") or ()), "family": wanted}



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
