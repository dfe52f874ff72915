"""The calibration a campaign uses: chosen, checked against the plan, resolved for analysis.

`Campaign.plan["calibration"]` holds the choice::

    {"method": "rake", "variables": ["segment", "canal"], "source": "frame",
     "reference": None, "cells": [{"variable": "segment", "level": "pro", "population": 812,
     "expected_sampled": 97.4, "expected_respondents": 29.2, "enough": True}, ...]}

With ``source: "frame"`` the margins are the frame's own counts frozen at the draw
(`Campaign.frame_margins`); with ``source: "manual"`` they are known population figures
entered by hand (``margins``) with where they come from (``reference``).

Before launch the plan says whether every margin cell can expect enough respondents at the
plan's response rate, and refuses a calibration that cannot converge: a level that no sampled
customer is expected to answer (raking and post-stratification need a respondent in every
cell).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.design import CALIBRATION_METHODS
from survey.audit import record_event
from survey.models import Campaign, CampaignStatus, Invitation
from survey.weighting.margins import Profiles, margins_by_stratum
from survey.weighting.variables import MAX_LEVELS, MISSING_LEVEL, customer_variables

ENOUGH_RESPONDENTS = 10
"""A margin cell expecting fewer respondents than this is flagged: its weights would vary a
lot from one sample to the next (a rule of thumb for post-stratification cells; Little 1993)."""

MIN_EXPECTED_RESPONDENTS = 1.0
"""A cell expecting less than one respondent is likely to have none: the calibration could not
converge, so the plan refuses it."""

TOTALS_TOLERANCE = 1e-6


class CalibrationError(ValueError):
    """A calibration that cannot be used: the message names the variable or the cell (English,
    the command line's); ``reason`` and ``params`` let a page word it in its reader's language
    (`survey.frame.problems`)."""

    def __init__(self, message: str, reason: str = "calibration_refused", **params: Any
                 ) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params


def parse_calibrate(text: str | None) -> tuple[str, list[str]] | None:
    """``poststratify:VAR`` | ``rake:VAR,VAR[,...]`` | ``none`` → (method, variables) or None."""
    if text is None or not text.strip() or text.strip().lower() == "none":
        return None
    method, _, rest = text.strip().partition(":")
    method = method.strip().lower()
    variables = [name.strip().lower() for name in rest.split(",") if name.strip()]
    if method not in CALIBRATION_METHODS or not variables:
        raise CalibrationError(
            f"calibration {text!r} is not poststratify:VARIABLE, rake:VARIABLE,VARIABLE or none",
            "calibration_unreadable", value=text,
        )
    if method == "poststratify" and len(variables) != 1:
        raise CalibrationError(
            "post-stratification takes one variable (poststratify:segment); "
            "to weight on several, rake them (rake:segment,canal)", "poststratify_one_variable",
        )
    if len(set(variables)) != len(variables):
        raise CalibrationError(f"a calibration variable is repeated in {', '.join(variables)}",
                               "calibration_variable_repeated", variables=", ".join(variables))
    return method, variables


def _check_manual_margins(
    margins: Mapping[str, Mapping[str, Any]], variables: Sequence[str], frame_size: float
) -> dict[str, dict[str, float]]:
    checked: dict[str, dict[str, float]] = {}
    for variable in variables:
        if variable not in margins:
            raise CalibrationError(f"the margins given by hand have no counts for {variable!r}",
                                   "margins_missing_variable", variable=variable)
        counts = {}
        for level, count in margins[variable].items():
            if isinstance(count, bool) or not isinstance(count, int | float) or not count > 0:
                raise CalibrationError(
                    f"margin {variable!r}, level {level!r}: {count!r} is not a positive count",
                    "margin_not_positive", variable=variable, level=level, value=count,
                )
            counts[str(level)] = float(count)
        total = math.fsum(counts.values())
        if not math.isclose(total, frame_size, rel_tol=TOTALS_TOLERANCE):
            raise CalibrationError(
                f"margin {variable!r} adds up to {total:g} but the frame holds {frame_size:g} "
                "customers: the weights are calibrated to the population the sample was "
                "drawn from, so each margin must add up to it", "margin_total",
                variable=variable, total=total, frame=frame_size,
            )
        checked[variable] = counts
    return checked


def plan_calibration(
    choice: tuple[str, Sequence[str]] | None,
    profiles: Profiles,
    plan: Mapping[str, Any],
    *,
    manual_margins: Mapping[str, Mapping[str, Any]] | None = None,
    reference: str | None = None,
) -> dict[str, Any] | None:
    """The calibration document of a plan, with each cell's expected respondents.

    ``plan`` is the sampling plan (its ``strata`` with ``population`` and ``invitations``,
    and ``response_rate``); ``profiles`` the frame's (`survey.frame.sampling.Frame`). A
    level's expected sampled customers are ``sum_h n_h N_hc / N_h``, its expected respondents
    that times the response rate.

    Raises
    ------
    CalibrationError
        For a variable the frame does not have or with too many levels, margins by hand that
        do not match the frame, or a cell expecting less than one respondent (named).
    """
    if choice is None:
        return None
    method, variables = choice
    table = margins_by_stratum(profiles)
    known = sorted(name for name, levels in table.items() if 2 <= len(levels) <= MAX_LEVELS)
    for variable in variables:
        if variable not in table:
            raise CalibrationError(
                f"the customer file has no variable {variable!r} to weight on "
                f"(it has {', '.join(known) or 'none'})", "no_such_variable",
                variable=variable, known=", ".join(known),
            )
        if len(table[variable]) > MAX_LEVELS:
            raise CalibrationError(
                f"variable {variable!r} has {len(table[variable])} levels in the frame: "
                f"at most {MAX_LEVELS} can be calibration cells", "too_many_levels",
                variable=variable, levels=len(table[variable]), maximum=MAX_LEVELS,
            )
    sizes = {row["stratum"]: (row["population"], row["invitations"]) for row in plan["strata"]}
    frame_size = float(sum(population for population, _ in sizes.values()))
    rate = float(plan["response_rate"])
    margins = (
        _check_manual_margins(manual_margins, variables, frame_size)
        if manual_margins is not None
        else None
    )
    cells = []
    for variable in variables:
        levels = table[variable]
        counted = dict(margins[variable]) if margins is not None else {}
        for level in sorted(set(levels) | set(counted)):
            by_stratum = levels.get(level, {})
            sampled = math.fsum(
                sizes[stratum][1] * count / sizes[stratum][0]
                for stratum, count in by_stratum.items()
                if stratum in sizes
            )
            population = counted.get(level, float(sum(by_stratum.values())))
            if margins is not None and level not in counted:
                raise CalibrationError(
                    f"margin {variable!r} has no count for level {level!r}, which "
                    f"{sum(by_stratum.values())} customers of the frame hold",
                    "margin_missing_level",
                    variable=variable, level=level, customers=sum(by_stratum.values()),
                )
            expected = sampled * rate
            if expected < MIN_EXPECTED_RESPONDENTS:
                raise CalibrationError(
                    f"calibration cannot converge: cell {variable} = {level!r} "
                    f"expects {expected:.2f} respondent(s) ({sampled:.1f} sampled at a "
                    f"{rate:.0%} response rate), and a cell without respondents cannot "
                    "be weighted; merge this level with another, weight on other "
                    "variables, or sample more", "cell_without_respondents",
                    variable=variable, level=level, expected=round(expected, 2),
                    sampled=round(sampled, 1), rate=round(rate * 100),
                )
            cells.append(
                {
                    "variable": variable,
                    "level": level,
                    "population": population,
                    "expected_sampled": sampled,
                    "expected_respondents": expected,
                    "enough": expected >= ENOUGH_RESPONDENTS,
                }
            )
    document: dict[str, Any] = {
        "method": method,
        "variables": list(variables),
        "source": "manual" if margins is not None else "frame",
        "reference": reference if margins is not None else None,
        "cells": cells,
    }
    if margins is not None:
        document["margins"] = margins
    return document


def resolve_calibration(
    plan: Mapping[str, Any] | None, frame_margins: Mapping[str, Mapping[str, int]] | None
) -> dict[str, Any] | None:
    """The design file's ``calibration`` (``{"method", "margins"}``) for a campaign, or None.

    Frame margins come from the draw; before it (or for a campaign drawn before margins were
    stored) a calibration on the frame has no margins yet and none is applied.
    """
    chosen = (plan or {}).get("calibration")
    if not isinstance(chosen, Mapping) or not chosen.get("method"):
        return None
    if chosen.get("source") == "frame":
        if not frame_margins:
            return None
        missing = [v for v in chosen["variables"] if v not in frame_margins]
        if missing:
            return None
        margins = {variable: dict(frame_margins[variable]) for variable in chosen["variables"]}
    else:
        margins = {variable: dict(counts) for variable, counts in chosen["margins"].items()}
    return {"method": chosen["method"], "margins": margins}


def describe(calibration: Mapping[str, Any] | None) -> str:
    """``rake:segment,canal`` / ``poststratify:segment`` / ``none``."""
    if not calibration:
        return "none"
    return f"{calibration['method']}:{','.join(calibration['variables'])}"


def _sample_profiles(session: Session, campaign: Campaign) -> dict[tuple[str, str, str], int]:
    """The sampled customers as profiles (stratum, attributes, language), counted."""
    import json

    profiles: dict[tuple[str, str, str], int] = {}
    for stratum, attributes in session.execute(
        select(Invitation.stratum, Invitation.attributes).where(
            Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False)
        )
    ):
        attributes = dict(attributes or {})
        language = attributes.pop("language", None)
        key = (stratum, json.dumps(attributes, sort_keys=True, ensure_ascii=False), language)
        profiles[key] = profiles.get(key, 0) + 1
    return profiles


def choose_calibration(
    session: Session,
    campaign: Campaign,
    choice: tuple[str, Sequence[str]] | None,
    *,
    actor: str,
    actor_id: int | None = None,
    manual_margins: Mapping[str, Mapping[str, Any]] | None = None,
    reference: str | None = None,
) -> dict[str, Any] | None:
    """Set (or remove) the campaign's calibration, checked; records an audit event.

    Before the draw the check runs on the frame as the plan saw it; after it, on the sampled
    customers (each stands for itself: expected respondents are the sampled times the plan's
    response rate). Refused on an archived campaign, without a plan, or by the check.
    """
    if campaign.status == CampaignStatus.ARCHIVED.value:
        raise CalibrationError(f"campaign {campaign.slug} is archived: its weighting is final",
                               "campaign_archived")
    plan = campaign.plan
    document = check_choice(
        session, campaign, choice, manual_margins=manual_margins, reference=reference
    )
    campaign.plan = {**plan, "calibration": document}
    session.flush()
    record_event(
        session,
        "campaign.calibration",
        actor=actor,
        actor_id=actor_id,
        object_type="campaign",
        object_id=campaign.id,
        campaign_id=campaign.id,
        summary={
            "calibration": describe(document),
            "source": None if document is None else document["source"],
            "reference": reference,
        },
    )
    return document


def check_choice(
    session: Session,
    campaign: Campaign,
    choice: tuple[str, Sequence[str]] | None,
    *,
    manual_margins: Mapping[str, Mapping[str, Any]] | None = None,
    reference: str | None = None,
) -> dict[str, Any] | None:
    """The calibration document of `choice` for a drawn campaign, checked on its sample."""
    plan = campaign.plan
    if not plan:
        raise CalibrationError(
            f"campaign {campaign.slug} has no plan: plan it first (`campaigns plan`)", "no_plan",
        )
    if choice is None:
        document = None
    elif campaign.frame_margins is not None:
        profiles = _sample_profiles(session, campaign)
        drawn = {}
        for (stratum, _, _), count in profiles.items():
            drawn[stratum] = drawn.get(stratum, 0) + count
        sample_plan = {
            "strata": [
                {"stratum": stratum, "population": count, "invitations": count}
                for stratum, count in drawn.items()
            ],
            "response_rate": plan["response_rate"],
        }
        document = plan_calibration(
            choice, profiles, sample_plan, manual_margins=manual_margins, reference=reference
        )
        if document is not None and manual_margins is None:
            absent = [variable for variable in choice[1] if variable not in campaign.frame_margins]
            if absent:
                raise CalibrationError(
                    f"the frame's margins stored at the draw have no variable "
                    f"{', '.join(map(repr, absent))}", "frame_margins_missing",
                    variables=", ".join(absent),
                )
    else:
        raise CalibrationError(
            "before the draw the calibration is chosen with the plan "
            "(`campaigns plan ... --calibrate`)", "calibration_with_plan",
        )
    return document


def preview_calibration(
    session: Session, campaign: Campaign, choice: tuple[str, Sequence[str]] | None
) -> dict[str, Any]:
    """What `choice` would do, without saving it: its cells and, once there are respondents,
    the weights (range, Kish's design effect and effective size, trimming candidates) and the
    headline estimates weighted and unweighted.

    Raises
    ------
    CalibrationError
        As `choose_calibration` for a choice it would refuse.
    """
    from dataclasses import replace

    from analysis import AnalysisInputError, analyze, parse_design
    from analysis.diagnostics import unweighted_design
    from survey.reporting.builder import headline_indicators
    from survey.reporting.dataset import DatasetError, build_dataset

    document = check_choice(session, campaign, choice)
    preview: dict[str, Any] = {"calibration": document, "weights": None, "headline": []}
    try:
        dataset = build_dataset(
            session, campaign, plan={**(campaign.plan or {}), "calibration": document}
        )
    except (DatasetError, AnalysisInputError) as error:
        preview["unavailable"] = str(error)
        return preview
    spec = parse_design(dataset.design)
    names = headline_indicators(dataset.design).names()
    chosen = tuple(i for i in spec.indicators if i.name in names)
    weighted = analyze(dataset.frame, replace(spec, by=(), indicators=chosen))
    plain = analyze(dataset.frame, replace(unweighted_design(spec), by=(), indicators=chosen))
    preview["weights"] = weighted.weighting_details
    preview["note"] = dataset.calibration_note
    preview["headline"] = [
        {
            "indicator": w.indicator,
            "kind": i.kind,
            "weighted": w.to_dict(),
            "unweighted": u.to_dict(),
        }
        for w, u, i in zip(weighted.estimates, plain.estimates, chosen, strict=True)
    ]
    return preview


def sample_level_table(
    attributes: Mapping[str, Any] | None, variables: Sequence[str]
) -> dict[str, str]:
    """One sampled customer's levels of `variables` (from its invitation's snapshot)."""
    snapshot = dict(attributes or {})
    language = snapshot.pop("language", None)
    levels = customer_variables(snapshot, language)
    return {variable: levels.get(variable, MISSING_LEVEL) for variable in variables}
