"""Every number of the yearly report, from the export's files alone.

The report (``survey.reporting.builder``) and ``barometre analyze --report`` both call
:func:`report_figures`, so that an auditor holding only the export (``EXPORT.csv``), its design
file and its sample file gets back each figure the report states: the estimates, the margin
achieved, the weighted and unweighted headline, the year-on-year tests (Welch–Satterthwaite,
Holm over the headline indicators), each domain level against the rest (linearised contrast,
Holm over the levels of one variable for one indicator), the AAPOR response rates overall and
per stratum, the planned against achieved respondents, the representativeness, the answers'
distributions, the key drivers, Cronbach's alpha, and the follow-up of the improvement plan
decided from the previous campaign (each action's indicator in both years, their difference
with its interval, Holm over the plan's indicators, the target met or not).

What the data alone cannot say is written by the platform in the design file's ``report`` key
(:class:`ReportSpec`, docs/analysis-contract.md): which indicators are the headline (and so the
comparison families), the items of the drivers grid and of alpha, each rating's scale, the
plan's targets, the withholding threshold, the previous campaigns' whole-sample estimates, and
the actions decided from the previous campaign.

Pure functions over pandas; the result is a frozen :class:`ReportFigures` whose ``to_dict`` is
the JSON the report embeds (``<script id="report-figures">``) and ``analyze --report`` prints.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from analysis.design import AnalysisInputError, DesignSpec
from analysis.diagnostics import unweighted_design
from analysis.estimation import WITHHELD_BELOW, analyze, indicator_scores

#: The headline's roles, in the order the report prints them.
HEADLINE_ROLES = ("satisfied", "mean", "nps", "index")
#: The columns of the sample file besides the frame variables (docs/analysis-contract.md).
SAMPLE_RESPONDED = "responded"
SAMPLE_DISPOSITION = "disposition"
#: The fields of each estimate the report states.
FIGURE_FIELDS = ("indicator", "domain", "n", "estimate", "se", "ci_low", "ci_high")
#: The final weights of the export (`survey.reporting.dataset.WEIGHT`).
WEIGHT = "weight"

_SPEC_KEYS = frozenset({"year", "headline", "withheld_below", "margin_target", "planned",
                        "drivers", "reliability", "distributions", "previous", "improvement"})
_IMPROVEMENT_KEYS = frozenset({"previous", "actions", "trend_broken"})
#: The statuses of an improvement action, in the order the report counts them.
ACTION_STATUSES = ("planned", "in_progress", "done", "abandoned")
#: The fields of an estimate the follow-up states for each year (as `previous` holds them).
FOLLOW_UP_FIELDS = (*FIGURE_FIELDS, "df")


# --------------------------------------------------------------------------------------------
# What the report computes beyond the design


@dataclass(frozen=True)
class PastEstimates:
    """An earlier campaign of the programme: its year, slug and whole-sample estimates (the
    JSON form ``analyze`` prints for its own export)."""

    year: int
    slug: str
    estimates: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class ReportSpec:
    """What the report computes that the data alone does not say (the design's ``report``).

    Attributes
    ----------
    year : int or None
        The campaign's year; earlier campaigns in ``previous`` are compared with it.
    headline : tuple of (str, str)
        ``(role, indicator)`` for the roles of `HEADLINE_ROLES` the design has. These
        indicators, on the whole sample, are the year-on-year family for Holm's correction;
        for each of them and each ``by`` variable, the levels are one family of contrasts.
    withheld_below : int
        Domains with fewer respondents are withheld: no estimate, no contrast.
    margin_target : float or None
        The plan's target half-width of the satisfied share's interval.
    planned : tuple of (str, int or None)
        Respondents the plan aimed at per stratum.
    drivers : (str, tuple of (str, tuple)) or None
        The overall item and the candidate items with their satisfied answers; an item that
        fewer than 3 respondents answered is left off the grid.
    reliability : (tuple of str, tuple of str) or None
        The index's items alpha is computed on, and those left out (asked only to some).
    distributions : tuple of (str, int, int)
        Each scale item with its lowest and highest point.
    previous : tuple of PastEstimates
        Earlier campaigns, oldest first.
    improvement : mapping or None
        The improvement plan decided from the previous campaign (plain JSON): ``previous``
        (its ``slug`` and ``year``), ``actions`` (each with ``id``, ``title``, ``status``, and
        the ``indicator`` and ``target`` it aims at, or null) and ``trend_broken`` (the items
        whose question changed since, not compared). None when there is no previous campaign.
    """

    year: int | None = None
    headline: tuple[tuple[str, str], ...] = ()
    withheld_below: int = WITHHELD_BELOW
    margin_target: float | None = None
    planned: tuple[tuple[str, int | None], ...] = ()
    drivers: tuple[str, tuple[tuple[str, tuple[float, ...]], ...]] | None = None
    reliability: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    distributions: tuple[tuple[str, int, int], ...] = ()
    previous: tuple[PastEstimates, ...] = ()
    improvement: Mapping[str, Any] | None = None

    @property
    def headline_names(self) -> list[str]:
        return [name for _, name in self.headline]

    def role(self, role: str) -> str | None:
        return dict(self.headline).get(role)

    def to_mapping(self) -> dict[str, Any]:
        """The ``report`` key of a design file (`parse_report_spec` reads it back)."""
        return {
            "year": self.year,
            "headline": dict(self.headline),
            "withheld_below": self.withheld_below,
            "margin_target": self.margin_target,
            "planned": dict(self.planned),
            "drivers": None if self.drivers is None else {
                "overall": self.drivers[0],
                "items": {code: list(values) for code, values in self.drivers[1]},
            },
            "reliability": None if self.reliability is None else {
                "items": list(self.reliability[0]), "left_out": list(self.reliability[1]),
            },
            "distributions": {code: [low, high] for code, low, high in self.distributions},
            "previous": [
                {"year": past.year, "slug": past.slug,
                 "estimates": [dict(estimate) for estimate in past.estimates]}
                for past in self.previous
            ],
            "improvement": None if self.improvement is None else dict(self.improvement),
        }  # fmt: skip


def parse_report_spec(mapping: Any) -> ReportSpec:
    """Validate the design file's ``report`` key into a :class:`ReportSpec`.

    Raises
    ------
    AnalysisInputError
        For an unknown key or a value of the wrong type; the message names the key.
    """
    if mapping is None:
        return ReportSpec()
    _check_object("report", mapping, _SPEC_KEYS)

    def table(key: str) -> Mapping[str, Any]:
        value = mapping.get(key) or {}
        if not isinstance(value, Mapping):
            raise AnalysisInputError(f"'report.{key}' must be a JSON object")
        return value

    headline = table("headline")
    for role, name in headline.items():
        if role not in HEADLINE_ROLES or not isinstance(name, str):
            raise AnalysisInputError(
                f"'report.headline' maps {', '.join(HEADLINE_ROLES)} to indicator names; "
                f"got {role!r}: {name!r}"
            )
    drivers = mapping.get("drivers")
    if drivers is not None:
        if not isinstance(drivers, Mapping) or not isinstance(drivers.get("overall"), str):
            raise AnalysisInputError("'report.drivers' needs 'overall' (an item) and 'items'")
        items = drivers.get("items") or {}
        if not isinstance(items, Mapping):
            raise AnalysisInputError("'report.drivers.items' maps items to satisfied answers")
        drivers = (drivers["overall"],
                   tuple((str(code), tuple(values)) for code, values in items.items()))
    reliability = mapping.get("reliability")
    if reliability is not None:
        if not isinstance(reliability, Mapping):
            raise AnalysisInputError("'report.reliability' needs 'items' (and 'left_out')")
        reliability = (tuple(map(str, reliability.get("items") or ())),
                       tuple(map(str, reliability.get("left_out") or ())))
    distributions = []
    for code, scale in table("distributions").items():
        if not (isinstance(scale, Sequence) and len(scale) == 2):
            raise AnalysisInputError(f"'report.distributions.{code}' must be [lowest, highest]")
        distributions.append((str(code), int(scale[0]), int(scale[1])))
    previous = []
    for position, past in enumerate(mapping.get("previous") or ()):
        if not isinstance(past, Mapping) or not isinstance(past.get("estimates"), list):
            raise AnalysisInputError(
                f"'report.previous[{position}]' needs 'year', 'slug' and 'estimates'")
        previous.append(PastEstimates(year=int(past["year"]), slug=str(past.get("slug", "")),
                                      estimates=tuple(past["estimates"])))
    target = mapping.get("margin_target")
    year = mapping.get("year")
    improvement = parse_improvement(mapping.get("improvement"))
    return ReportSpec(
        year=None if year is None else int(year),
        headline=tuple((role, headline[role]) for role in HEADLINE_ROLES if role in headline),
        withheld_below=int(mapping.get("withheld_below", WITHHELD_BELOW)),
        margin_target=None if target is None else float(target),
        planned=tuple((str(k), None if v is None else int(v))
                      for k, v in table("planned").items()),
        drivers=drivers,
        reliability=reliability,
        distributions=tuple(distributions),
        previous=tuple(sorted(previous, key=lambda past: past.year)),
        improvement=improvement,
    )


def _check_object(key: str, value: Any, allowed: frozenset[str]) -> None:
    """Refuse `value` unless it is a JSON object whose keys are among `allowed`, naming `key`."""
    if not isinstance(value, Mapping):
        raise AnalysisInputError(f"'{key}' must be a JSON object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise AnalysisInputError(
            f"'{key}' has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def parse_improvement(value: Any) -> dict[str, Any] | None:
    """Validate the ``report.improvement`` key (see `ReportSpec`); the message names the key."""
    if value is None:
        return None
    _check_object("report.improvement", value, _IMPROVEMENT_KEYS)
    previous = value.get("previous")
    if previous is not None and not (isinstance(previous, Mapping)
                                     and isinstance(previous.get("year"), int)):
        raise AnalysisInputError("'report.improvement.previous' needs 'slug' and 'year' (or null)")
    actions = value.get("actions") or []
    if not isinstance(actions, list):
        raise AnalysisInputError("'report.improvement.actions' must be a list of actions")
    for position, action in enumerate(actions):
        where = f"'report.improvement.actions[{position}]'"
        if not isinstance(action, Mapping) or "id" not in action or "title" not in action:
            raise AnalysisInputError(f"{where} needs 'id', 'title' and 'status'")
        if action.get("status") not in ACTION_STATUSES:
            raise AnalysisInputError(f"{where}: 'status' is one of {', '.join(ACTION_STATUSES)}, "
                                     f"not {action.get('status')!r}")
        if action.get("indicator") is not None and not isinstance(action["indicator"], str):
            raise AnalysisInputError(f"{where}: 'indicator' names an indicator of the design")
        target = action.get("target")
        if target is not None and not _is_number(target):
            raise AnalysisInputError(f"{where}: 'target' must be a number or null")
    broken = value.get("trend_broken") or []
    if not isinstance(broken, list) or not all(isinstance(code, str) for code in broken):
        raise AnalysisInputError("'report.improvement.trend_broken' must be a list of items")
    return {"previous": None if previous is None else dict(previous),
            "actions": [dict(action) for action in actions], "trend_broken": list(broken)}


# --------------------------------------------------------------------------------------------
# The figures


@dataclass(frozen=True)
class ReportFigures:
    """Every number of the report, each part as plain JSON data (see `report_figures`).

    ``drivers`` and ``reliability`` keep the engine's objects (`analysis.drivers.KeyDrivers`,
    `analysis.reliability.CronbachAlpha`) for the report's charts; ``to_dict`` turns them
    into JSON.
    """

    respondents: int
    confidence: float
    estimates: tuple[Mapping[str, Any], ...]
    margin: Mapping[str, Any]
    unweighted: Mapping[str, Any]
    weighting: Mapping[str, Any]
    year_on_year: Mapping[str, Any] | None
    trend: tuple[Mapping[str, Any], ...]
    domain_contrasts: tuple[Mapping[str, Any], ...]
    response_rates: Mapping[str, Any] | None
    plan_vs_achieved: tuple[Mapping[str, Any], ...]
    representativeness: Mapping[str, Any] | None
    distributions: tuple[Mapping[str, Any], ...]
    drivers: Any = None
    reliability: Any = None
    improvement: Mapping[str, Any] | None = None
    all_estimates: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The figures as the report's block states them and ``analyze --report`` prints."""
        return {
            "respondents": self.respondents,
            "confidence": self.confidence,
            "estimates": [dict(e) for e in self.estimates],
            "margin": dict(self.margin),
            "unweighted": dict(self.unweighted),
            "weighting": dict(self.weighting),
            "year_on_year": None if self.year_on_year is None else dict(self.year_on_year),
            "trend": [dict(point) for point in self.trend],
            "domain_contrasts": [dict(c) for c in self.domain_contrasts],
            "response_rates": None if self.response_rates is None else dict(self.response_rates),
            "plan_vs_achieved": [dict(row) for row in self.plan_vs_achieved],
            "representativeness": None if self.representativeness is None
            else dict(self.representativeness),
            "distributions": [dict(row) for row in self.distributions],
            "drivers": drivers_dict(self.drivers),
            "reliability": reliability_dict(self.reliability),
            "improvement": None if self.improvement is None else dict(self.improvement),
        }


def report_figures(
    responses: pd.DataFrame,
    design: DesignSpec,
    spec: ReportSpec,
    sample: pd.DataFrame | None = None,
) -> ReportFigures:
    """Every number of the report from the respondents, their design and the report's spec.

    Parameters
    ----------
    responses : pandas.DataFrame
        The export: one row per respondent, with its final weights in ``weight``.
    design : DesignSpec
        The design file, parsed.
    spec : ReportSpec
        Its ``report`` key, parsed.
    sample : pandas.DataFrame, optional
        The sample file (one row per sampled customer: the strata column, ``responded``,
        ``disposition``, then frame variables). Without it the response rates and the
        representativeness are None.
    """
    result = analyze(responses, design)
    estimates = [estimate.to_dict() for estimate in result.estimates]
    overall = {e["indicator"]: e for e in estimates if e["domain"] is None}
    confidence = design.confidence
    names = [name for name in spec.headline_names if name in overall]
    return ReportFigures(
        respondents=len(responses),
        confidence=confidence,
        estimates=tuple(stated_estimates(estimates, spec.withheld_below)),
        margin=margin(overall, spec),
        unweighted=unweighted_headline(responses, design, names),
        weighting=result.weighting_details,
        year_on_year=year_on_year(overall, spec, confidence),
        trend=tuple(trend(overall, spec)),
        domain_contrasts=tuple(domain_contrasts(responses, design, estimates, names,
                                                spec.withheld_below)),
        response_rates=None if sample is None or SAMPLE_DISPOSITION not in sample.columns
        else response_rates(sample, responses, design),
        plan_vs_achieved=tuple(plan_vs_achieved(responses, design, spec)),
        representativeness=None if sample is None else representativeness(sample, design),
        distributions=tuple(distributions(responses, spec)),
        drivers=drivers(responses, spec),
        reliability=reliability(responses, spec, confidence),
        improvement=plan_follow_up(overall, design, spec),
        all_estimates=tuple(estimates),
    )


def stated_estimates(
    estimates: Sequence[Mapping[str, Any]], withheld_below: int = WITHHELD_BELOW
) -> list[dict[str, Any]]:
    """Each estimate's `FIGURE_FIELDS`; a domain under ``withheld_below`` respondents keeps
    its count only (``withheld``), as the report withholds it."""
    stated = []
    for estimate in estimates:
        row = {key: estimate.get(key) for key in FIGURE_FIELDS}
        if estimate["domain"] is not None and estimate["n"] < withheld_below:
            row.update(estimate=None, se=None, ci_low=None, ci_high=None, withheld=True)
        stated.append(row)
    return stated


def margin(overall: Mapping[str, Any], spec: ReportSpec) -> dict[str, Any]:
    """Half the width of the satisfied share's interval, against the plan's target."""
    estimate = overall.get(spec.role("satisfied") or "")
    achieved = None
    if estimate and estimate["ci_low"] is not None and estimate["ci_high"] is not None:
        achieved = (estimate["ci_high"] - estimate["ci_low"]) / 2
    target = spec.margin_target
    return {
        "achieved": achieved,
        "target": target,
        "met": None if achieved is None or target is None else achieved <= target,
    }


def unweighted_headline(
    responses: pd.DataFrame, design: DesignSpec, names: Sequence[str]
) -> dict[str, Any]:
    """The headline indicators on the whole sample without weights: what weighting changes."""
    plain = replace(unweighted_design(design), by=(),
                    indicators=tuple(i for i in design.indicators if i.name in names))
    if not plain.indicators:
        return {}
    return {e.indicator: {key: e.to_dict()[key] for key in FIGURE_FIELDS}
            for e in analyze(responses, plain).estimates}


def year_on_year(
    overall: Mapping[str, Any], spec: ReportSpec, confidence: float
) -> dict[str, Any] | None:
    """The headline against the latest earlier campaign: one Holm family at ``1 - confidence``.

    Independent samples: the difference's variance is the sum of the two, Student's t with
    Welch–Satterthwaite's degrees of freedom (`analysis.comparison.compare_to_previous`).
    """
    from analysis.comparison import compare_to_previous

    earlier = [past for past in spec.previous if spec.year is None or past.year < spec.year]
    if not earlier:
        return None
    previous = max(earlier, key=lambda past: past.year)
    wanted = spec.headline_names
    current = [overall[name] for name in wanted if name in overall]
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
                "se": item.difference.se,
                "df": item.difference.df,
                "ci_low": item.difference.ci_low,
                "ci_high": item.difference.ci_high,
                "p_value": item.difference.p_value,
                "p_adjusted": item.p_adjusted,
                "significant": item.significant,
            }
            for item in compared
        },
    }


def trend(overall: Mapping[str, Any], spec: ReportSpec) -> list[dict[str, Any]]:
    """The whole-sample estimates of each earlier campaign, then this one's."""
    points = []
    for past in spec.previous:
        if spec.year is not None and past.year >= spec.year:
            continue
        whole = {e["indicator"]: dict(e) for e in past.estimates if e["domain"] is None}
        points.append({"year": past.year, "slug": past.slug, "estimates": whole})
    points.append({"year": spec.year, "slug": None,
                   "estimates": {name: dict(e) for name, e in overall.items()}})
    return points


def domain_contrasts(
    responses: pd.DataFrame,
    design: DesignSpec,
    estimates: Sequence[Mapping[str, Any]],
    names: Sequence[str],
    withheld_below: int = WITHHELD_BELOW,
) -> list[dict[str, Any]]:
    """Each level of each ``by`` variable against the rest, for each headline indicator.

    The levels of one variable for one indicator are one family for Holm's correction at
    ``1 - confidence`` (`analysis.comparison.domain_versus_rest`). With calibrated weights the
    contrast takes them as fixed (conservative); without calibration it uses the exact
    stratified design. A level where any indicator has fewer than ``withheld_below``
    respondents is left out, as the report withholds it.
    A variable with one level among those who answered has no contrast.
    """
    from analysis.comparison import domain_versus_rest

    indicators = {indicator.name: indicator for indicator in design.indicators}
    scored = responses.copy()
    for name in names:
        scored[f"__{name}"] = indicator_scores(responses, indicators[name], design.id)
    if design.calibration is None and design.population is not None:
        design_args: dict[str, Any] = {
            "strata": design.strata,
            "population": design.stratum_populations or design.population,
        }
    else:
        design_args = {"strata": design.strata, "weights": WEIGHT}
    rows = []
    for variable in design.by:
        small = {
            str(e["domain"][variable])
            for e in estimates
            if e["domain"] and variable in e["domain"] and e["n"] < withheld_below
        }
        for name in names:
            try:
                tests = domain_versus_rest(
                    scored, f"__{name}", variable, confidence=design.confidence,
                    alpha=1 - design.confidence, **design_args,
                )  # fmt: skip
            except AnalysisInputError:
                continue  # one level only among those who answered: nothing to compare
            for test in tests:
                if str(test.level) in small:
                    continue
                rows.append({
                    "variable": variable,
                    "level": str(test.level),
                    "indicator": name,
                    "estimate": test.estimate,
                    "rest_estimate": test.rest_estimate,
                    "difference": test.difference.estimate,
                    "se": test.difference.se,
                    "ci_low": test.difference.ci_low,
                    "ci_high": test.difference.ci_high,
                    "p_value": test.difference.p_value,
                    "p_adjusted": test.p_adjusted,
                    "significant": test.significant,
                })
    return rows


def response_rates(
    sample: pd.DataFrame, responses: pd.DataFrame, design: DesignSpec
) -> dict[str, Any] | None:
    """AAPOR's rates (`analysis.aapor.rates_from_dispositions`) over every sampled customer
    and per stratum, the count of each disposition and of partial responses (a P in RR2,
    never estimated)."""
    from analysis.aapor import rates_from_dispositions

    if not len(sample):
        return None
    strata = design.strata or "stratum"
    dispositions = sample[SAMPLE_DISPOSITION].astype(str)
    populations = design.stratum_populations
    respondents = _respondents_per_stratum(responses, strata)
    per_stratum = []
    if strata in sample.columns:
        for stratum, group in sample.groupby(sample[strata].astype(str), sort=True):
            population = populations.get(str(stratum))
            per_stratum.append({
                "stratum": str(stratum),
                "invited": len(group),
                "population": None if population is None else int(population),
                "respondents": int(respondents.get(str(stratum), 0)),
                **rates_from_dispositions(group[SAMPLE_DISPOSITION].astype(str)).as_dict(),
            })
    counts = dispositions.value_counts()
    population_total = design.population_total
    return {
        "invited": len(sample),
        "population": None if population_total is None else int(population_total),
        "overall": rates_from_dispositions(dispositions).as_dict(),
        "per_stratum": per_stratum,
        "dispositions": [{"disposition": str(name), "count": int(count)}
                         for name, count in counts.items()],
        "partials": int((dispositions == "partial").sum()),
    }


def _respondents_per_stratum(responses: pd.DataFrame, strata: str) -> pd.Series:
    if strata not in responses.columns:
        return pd.Series(dtype=int)
    return responses[strata].astype(str).value_counts()


def plan_vs_achieved(
    responses: pd.DataFrame, design: DesignSpec, spec: ReportSpec
) -> list[dict[str, Any]]:
    """Respondents the plan aimed at in each stratum against those who answered."""
    respondents = _respondents_per_stratum(responses, design.strata or "stratum")
    rows = []
    for stratum, planned in spec.planned:
        achieved = int(respondents.get(stratum, 0))
        rows.append({"stratum": stratum, "planned": planned, "achieved": achieved,
                     "difference": None if planned is None else achieved - planned})
    return rows


def representativeness(sample: pd.DataFrame, design: DesignSpec) -> dict[str, Any] | None:
    """Response rates by level of every frame variable of the sample file and the R-indicator
    (`analysis.representativeness`), design-weighted when the design gives each stratum's
    population. None without a frame variable, or with fewer than two sampled customers."""
    from analysis.representativeness import RESPONDED, r_indicator
    from analysis.representativeness import response_rates as level_rates

    reserved = {design.strata, SAMPLE_RESPONDED, SAMPLE_DISPOSITION}
    variables = [c for c in sample.columns if c not in reserved]
    if len(sample) < 2 or not variables or RESPONDED not in sample.columns:
        return None
    population = design.stratum_populations or None
    strata = design.strata if population else None
    try:
        rates = level_rates(sample, variables, strata=strata, population=population,
                            confidence=design.confidence)
        indicator = r_indicator(sample, variables, strata=strata, population=population,
                                confidence=design.confidence)
    except AnalysisInputError as error:
        return {"error": str(error)}
    return {
        "variables": variables,
        "response_rates": [rate.to_dict() for rate in rates],
        "r_indicator": indicator.to_dict(),
    }


def distributions(responses: pd.DataFrame, spec: ReportSpec) -> list[dict[str, Any]]:
    """Each scale item: the weighted share of each point among those who answered it."""
    weights = (responses[WEIGHT].to_numpy(dtype=float) if WEIGHT in responses.columns
               else np.ones(len(responses)))
    rows = []
    for code, low, high in spec.distributions:
        if code not in responses.columns:
            raise AnalysisInputError(f"'report.distributions' names {code!r}, not a column")
        values = pd.to_numeric(responses[code], errors="coerce").to_numpy(dtype=float)
        answered = ~np.isnan(values)
        total = weights[answered].sum()
        shares = {
            str(point): float(weights[answered & (values == point)].sum() / total)
            if total else 0.0
            for point in range(low, high + 1)
        }
        rows.append({"item": code, "n": int(answered.sum()), "shares": shares})
    return rows


def drivers(responses: pd.DataFrame, spec: ReportSpec) -> Any:
    """The importance–performance grid (`analysis.drivers.key_drivers`, final weights) of the
    candidate items at least 3 respondents answered; ``{"error": ...}`` when it cannot be made,
    None without an overall item."""
    from analysis.drivers import key_drivers

    if spec.drivers is None:
        return None
    overall, candidates = spec.drivers
    items = [(code, values) for code, values in candidates
             if code in responses.columns and responses[code].notna().sum() >= 3]
    try:
        return key_drivers(responses, [code for code, _ in items], overall,
                           {code: list(values) for code, values in items},
                           weights=WEIGHT if WEIGHT in responses.columns else None)
    except AnalysisInputError as error:
        return {"error": str(error)}


def drivers_dict(grid: Any) -> dict[str, Any] | None:
    if grid is None or isinstance(grid, Mapping):
        return None if grid is None else dict(grid)
    return {
        "overall": grid.overall,
        "importance_median": grid.importance_median,
        "performance_median": grid.performance_median,
        "drivers": [dict(vars(driver)) for driver in grid.drivers],
    }


def reliability(responses: pd.DataFrame, spec: ReportSpec, confidence: float) -> Any:
    """Cronbach's alpha with Feldt's interval on the items of ``spec.reliability``;
    ``{"error": ...}`` when it cannot be computed, None without an index."""
    from analysis.reliability import cronbach_alpha

    if spec.reliability is None:
        return None
    items, _ = spec.reliability
    try:
        return cronbach_alpha(responses, list(items), confidence=confidence)
    except AnalysisInputError as error:
        return {"error": str(error)}


def reliability_dict(alpha: Any) -> dict[str, Any] | None:
    if alpha is None or isinstance(alpha, Mapping):
        return None if alpha is None else dict(alpha)
    return {
        "alpha": alpha.alpha, "ci_low": alpha.ci_low, "ci_high": alpha.ci_high,
        "confidence": alpha.confidence, "n": alpha.n, "k": alpha.k, "items": list(alpha.items),
        "alpha_if_deleted": dict(alpha.alpha_if_deleted),
    }


def plan_follow_up(
    overall: Mapping[str, Mapping[str, Any]], design: DesignSpec, spec: ReportSpec
) -> dict[str, Any] | None:
    """`follow_up` of the actions of ``spec.improvement`` against the previous campaign's
    whole-sample estimates in ``spec.previous``; None without a plan to follow."""
    plan = spec.improvement
    if plan is None:
        return None
    previous = plan.get("previous") or {}
    past = next((p for p in spec.previous if p.slug == previous.get("slug")
                 and p.year == previous.get("year")), None)
    return follow_up(
        plan.get("previous"), plan.get("actions") or (), overall,
        None if past is None else past.estimates,
        items={indicator.name: indicator.item for indicator in design.indicators},
        broken_items=set(plan.get("trend_broken") or ()), confidence=design.confidence,
    )  # fmt: skip


def follow_up(
    previous: Mapping[str, Any] | None,
    actions: Sequence[Mapping[str, Any]],
    overall: Mapping[str, Mapping[str, Any]],
    previous_estimates: Sequence[Mapping[str, Any]] | None,
    *,
    items: Mapping[str, str | None],
    broken_items: set[str],
    confidence: float,
) -> dict[str, Any]:
    """Each action decided from the previous campaign with its indicator compared between the
    two campaigns, by the report's year-on-year test.

    Parameters
    ----------
    previous : mapping or None
        The previous campaign's ``slug`` and ``year``.
    actions : sequence of mapping
        The actions decided from it (``id``, ``title``, ``status``, ``indicator``,
        ``target``...); every field is kept in its row.
    overall : mapping
        This campaign's whole-sample estimates by indicator (JSON form).
    previous_estimates : sequence of mapping or None
        The previous campaign's estimates (None when it cannot be analysed).
    items : mapping
        The questionnaire item of each indicator (None for the index).
    broken_items : set of str
        The items whose question changed since: their indicators are not tested.
    confidence : float
        Level of the intervals; Holm's family-wise rate is ``1 - confidence``.

    Returns
    -------
    dict
        ``previous``; ``rows``, one per action: its fields, ``previous_estimate`` and
        ``current_estimate`` (`FOLLOW_UP_FIELDS`), ``comparison`` (difference, se, df,
        interval, p, Holm p, significant: independent samples, Welch–Satterthwaite t,
        `analysis.comparison.compare_to_previous`), ``trend_broken`` and ``reached`` (this
        year's estimate at or above the target); ``counts`` per status; ``family``, the
        indicators tested, one Holm family (an indicator aimed at by two actions is tested
        once).
    """
    from analysis.comparison import compare_to_previous

    before = {e["indicator"]: e for e in previous_estimates or () if e["domain"] is None}
    family: list[str] = []
    for action in actions:
        name = action.get("indicator")
        if name and name in overall and name in before and name not in family \
                and items.get(name) not in broken_items:
            family.append(name)
    compared = compare_to_previous([overall[name] for name in family],
                                   [before[name] for name in family],
                                   confidence=confidence, alpha=1 - confidence)
    tests = {row.indicator: row for row in compared}
    rows = []
    for action in actions:
        name = action.get("indicator")
        current = overall.get(name) if name else None
        test = tests.get(name) if name else None
        comparison = None
        if test is not None:
            comparison = {
                "previous": test.previous, "current": test.current,
                "difference": test.difference.estimate, "se": test.difference.se,
                "df": test.difference.df, "ci_low": test.difference.ci_low,
                "ci_high": test.difference.ci_high, "p_value": test.difference.p_value,
                "p_adjusted": test.p_adjusted, "significant": test.significant,
            }  # fmt: skip
        reached = None
        if current is not None and current.get("estimate") is not None \
                and action.get("target") is not None:
            reached = bool(current["estimate"] >= action["target"] - 1e-12)
        rows.append({
            **action,
            "previous_estimate": None if name not in before
            else {key: before[name].get(key) for key in FOLLOW_UP_FIELDS},
            "current_estimate": None if current is None
            else {key: current.get(key) for key in FOLLOW_UP_FIELDS},
            "comparison": comparison,
            "trend_broken": bool(name) and items.get(name) in broken_items,
            "reached": reached,
        })
    counts = {status: sum(1 for row in rows if row.get("status") == status)
              for status in ACTION_STATUSES}
    return {"previous": None if previous is None else dict(previous), "rows": rows,
            "counts": counts, "family": family}


# --------------------------------------------------------------------------------------------
# Comparing two sets of figures

#: "The same number" between the report and a re-run on the export read back from CSV (floats
#: written at full precision): they agree to rounding in the last digits.
RELATIVE = 1e-9
ABSOLUTE = 1e-12


def figure_differences(stated: Any, reproduced: Any, where: str = "") -> list[str]:
    """Each place where two figure documents differ: a key missing from either side, a
    different text, count or flag, or a number beyond `RELATIVE` (after `json_safe`, so NaN
    and None are the same). Empty when they agree."""
    if isinstance(stated, Mapping) and isinstance(reproduced, Mapping):
        differences = []
        for key in sorted(set(stated) | set(reproduced), key=str):
            path = f"{where}.{key}" if where else str(key)
            if key not in reproduced:
                differences.append(f"{path}: stated by the report, not given by analyze")
            elif key not in stated:
                differences.append(f"{path}: given by analyze, not stated by the report")
            else:
                differences += figure_differences(stated[key], reproduced[key], path)
        return differences
    if isinstance(stated, list | tuple) and isinstance(reproduced, list | tuple):
        if len(stated) != len(reproduced):
            return [f"{where}: {len(stated)} entries in the report, {len(reproduced)} from "
                    "analyze"]
        differences = []
        for position, (a, b) in enumerate(zip(stated, reproduced, strict=True)):
            differences += figure_differences(a, b, f"{where}[{position}]")
        return differences
    if _is_number(stated) and _is_number(reproduced):
        a, b = float(stated), float(reproduced)
        if math.isnan(a) and math.isnan(b):
            return []
        if math.isclose(a, b, rel_tol=RELATIVE, abs_tol=ABSOLUTE):
            return []
    elif stated == reproduced:
        return []
    return [f"{where}: {stated!r} in the report, {reproduced!r} from analyze"]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool)


def json_safe(value: Any) -> Any:
    """Plain JSON: NaN and infinities as null, numpy scalars as numbers, tuples as lists."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value




# --------------------------------------------------------------------------------------------
# Readable text


def _number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and 0 < abs(value) < 10 ** -digits:
        return f"{value:.2e}"
    return f"{value:.{digits}f}"


def _domain(domain: Mapping[str, Any] | None) -> str:
    return "whole sample" if not domain else ", ".join(f"{k} = {v}" for k, v in domain.items())


def estimates_text(estimates: Sequence[Mapping[str, Any]]) -> str:
    """The estimates as an aligned table: indicator, domain, n, estimate, se, interval."""
    lines = [f"{'indicator':<24} {'domain':<28} {'n':>6} {'estimate':>10} {'se':>10} "
             f"{'interval':>23}"]
    for e in estimates:
        shown = "withheld" if e.get("withheld") else _number(e.get("estimate"))
        lines.append(
            f"{e['indicator']:<24} {_domain(e.get('domain')):<28} {e.get('n', ''):>6} "
            f"{shown:>10} {_number(e.get('se')):>10} "
            f"{'[' + _number(e.get('ci_low')) + ' ; ' + _number(e.get('ci_high')) + ']':>23}"
        )
    return "\n".join(lines) + "\n"


def figures_text(figures: Mapping[str, Any]) -> str:
    """`ReportFigures.to_dict` (as ``analyze --report`` prints it) as readable text, one
    section per part of the report, every number at four decimals."""
    out: list[str] = []

    def title(text: str) -> None:
        out.extend(["", text, "-" * len(text)])

    out.append(f"Respondents: {figures['respondents']}; confidence {figures['confidence']}")
    if figures.get("data_sha256"):
        out.append(f"Data SHA-256: {figures['data_sha256']}")
    title("Estimates")
    out.append(estimates_text(figures["estimates"]).rstrip("\n"))
    m = figures["margin"]
    out.append(f"Margin achieved {_number(m['achieved'])}, target {_number(m['target'])}, "
               f"met: {_number(m['met'])}")
    title("Unweighted headline")
    for name, e in figures["unweighted"].items():
        out.append(f"{name}: {_number(e['estimate'])} [{_number(e['ci_low'])} ; "
                   f"{_number(e['ci_high'])}] n = {e['n']}")
    yoy = figures.get("year_on_year")
    title("Year on year" + (f" (against {yoy['year']}, {yoy['slug']})" if yoy else ""))
    if yoy:
        for name, row in yoy["rows"].items():
            out.append(
                f"{name}: {_number(row['previous'])} → {_number(row['current'])}, difference "
                f"{_number(row['difference'])} [{_number(row['ci_low'])} ; "
                f"{_number(row['ci_high'])}], df {_number(row['df'], 1)}, "
                f"p {_number(row['p_value'])}, Holm p {_number(row['p_adjusted'])}, "
                f"significant: {_number(row['significant'])}"
            )
    else:
        out.append("no earlier campaign")
    title("Trend")
    for point in figures["trend"]:
        values = ", ".join(f"{name} {_number(e.get('estimate'))}"
                           for name, e in point["estimates"].items())
        out.append(f"{point['year']}: {values}")
    title("Domains against the rest (Holm over each variable's levels)")
    for c in figures["domain_contrasts"]:
        out.append(f"{c['variable']} = {c['level']}, {c['indicator']}: difference "
                   f"{_number(c['difference'])} [{_number(c['ci_low'])} ; {_number(c['ci_high'])}]"
                   f", Holm p {_number(c['p_adjusted'])}, significant: {_number(c['significant'])}")
    rates = figures.get("response_rates")
    title("Response rates (AAPOR)")
    if rates:
        o = rates["overall"]
        out.append(f"invited {rates['invited']}, population {_number(rates['population'])}, "
                   f"partials {rates['partials']}")
        out.append("overall: " + ", ".join(f"{k.upper()} {_number(o[k])}" for k in
                                           ("rr1", "rr2", "coop1", "ref1", "con1")))
        for row in rates["per_stratum"]:
            out.append(f"stratum {row['stratum']}: invited {row['invited']}, respondents "
                       f"{row['respondents']}, " + ", ".join(
                           f"{k.upper()} {_number(row[k])}"
                           for k in ("rr1", "rr2", "coop1", "ref1", "con1")))
        out.append("dispositions: " + ", ".join(f"{d['disposition']} {d['count']}"
                                                for d in rates["dispositions"]))
    else:
        out.append("no sample file with dispositions")
    if figures["plan_vs_achieved"]:
        title("Planned against achieved respondents")
        for row in figures["plan_vs_achieved"]:
            out.append(f"stratum {row['stratum']}: planned {_number(row['planned'])}, achieved "
                       f"{row['achieved']}, gap {_number(row['difference'])}")
    rep = figures.get("representativeness")
    title("Representativeness")
    if rep and "r_indicator" in rep:
        r = rep["r_indicator"]
        out.append(f"R-indicator {_number(r['r'])} [{_number(r['ci_low'])} ; "
                   f"{_number(r['ci_high'])}], CV {_number(r['cv'])}")
        for rate in rep["response_rates"]:
            out.append(f"{rate['variable'] or 'all'} {rate['level']}: {_number(rate['rate'])} "
                       f"[{_number(rate['ci_low'])} ; {_number(rate['ci_high'])}]")
    else:
        out.append((rep or {}).get("error", "no sample file"))
    title("Distributions (weighted shares of those who answered)")
    for row in figures["distributions"]:
        out.append(f"{row['item']} (n = {row['n']}): " + ", ".join(
            f"{point}: {_number(share)}" for point, share in row["shares"].items()))
    title("Key drivers")
    grid = figures.get("drivers")
    if grid and "drivers" in grid:
        out.append(f"medians: importance {_number(grid['importance_median'])}, performance "
                   f"{_number(grid['performance_median'])}")
        for d in grid["drivers"]:
            out.append(f"{d['item']}: importance {_number(d['importance'])}, performance "
                       f"{_number(d['performance'])}, {d['quadrant']}")
    else:
        out.append((grid or {}).get("error", "none"))
    title("Cronbach's alpha")
    alpha = figures.get("reliability")
    if alpha and "alpha" in alpha:
        out.append(f"alpha {_number(alpha['alpha'])} [{_number(alpha['ci_low'])} ; "
                   f"{_number(alpha['ci_high'])}], n {alpha['n']}, k {alpha['k']}")
        for item, value in alpha["alpha_if_deleted"].items():
            out.append(f"without {item}: {_number(value)}")
    else:
        out.append((alpha or {}).get("error", "none"))
    plan = figures.get("improvement")
    if plan:
        previous = plan.get("previous") or {}
        title(f"Improvement plan decided from {previous.get('year')} (Holm over "
              f"{len(plan['family'])} indicators)")
        for row in plan["rows"]:
            line = f"{row['title']} ({row['status']}): "
            test, before, now = row["comparison"], row["previous_estimate"], row["current_estimate"]
            if row["trend_broken"]:
                line += f"{row['indicator']}: question changed, not compared"
            elif test:
                line += (f"{row['indicator']} {_number(before['estimate'])} "
                         f"[{_number(before['ci_low'])} ; {_number(before['ci_high'])}] → "
                         f"{_number(now['estimate'])} [{_number(now['ci_low'])} ; "
                         f"{_number(now['ci_high'])}], difference {_number(test['difference'])} "
                         f"[{_number(test['ci_low'])} ; {_number(test['ci_high'])}], "
                         f"Holm p {_number(test['p_adjusted'])}")
            else:
                line += row.get("indicator") or "no indicator"
            if row.get("target") is not None:
                line += f", target {_number(row['target'])} met: {_number(row['reached'])}"
            out.append(line)
    return "\n".join(out).lstrip("\n") + "\n"
