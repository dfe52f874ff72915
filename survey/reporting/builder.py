"""The yearly report's numbers: a pure function of the dataset, its design and campaign facts.

`compute_report` calls the statistical engine (`analysis`) for everything it states: estimates
and intervals, weighting diagnostics, AAPOR rates, year-on-year and domain-versus-rest tests
with Holm's correction, key drivers and Cronbach's alpha. It touches no database, so that the
benchmark runs it on 100,000 synthetic respondents; `survey.reporting.operations` gathers its
inputs from a campaign, and `survey.reporting.render` turns its result into HTML.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from analysis import AnalysisInputError, analyze, parse_design
from analysis.aapor import rates_from_dispositions
from analysis.comparison import compare_to_previous, domain_versus_rest
from analysis.diagnostics import unweighted_design
from analysis.drivers import key_drivers
from analysis.estimation import SMALL_BASE, WITHHELD_BELOW, indicator_scores
from analysis.reliability import cronbach_alpha
from analysis.representativeness import r_indicator, response_rates
from questionnaires.questions import NpsQuestion, RatingQuestion
from survey.reporting.dataset import WEIGHT, RespondentsDataset
from survey.weighting.sample import RESPONDED, sample_file_frame
from survey.weighting.sample import STRATUM as STRATUM_COLUMN

# How many free comments the report prints at most: enough to read the customers' words,
# few enough that the report of 100,000 respondents stays small.
MAX_VERBATIMS = 200


@dataclass(frozen=True)
class CampaignFacts:
    """What the report says about the campaign itself (no database object)."""

    slug: str
    programme: str
    year: int
    status: str
    questionnaire_key: str
    questionnaire_version: str
    questionnaire_sha256: str
    fieldwork_start: date | None = None
    fieldwork_end: date | None = None
    channels: tuple[str, ...] = ("email",)
    reminder_days: tuple[int, ...] = ()
    plan: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    frame_counts: Mapping[str, int] = field(default_factory=dict)
    frame_sha256: str | None = None
    exclusions: Mapping[str, int] = field(default_factory=dict)
    drawn_at: datetime | None = None
    closed_at: datetime | None = None
    # The items whose trend the questionnaire broke since the previous campaign (`code`,
    # `reason`: changed or removed, `fields`), as the editor's comparability check found them.
    trend_breaks: tuple[Mapping[str, Any], ...] = ()
    trend_previous: str | None = None


@dataclass(frozen=True)
class PastCampaign:
    """An earlier campaign of the programme, with its whole-sample estimates (JSON form)."""

    year: int
    slug: str
    estimates: Sequence[Mapping[str, Any]]
    # Its frame, fieldwork and questionnaire, to state what limits the comparison with it.
    facts: CampaignFacts | None = None


@dataclass
class ReportInputs:
    campaign: CampaignFacts
    dataset: RespondentsDataset
    # One row per non-test invitation: stratum, channel, disposition.
    invitations: pd.DataFrame
    # One row per follow-up: `survey.followups.figures.COLUMNS`.
    follow_ups: pd.DataFrame
    history: Sequence[PastCampaign] = ()
    data_sha256: str = ""
    software_version: str = ""
    generated_at: datetime | None = None
    export_name: str = "export.csv"
    verbatim_seed: int = 0
    # The audit trail's newest sealed event when the report was made (`survey.audit.Head`).
    audit_head: Any = None
    # The programme's performance criteria over the campaign's year, month by month
    # (`survey.publication.criteria.criteria_table`).
    criteria: Sequence[Mapping[str, Any]] = ()
    # The improvement plan: the actions decided from the previous campaign, followed here, and
    # those decided from this one (`survey.improvement.follow_up.plan_records`).
    improvement: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Headline:
    """The four indicators the summary leads with, by their names in the design."""

    satisfied: str | None
    mean: str | None
    nps: str | None
    index: str | None

    def names(self) -> list[str]:
        return [name for name in (self.satisfied, self.mean, self.nps, self.index) if name]


def headline_indicators(design: Mapping[str, Any]) -> Headline:
    """The overall item's satisfied share and mean, the NPS and the composite index.

    `Questionnaire.analysis_indicators` puts the overall item first, so its indicators lead.
    """
    indicators = design["indicators"]
    first_item = next((i.get("item") for i in indicators if i["kind"] == "mean"), None)

    def find(kind: str, item: str | None = None) -> str | None:
        return next(
            (
                i["name"]
                for i in indicators
                if i["kind"] == kind and (item is None or i.get("item") == item)
            ),
            None,
        )

    return Headline(
        satisfied=find("proportion", first_item),
        mean=find("mean", first_item),
        nps=find("nps"),
        index=find("index"),
    )


def compute_report(inputs: ReportInputs) -> dict[str, Any]:
    """Every number of the report, as plain data (dicts, lists, floats) ready to render."""
    dataset = inputs.dataset
    frame = dataset.frame
    spec = parse_design(dataset.design)
    result = analyze(frame, spec)
    estimates = [estimate.to_dict() for estimate in result.estimates]
    overall = {e["indicator"]: e for e in estimates if e["domain"] is None}
    headline = headline_indicators(dataset.design)
    confidence = spec.confidence

    return {
        "campaign": inputs.campaign,
        "confidence": confidence,
        "n_respondents": len(frame),
        "headline": headline,
        "overall": overall,
        "estimates": estimates,
        "figures": stated_figures(estimates, inputs.data_sha256, len(frame),
                                  inputs.campaign.questionnaire_sha256),
        "margin": _margin(overall, headline, inputs.campaign.plan),
        "year_on_year": _year_on_year(inputs, overall, headline, confidence),
        "method": _method(inputs, result),
        "weighting": _weighting(inputs, spec, result, overall, headline),
        "representativeness": _representativeness(inputs, spec),
        "questions": _questions(dataset, overall),
        "domains": _domains(dataset, spec, estimates, headline, confidence),
        "trend": _trend(inputs, overall, headline),
        "comparability": comparability(inputs),
        "drivers": _drivers(dataset),
        "reliability": _reliability(dataset, confidence),
        "follow_ups": _follow_ups(inputs.follow_ups, inputs.generated_at),
        "criteria": criteria_beside_satisfaction(inputs.criteria, overall),
        "improvement": improvement_follow_up(inputs, overall, confidence),
        "verbatims": _verbatims(dataset, inputs.verbatim_seed),
        "annex": {
            "data_sha256": inputs.data_sha256,
            "software_version": inputs.software_version,
            "export_name": inputs.export_name,
            "design_name": _design_name(inputs.export_name),
            "sample_name": _design_name(inputs.export_name).replace(".design.json", ".sample.csv"),
            "design": dataset.design,
            "questionnaire": dataset.questionnaire,
            "audit_head": inputs.audit_head,
        },
        "generated_at": inputs.generated_at,
        "small_base": SMALL_BASE,
    }


def stated_figures(
    estimates: Sequence[Mapping[str, Any]], data_sha256: str, respondents: int,
    questionnaire_sha256: str | None = None,
) -> dict[str, Any]:
    """The numbers the report states, at full precision, for `barometre audit verify-pack`:
    every estimate of the engine (whole sample and domains), with the hashes of the data it was
    computed from and of the questionnaire version. A domain under `WITHHELD_BELOW`
    respondents keeps its count only, as the report withholds it."""
    stated = []
    for estimate in estimates:
        row = {key: estimate.get(key) for key in FIGURE_FIELDS}
        if estimate["domain"] is not None and estimate["n"] < WITHHELD_BELOW:
            row.update(estimate=None, se=None, ci_low=None, ci_high=None, withheld=True)
        stated.append(row)
    return {"data_sha256": data_sha256, "questionnaire_sha256": questionnaire_sha256,
            "respondents": respondents, "estimates": stated}


#: The fields of each estimate the report states in its figures block.
FIGURE_FIELDS = ("indicator", "domain", "n", "estimate", "se", "ci_low", "ci_high")


def public_figures(inputs: ReportInputs) -> dict[str, Any]:
    """The part of the report a programme publishes (`survey.publication.results`): the same
    functions and thresholds as `compute_report`, without what the public page leaves out
    (verbatims, drivers, representativeness, follow-ups), so that its numbers are the report's.
    """
    dataset = inputs.dataset
    spec = parse_design(dataset.design)
    result = analyze(dataset.frame, spec)
    estimates = [estimate.to_dict() for estimate in result.estimates]
    overall = {e["indicator"]: e for e in estimates if e["domain"] is None}
    headline = headline_indicators(dataset.design)
    method = _method(inputs, result)
    return {
        "confidence": spec.confidence,
        "n_respondents": len(dataset.frame),
        "headline": headline,
        "overall": overall,
        "year_on_year": _year_on_year(inputs, overall, headline, spec.confidence),
        "domains": _domains(dataset, spec, estimates, headline, spec.confidence),
        "trend": _trend(inputs, overall, headline),
        "questions": _questions(dataset, overall),
        "method": {key: method[key] for key in ("population", "invited", "rates", "calibration",
                                                "stratified", "proportion_ci")},
        "small_base": SMALL_BASE,
        "withheld_below": WITHHELD_BELOW,
    }


def _design_name(export_name: str) -> str:
    stem = export_name.rsplit(".", 1)[0] if "." in export_name else export_name
    return f"{stem}.design.json"


def _margin(
    overall: Mapping[str, Any], headline: Headline, plan: Mapping[str, Any]
) -> dict[str, Any]:
    """Half the width of the satisfied share's interval, against the plan's target."""
    estimate = overall.get(headline.satisfied or "")
    achieved = None
    if estimate and estimate["ci_low"] is not None and estimate["ci_high"] is not None:
        achieved = (estimate["ci_high"] - estimate["ci_low"]) / 2
    target = plan.get("margin")
    return {
        "achieved": achieved,
        "target": float(target) if target is not None else None,
        "met": None if achieved is None or target is None else achieved <= float(target),
    }


def _year_on_year(
    inputs: ReportInputs, overall: Mapping[str, Any], headline: Headline, confidence: float
) -> dict[str, Any] | None:
    earlier = [past for past in inputs.history if past.year < inputs.campaign.year]
    if not earlier:
        return None
    previous = max(earlier, key=lambda past: past.year)
    current = [overall[name] for name in headline.names() if name in overall]
    wanted = set(headline.names())
    before = [e for e in previous.estimates if e["domain"] is None and e["indicator"] in wanted]
    compared = compare_to_previous(current, before, confidence=confidence, alpha=1 - confidence)
    return {
        "year": previous.year,
        "slug": previous.slug,
        "rows": {
            item.indicator: {
                "previous": item.previous,
                "current": item.current,
                "difference": item.difference.estimate,
                "ci_low": item.difference.ci_low,
                "ci_high": item.difference.ci_high,
                "p_value": item.difference.p_value,
                "p_adjusted": item.p_adjusted,
                "significant": item.significant,
            }
            for item in compared
        },
    }


def _method(inputs: ReportInputs, result: Any) -> dict[str, Any]:
    invitations = inputs.invitations
    rates_overall = None
    per_stratum: list[dict[str, Any]] = []
    disposition_table: list[dict[str, Any]] = []
    if len(invitations):
        rates_overall = rates_from_dispositions(invitations["disposition"]).as_dict()
        for stratum, group in invitations.groupby("stratum", sort=True):
            per_stratum.append(
                {
                    "stratum": stratum,
                    "invited": len(group),
                    "population": inputs.campaign.frame_counts.get(str(stratum)),
                    **rates_from_dispositions(group["disposition"]).as_dict(),
                }
            )
        counts = invitations["disposition"].value_counts()
        disposition_table = [
            {"disposition": name, "count": int(count)} for name, count in counts.items()
        ]
    respondents = inputs.dataset.frame["stratum"].value_counts()
    for row in per_stratum:
        row["respondents"] = int(respondents.get(row["stratum"], 0))
    design = inputs.dataset.design
    partials = int((invitations["disposition"] == "partial").sum()) if len(invitations) else 0
    return {
        "channels": [name for name in ("email", "sms") if name in inputs.campaign.channels],
        # Started but not finished: a P in AAPOR's RR2, but no answer of theirs is estimated.
        "partials": partials,
        "plan_vs_achieved": _plan_vs_achieved(inputs.campaign.plan, respondents),
        "population": sum(inputs.campaign.frame_counts.values())
        if inputs.campaign.frame_counts
        else None,
        "invited": len(invitations),
        "rates": rates_overall,
        "per_stratum": per_stratum,
        "dispositions": disposition_table,
        "weighting": result.weighting.to_dict(),
        "calibration": design.get("calibration"),
        "stratified": "population" in design,
        "proportion_ci": design.get("proportion_ci", "logit"),
        "strata_without_respondents": sorted(
            str(s) for s in inputs.campaign.frame_counts if str(s) not in respondents.index
        ),
    }


def _plan_vs_achieved(plan: Mapping[str, Any], respondents: pd.Series) -> list[dict[str, Any]]:
    """Respondents the sample plan aimed at in each stratum against those who answered: the
    deviation from the plan ISO 20252 asks a report to state."""
    rows = []
    for stratum in (plan or {}).get("strata") or ():
        planned = stratum.get("respondents")
        achieved = int(respondents.get(str(stratum["stratum"]), 0))
        rows.append({
            "stratum": str(stratum["stratum"]),
            "planned": planned,
            "achieved": achieved,
            "difference": None if planned is None else achieved - planned,
        })
    return rows


def comparability(inputs: ReportInputs) -> dict[str, Any] | None:
    """What changed since the previous campaign the report compares with and limits the
    comparison: the frame's size, the fieldwork dates, the questionnaire. Only what differs is
    listed; None without a previous campaign whose facts are known."""
    earlier = [past for past in inputs.history if past.year < inputs.campaign.year]
    if not earlier:
        return None
    previous = max(earlier, key=lambda past: past.year)
    if previous.facts is None:
        return None
    before, now = previous.facts, inputs.campaign
    changes: list[dict[str, Any]] = []
    size_before = sum(before.frame_counts.values()) if before.frame_counts else None
    size_now = sum(now.frame_counts.values()) if now.frame_counts else None
    if size_before != size_now:
        changes.append({"kind": "frame_size", "before": size_before, "now": size_now})
    if (before.fieldwork_start, before.fieldwork_end) != (now.fieldwork_start, now.fieldwork_end):
        # Compared by day of the year: the same weeks a year apart are no change of season.
        def season(facts: CampaignFacts) -> tuple[Any, ...]:
            return tuple((day.month, day.day) if day else None
                         for day in (facts.fieldwork_start, facts.fieldwork_end))

        if season(before) != season(now):
            changes.append({
                "kind": "fieldwork",
                "before": (before.fieldwork_start, before.fieldwork_end),
                "now": (now.fieldwork_start, now.fieldwork_end),
            })
    if (before.questionnaire_key, before.questionnaire_version, before.questionnaire_sha256) != (
        now.questionnaire_key, now.questionnaire_version, now.questionnaire_sha256
    ):
        changes.append({
            "kind": "questionnaire",
            "before": (before.questionnaire_version, before.questionnaire_sha256[:12]),
            "now": (now.questionnaire_version, now.questionnaire_sha256[:12]),
        })
    return {"year": previous.year, "slug": previous.slug, "changes": changes}


def _weighting(
    inputs: ReportInputs,
    spec: Any,
    result: Any,
    overall: Mapping[str, Any],
    headline: Headline,
) -> dict[str, Any]:
    """What weighting does: the headline estimates weighted and unweighted side by side, the
    weights per stratum, trimming candidates and the calibration's convergence."""
    names = [name for name in headline.names() if name in overall]
    plain = replace(
        unweighted_design(spec),
        by=(),
        indicators=tuple(i for i in spec.indicators if i.name in names),
    )
    unweighted = {e.indicator: e.to_dict() for e in analyze(inputs.dataset.frame, plain).estimates}
    chosen = inputs.campaign.plan.get("calibration") if inputs.campaign.plan else None
    return {
        "summary": result.weighting_details,
        "headline": [
            {"indicator": name, "weighted": overall[name], "unweighted": unweighted.get(name)}
            for name in names
        ],
        "chosen": chosen if isinstance(chosen, Mapping) else None,
        "note": inputs.dataset.calibration_note,
    }


def _representativeness(inputs: ReportInputs, spec: Any) -> dict[str, Any] | None:
    """Response rates by frame variable and the R-indicator over every sampled customer, with
    a plain reading: which levels answered less than the whole sample (their interval below
    its rate) and whether the calibration weights on their variable."""
    table = inputs.invitations
    if len(table) < 2 or "disposition" not in table.columns:
        return None
    if RESPONDED not in table.columns:
        table = table.assign(**{RESPONDED: (table["disposition"] == "complete").astype(int)})
    sample = sample_file_frame(table)
    variables = [c for c in sample.columns if c not in (STRATUM_COLUMN, RESPONDED)]
    if not variables:
        return None
    population = dict(inputs.campaign.frame_counts) or None
    strata = STRATUM_COLUMN if population else None
    try:
        rates = response_rates(
            sample, variables, strata=strata, population=population, confidence=spec.confidence
        )
        indicator = r_indicator(
            sample, variables, strata=strata, population=population, confidence=spec.confidence
        )
    except AnalysisInputError as error:
        return {"error": str(error)}
    calibrated = set(spec.calibration.variables) if spec.calibration is not None else set()
    overall = rates[0]
    readings = []
    for rate in rates[1:]:
        if rate.ci_high is not None and overall.rate is not None and rate.ci_high < overall.rate:
            direction = "under"
        elif rate.ci_low is not None and overall.rate is not None and rate.ci_low > overall.rate:
            direction = "over"
        else:
            continue
        readings.append(
            {
                "variable": rate.variable,
                "level": rate.level,
                "direction": direction,
                "rate": rate.rate,
                "overall": overall.rate,
                "corrected": rate.variable in calibrated,
            }
        )
    readings.sort(key=lambda r: -abs((r["rate"] or 0) - (r["overall"] or 0)))
    partial_levels = {
        (partial.variable, level["level"]): {
            "partial_unconditional": level["unconditional"],
            "partial_conditional": level["conditional"],
        }
        for partial in indicator.partial
        for level in partial.levels
    }
    return {
        "variables": variables,
        "overall": overall.to_dict(),
        "rates": [
            {**rate.to_dict(), **partial_levels.get((rate.variable, rate.level), {})}
            for rate in rates[1:]
        ],
        "partial": {p.variable: p.to_dict() for p in indicator.partial},
        "r_indicator": indicator.to_dict(),
        "readings": readings,
        "calibrated": sorted(calibrated),
    }


def _questions(dataset: RespondentsDataset, overall: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per scale question: weighted distribution, "not applicable" apart, mean and satisfied."""
    frame = dataset.frame
    weights = frame[WEIGHT].to_numpy(dtype=float)
    questions = []
    for _, question in dataset.questionnaire.questions():
        if not isinstance(question, RatingQuestion | NpsQuestion):
            continue
        low, high = question.scale()
        values = frame[question.code].to_numpy(dtype=float)
        answered = ~np.isnan(values)
        total = weights[answered].sum()
        shares = {
            point: float(weights[answered & (values == point)].sum() / total) if total else 0.0
            for point in range(low, high + 1)
        }
        not_applicable = dataset.not_applicable.get(question.code)
        na_share = None
        if not_applicable is not None:
            asked = answered | not_applicable
            na_share = (
                float(weights[not_applicable].sum() / weights[asked].sum()) if asked.any() else 0.0
            )
        code = question.code
        questions.append(
            {
                "code": code,
                "question": question,
                "nps": isinstance(question, NpsQuestion),
                "shares": shares,
                "n": int(answered.sum()),
                "n_not_applicable": None if not_applicable is None else int(not_applicable.sum()),
                "na_share": na_share,
                "mean": overall.get(f"{code}_mean"),
                "satisfied": overall.get(f"{code}_satisfied"),
                "nps_estimate": overall.get("nps" if code == "nps" else f"{code}_nps")
                if isinstance(question, NpsQuestion)
                else None,
            }
        )
    return questions


def _domains(
    dataset: RespondentsDataset,
    spec: Any,
    estimates: Sequence[Mapping[str, Any]],
    headline: Headline,
    confidence: float,
) -> list[dict[str, Any]]:
    """Each domain variable: headline estimates per level, and each level against the rest."""
    frame = dataset.frame
    indicators = {indicator.name: indicator for indicator in spec.indicators}
    scored = frame.copy()
    names = headline.names()
    for name in names:
        scored[f"__{name}"] = indicator_scores(frame, indicators[name], spec.id)
    # With calibrated weights the engine's contrast takes them as fixed (conservative); without
    # calibration it uses the exact stratified design.
    if spec.calibration is None and spec.population is not None:
        design_args = {"strata": spec.strata, "population": dict(spec.population)}
    else:
        design_args = {"strata": spec.strata, "weights": WEIGHT}
    domains = []
    for variable in spec.by:
        levels: dict[str, dict[str, Any]] = {}
        for estimate in estimates:
            if estimate["domain"] and variable in estimate["domain"]:
                level = str(estimate["domain"][variable])
                levels.setdefault(level, {})[estimate["indicator"]] = dict(estimate)
        contrasts: dict[str, dict[str, Any]] = {}
        for name in names:
            try:
                tests = domain_versus_rest(
                    scored, f"__{name}", variable, confidence=confidence,
                    alpha=1 - confidence, **design_args,
                )  # fmt: skip
            except AnalysisInputError:
                continue  # one level only among those who answered: nothing to compare
            for test in tests:
                contrasts.setdefault(str(test.level), {})[name] = {
                    "difference": test.difference.estimate,
                    "p_adjusted": test.p_adjusted,
                    "significant": test.significant,
                }
        for level, by_indicator in levels.items():
            for estimate in by_indicator.values():
                if estimate["n"] < WITHHELD_BELOW:
                    # Too few respondents to publish (issue #3): no numbers, no contrast.
                    estimate.update(
                        estimate=None, se=None, ci_low=None, ci_high=None, withheld=True
                    )
                    contrasts.pop(level, None)
        domains.append(
            {
                "variable": variable,
                "levels": [
                    {
                        "level": level,
                        "estimates": levels[level],
                        "contrasts": contrasts.get(level, {}),
                    }
                    for level in sorted(levels)
                ],
            }
        )
    return domains


def _trend(
    inputs: ReportInputs, overall: Mapping[str, Any], headline: Headline
) -> list[dict[str, Any]]:
    points = []
    for past in sorted(inputs.history, key=lambda past: past.year):
        if past.year >= inputs.campaign.year:
            continue
        whole = {e["indicator"]: e for e in past.estimates if e["domain"] is None}
        points.append({"year": past.year, "slug": past.slug, "estimates": whole})
    points.append(
        {"year": inputs.campaign.year, "slug": inputs.campaign.slug, "estimates": dict(overall)}
    )
    return points


def drivers_of(dataset: RespondentsDataset) -> dict[str, Any] | None:
    """The importance–performance grid of the report (`grid`, and the rated `questions` by
    code), `{"error": ...}` when it cannot be computed, None without an overall item."""
    return _drivers(dataset)


def _drivers(dataset: RespondentsDataset) -> dict[str, Any] | None:
    questionnaire = dataset.questionnaire
    overall_question = questionnaire.overall_question()
    if overall_question is None:
        return None
    items = [
        question
        for _, question in questionnaire.questions()
        if isinstance(question, RatingQuestion)
        and question.code != overall_question.code
        and question.satisfied
        and dataset.frame[question.code].notna().sum() >= 3
    ]
    try:
        grid = key_drivers(
            dataset.frame,
            [q.code for q in items],
            overall_question.code,
            {q.code: q.satisfied for q in items},
            weights=WEIGHT,
        )
    except AnalysisInputError as error:
        return {"error": str(error)}
    return {"grid": grid, "questions": {q.code: q for q in items}}


def _reliability(dataset: RespondentsDataset, confidence: float) -> dict[str, Any] | None:
    """Alpha of the index's items that every respondent is asked (no display condition).

    Items shown only to some customers (a phone waiting time, a complaint) would leave only the
    few who saw them all in listwise complete cases, so they are left out and named.
    """
    index = next((i for i in dataset.design["indicators"] if i["kind"] == "index"), None)
    if index is None:
        return None
    questionnaire = dataset.questionnaire
    items = [code for code in index["items"] if questionnaire.question(code).show_if is None]
    left_out = [code for code in index["items"] if code not in items]
    try:
        alpha = cronbach_alpha(dataset.frame, items, confidence=confidence)
    except AnalysisInputError as error:
        return {"error": str(error), "items": items, "left_out": left_out}
    return {"alpha": alpha, "items": items, "left_out": left_out}


def criteria_beside_satisfaction(
    criteria: Sequence[Mapping[str, Any]], overall: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Each performance criterion with the satisfied share (and its interval) of the
    questionnaire item it is linked to, when the campaign asked it: the commitment as the
    centre measured it beside the commitment as its customers judged it."""
    rows = []
    for criterion in criteria:
        item = criterion.get("item")
        estimate = overall.get(f"{item}_satisfied") if item else None
        rows.append({**criterion, "satisfaction": dict(estimate) if estimate else None})
    return rows


def improvement_follow_up(
    inputs: ReportInputs, overall: Mapping[str, Any], confidence: float
) -> dict[str, Any] | None:
    """Last year's improvement actions, each with its targeted indicator compared between the
    two campaigns by the year-on-year test (`survey.improvement.follow_up.follow_up`)."""
    from survey.improvement.follow_up import follow_up

    plan = inputs.improvement
    if not plan or not (plan.get("followed") or plan.get("decided")):
        return None
    previous = plan.get("previous") or {}
    past = next((p for p in inputs.history if p.slug == previous.get("slug")), None)
    items = {i["name"]: i.get("item") for i in inputs.dataset.design["indicators"]}
    broken = {str(b.get("code")) for b in inputs.campaign.trend_breaks}
    return follow_up(plan, overall, past.estimates if past else None, items=items,
                     broken_items=broken, confidence=confidence)


def _follow_ups(follow_ups: pd.DataFrame, now: datetime | None) -> dict[str, Any]:
    from survey.followups.figures import loop_figures

    return loop_figures(follow_ups, now=now or datetime.now(UTC))


def _verbatims(dataset: RespondentsDataset, seed: int) -> dict[str, Any]:
    """Free comments (already masked), a seeded sample when there are too many to print."""
    frame = dataset.frame
    overall_question = dataset.questionnaire.overall_question()
    comments = []
    for column in dataset.text_columns:
        present = frame[frame[column].notna() & (frame[column].astype(str).str.strip() != "")]
        for row in present.itertuples(index=False):
            record = row._asdict()
            comments.append(
                {
                    "question": column,
                    "text": record[column],
                    "stratum": record["stratum"],
                    "score": None
                    if overall_question is None
                    else _number(record.get(overall_question.code)),
                }
            )
    total = len(comments)
    if total > MAX_VERBATIMS:
        chosen = np.random.default_rng(seed).choice(total, size=MAX_VERBATIMS, replace=False)
        comments = [comments[i] for i in sorted(chosen)]
    comments.sort(key=lambda c: (c["score"] is None, c["score"] if c["score"] is not None else 0))
    return {"total": total, "shown": comments, "sampled": total > MAX_VERBATIMS, "seed": seed}


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value
