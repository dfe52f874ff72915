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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from analysis import parse_design
from analysis.estimation import SMALL_BASE, WITHHELD_BELOW
from analysis.report import (
    ACTION_STATUSES,
    FIGURE_FIELDS,
    PastEstimates,
    ReportFigures,
    ReportSpec,
    json_safe,
    report_figures,
)
from analysis.report import drivers as report_drivers
from questionnaires.questions import NpsQuestion, RatingQuestion
from survey.reporting.dataset import WEIGHT, RespondentsDataset, neutralise
from survey.weighting.sample import RESPONDED, sample_file_frame

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
    # The programme's survey method (`survey.programmes.operations.METHOD_FIELDS`): who
    # commissioned and conducted it, objectives... A field left out takes the report's default.
    method: Mapping[str, str] = field(default_factory=dict)
    # Whose customers were surveyed, on the cover (None: nobody's name, as before clients):
    # the client's name and its logo as a data: URI, so the report file stands alone.
    client_name: str | None = None
    client_logo: str | None = None


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


def report_spec(inputs: ReportInputs) -> ReportSpec:
    """What the report computes beyond the design, from the campaign's facts, questionnaire,
    history and improvement plan (`analysis.report.ReportSpec`): the export writes it in the
    design file's ``report`` key, so that ``barometre analyze --report`` computes every figure
    again."""
    from survey.improvement.follow_up import plan_spec

    dataset = inputs.dataset
    questionnaire = dataset.questionnaire
    headline = headline_indicators(dataset.design)
    plan = inputs.campaign.plan or {}
    target = plan.get("margin")
    drivers = drivers_spec(questionnaire)
    index = next((i for i in dataset.design["indicators"] if i["kind"] == "index"), None)
    reliability = None
    if index is not None:
        # Items shown only to some customers (a phone waiting time, a complaint) would leave
        # only the few who saw them all in listwise complete cases: left out, and named.
        kept = tuple(code for code in index["items"]
                     if questionnaire.question(code).show_if is None)
        reliability = (kept, tuple(code for code in index["items"] if code not in kept))
    previous = tuple(
        PastEstimates(
            year=past.year, slug=past.slug,
            estimates=tuple({key: e.get(key) for key in (*FIGURE_FIELDS, "df")}
                            for e in past.estimates if e["domain"] is None),
        )
        for past in sorted(inputs.history, key=lambda past: past.year)
        if past.year < inputs.campaign.year
    )  # fmt: skip
    return ReportSpec(
        year=inputs.campaign.year,
        headline=tuple((role, name) for role, name in zip(
            ("satisfied", "mean", "nps", "index"),
            (headline.satisfied, headline.mean, headline.nps, headline.index), strict=True)
            if name),
        withheld_below=WITHHELD_BELOW,
        margin_target=None if target is None else float(target),
        planned=tuple((str(stratum["stratum"]), stratum.get("respondents"))
                      for stratum in plan.get("strata") or ()),
        drivers=drivers,
        reliability=reliability,
        distributions=tuple(
            (question.code, *question.scale())
            for _, question in questionnaire.questions()
            if isinstance(question, RatingQuestion | NpsQuestion)
        ),
        previous=previous,
        improvement=plan_spec(inputs.improvement, inputs.campaign.trend_breaks),
    )


def drivers_spec(questionnaire: Any) -> tuple[str, tuple[tuple[str, tuple[Any, ...]], ...]] | None:
    """The overall item and the rated items with their satisfied answers (the drivers grid's
    candidates), None without an overall item."""
    overall_question = questionnaire.overall_question()
    if overall_question is None:
        return None
    return (overall_question.code, tuple(
        (question.code, tuple(question.satisfied))
        for _, question in questionnaire.questions()
        if isinstance(question, RatingQuestion)
        and question.code != overall_question.code and question.satisfied
    ))


def report_design(inputs: ReportInputs) -> dict[str, Any]:
    """The design file the export writes: the dataset's design with its ``report`` key."""
    return {**inputs.dataset.design, "report": json_safe(report_spec(inputs).to_mapping())}


def report_sample(invitations: pd.DataFrame) -> pd.DataFrame | None:
    """The sample file's table (`sample_file_frame`) of the campaign's invitations, as the
    export writes it; None without invitations."""
    if not len(invitations) or "disposition" not in invitations.columns:
        return None
    if RESPONDED not in invitations.columns:
        invitations = invitations.assign(
            **{RESPONDED: (invitations["disposition"] == "complete").astype(int)})
    sample = sample_file_frame(invitations)
    # As the CSV holds them (`csv_bytes`), so that a stratum named "=x" is the same here and
    # in the file `analyze` reads.
    for column in sample.columns:
        if sample[column].dtype == object:
            sample[column] = sample[column].map(neutralise)
    return sample


def campaign_figures(inputs: ReportInputs, *, representativeness: bool = True) -> ReportFigures:
    """`analysis.report.report_figures` on the campaign's data: the very function
    ``barometre analyze --report`` runs on the export."""
    sample = report_sample(inputs.invitations)
    if sample is not None and not representativeness:
        sample = sample[[c for c in sample.columns
                         if c in ("stratum", RESPONDED, "disposition")]]
    return report_figures(inputs.dataset.frame, parse_design(inputs.dataset.design),
                          report_spec(inputs), sample)


def compute_report(inputs: ReportInputs) -> dict[str, Any]:
    """Every number of the report, as plain data (dicts, lists, floats) ready to render.

    The numbers come from `campaign_figures` (the engine's `report_figures`); this arranges
    them for the template, and embeds them whole, at full precision, in ``figures`` (the
    report's ``report-figures`` block, which `barometre audit verify-pack` and the tests
    compare with ``barometre analyze --report`` on the export)."""
    dataset = inputs.dataset
    frame = dataset.frame
    figures = campaign_figures(inputs)
    estimates = [dict(e) for e in figures.all_estimates]
    overall = {e["indicator"]: e for e in estimates if e["domain"] is None}
    headline = headline_indicators(dataset.design)
    confidence = figures.confidence

    return {
        "campaign": inputs.campaign,
        "confidence": confidence,
        "n_respondents": len(frame),
        "headline": headline,
        "overall": overall,
        "estimates": estimates,
        "figures": stated_figures(figures, inputs.data_sha256,
                                  inputs.campaign.questionnaire_sha256),
        "margin": dict(figures.margin),
        "year_on_year": figures.year_on_year,
        "method": _method(inputs, figures),
        "weighting": _weighting(inputs, figures, overall, headline),
        "representativeness": _representativeness(figures, parse_design(dataset.design)),
        "questions": _questions(dataset, overall, figures),
        "domains": _domains(estimates, figures, headline),
        "trend": _trend(inputs, figures),
        "comparability": comparability(inputs),
        "drivers": _drivers(dataset, figures),
        "reliability": _reliability(inputs, figures),
        "follow_ups": _follow_ups(inputs.follow_ups, inputs.generated_at),
        "criteria": criteria_beside_satisfaction(inputs.criteria, overall),
        "improvement": improvement_follow_up(inputs, figures),
        "verbatims": _verbatims(dataset, inputs.verbatim_seed),
        "annex": {
            "data_sha256": inputs.data_sha256,
            "software_version": inputs.software_version,
            "export_name": inputs.export_name,
            "design_name": _design_name(inputs.export_name),
            "sample_name": _design_name(inputs.export_name).replace(".design.json", ".sample.csv"),
            "design": report_design(inputs),
            "questionnaire": dataset.questionnaire,
            "audit_head": inputs.audit_head,
        },
        "generated_at": inputs.generated_at,
        "small_base": SMALL_BASE,
    }


def stated_figures(
    figures: ReportFigures, data_sha256: str, questionnaire_sha256: str | None = None
) -> dict[str, Any]:
    """The numbers the report states, at full precision, as JSON: every part of
    `ReportFigures.to_dict` (the document ``barometre analyze --report`` prints on the export),
    with the hashes of the data it was computed from and of the questionnaire version. A
    domain under `WITHHELD_BELOW` respondents keeps its count only, as the report withholds
    it."""
    return json_safe({"data_sha256": data_sha256, "questionnaire_sha256": questionnaire_sha256,
                      **figures.to_dict()})


def public_figures(inputs: ReportInputs) -> dict[str, Any]:
    """The part of the report a programme publishes (`survey.publication.results`): the same
    functions and thresholds as `compute_report`, without what the public page leaves out
    (verbatims, drivers, representativeness, follow-ups), so that its numbers are the report's.
    """
    dataset = inputs.dataset
    figures = campaign_figures(inputs, representativeness=False)
    estimates = [dict(e) for e in figures.all_estimates]
    overall = {e["indicator"]: e for e in estimates if e["domain"] is None}
    headline = headline_indicators(dataset.design)
    method = _method(inputs, figures)
    return {
        "confidence": figures.confidence,
        "n_respondents": len(dataset.frame),
        "headline": headline,
        "overall": overall,
        "year_on_year": figures.year_on_year,
        "domains": _domains(estimates, figures, headline),
        "trend": _trend(inputs, figures),
        "questions": _questions(dataset, overall, figures),
        "method": {key: method[key] for key in ("population", "invited", "rates", "calibration",
                                                "stratified", "proportion_ci")},
        "small_base": SMALL_BASE,
        "withheld_below": WITHHELD_BELOW,
    }


def _design_name(export_name: str) -> str:
    stem = export_name.rsplit(".", 1)[0] if "." in export_name else export_name
    return f"{stem}.design.json"


def _method(inputs: ReportInputs, figures: ReportFigures) -> dict[str, Any]:
    rates = figures.response_rates or {}
    respondents = inputs.dataset.frame["stratum"].value_counts()
    design = inputs.dataset.design
    return {
        "channels": [name for name in ("email", "sms") if name in inputs.campaign.channels],
        # Started but not finished: a P in AAPOR's RR2, but no answer of theirs is estimated.
        "partials": rates.get("partials", 0),
        "plan_vs_achieved": [dict(row) for row in figures.plan_vs_achieved],
        "population": sum(inputs.campaign.frame_counts.values())
        if inputs.campaign.frame_counts
        else None,
        "invited": len(inputs.invitations),
        "rates": rates.get("overall"),
        "per_stratum": [dict(row) for row in rates.get("per_stratum", ())],
        "dispositions": [dict(row) for row in rates.get("dispositions", ())],
        "weighting": figures.weighting.get("final"),
        "calibration": design.get("calibration"),
        "stratified": "population" in design,
        "proportion_ci": design.get("proportion_ci", "logit"),
        "strata_without_respondents": sorted(
            str(s) for s in inputs.campaign.frame_counts if str(s) not in respondents.index
        ),
    }


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
    figures: ReportFigures,
    overall: Mapping[str, Any],
    headline: Headline,
) -> dict[str, Any]:
    """What weighting does: the headline estimates weighted and unweighted side by side, the
    weights per stratum, trimming candidates and the calibration's convergence."""
    names = [name for name in headline.names() if name in overall]
    chosen = inputs.campaign.plan.get("calibration") if inputs.campaign.plan else None
    return {
        "summary": figures.weighting,
        "headline": [
            {"indicator": name, "weighted": overall[name],
             "unweighted": figures.unweighted.get(name)}
            for name in names
        ],
        "chosen": chosen if isinstance(chosen, Mapping) else None,
        "note": inputs.dataset.calibration_note,
    }


def _representativeness(figures: ReportFigures, spec: Any) -> dict[str, Any] | None:
    """Response rates by frame variable and the R-indicator over every sampled customer, with
    a plain reading: which levels answered less than the whole sample (their interval below
    its rate) and whether the calibration weights on their variable."""
    found = figures.representativeness
    if found is None or "error" in found:
        return None if found is None else dict(found)
    rates = found["response_rates"]
    indicator = found["r_indicator"]
    calibrated = set(spec.calibration.variables) if spec.calibration is not None else set()
    overall = rates[0]
    readings = []
    for rate in rates[1:]:
        if (rate["ci_high"] is not None and overall["rate"] is not None
                and rate["ci_high"] < overall["rate"]):
            direction = "under"
        elif (rate["ci_low"] is not None and overall["rate"] is not None
              and rate["ci_low"] > overall["rate"]):
            direction = "over"
        else:
            continue
        readings.append(
            {
                "variable": rate["variable"],
                "level": rate["level"],
                "direction": direction,
                "rate": rate["rate"],
                "overall": overall["rate"],
                "corrected": rate["variable"] in calibrated,
            }
        )
    readings.sort(key=lambda r: -abs((r["rate"] or 0) - (r["overall"] or 0)))
    partial_levels = {
        (partial["variable"], level["level"]): {
            "partial_unconditional": level["unconditional"],
            "partial_conditional": level["conditional"],
        }
        for partial in indicator["partial"]
        for level in partial["levels"]
    }
    return {
        "variables": found["variables"],
        "overall": overall,
        "rates": [
            {**rate, **partial_levels.get((rate["variable"], rate["level"]), {})}
            for rate in rates[1:]
        ],
        "partial": {p["variable"]: p for p in indicator["partial"]},
        "r_indicator": indicator,
        "readings": readings,
        "calibrated": sorted(calibrated),
    }


def _questions(
    dataset: RespondentsDataset, overall: Mapping[str, Any], figures: ReportFigures
) -> list[dict[str, Any]]:
    """Per scale question: weighted distribution, "not applicable" apart, mean and satisfied."""
    frame = dataset.frame
    weights = frame[WEIGHT].to_numpy(dtype=float)
    shares_of = {row["item"]: row for row in figures.distributions}
    questions = []
    for _, question in dataset.questionnaire.questions():
        if not isinstance(question, RatingQuestion | NpsQuestion):
            continue
        values = frame[question.code].to_numpy(dtype=float)
        answered = ~np.isnan(values)
        distribution = shares_of[question.code]
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
                "shares": {int(point): share for point, share in distribution["shares"].items()},
                "n": distribution["n"],
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
    estimates: Sequence[Mapping[str, Any]], figures: ReportFigures, headline: Headline
) -> list[dict[str, Any]]:
    """Each domain variable: headline estimates per level, and each level against the rest
    (the contrasts of `analysis.report.domain_contrasts`)."""
    variables = list(dict.fromkeys(
        name for e in estimates if e["domain"] for name in e["domain"]))
    domains = []
    for variable in variables:
        levels: dict[str, dict[str, Any]] = {}
        for estimate in estimates:
            if estimate["domain"] and variable in estimate["domain"]:
                level = str(estimate["domain"][variable])
                levels.setdefault(level, {})[estimate["indicator"]] = dict(estimate)
        contrasts: dict[str, dict[str, Any]] = {}
        for test in figures.domain_contrasts:
            if test["variable"] == variable:
                contrasts.setdefault(test["level"], {})[test["indicator"]] = {
                    "difference": test["difference"],
                    "p_adjusted": test["p_adjusted"],
                    "significant": test["significant"],
                }
        for by_indicator in levels.values():
            for estimate in by_indicator.values():
                if estimate["n"] < WITHHELD_BELOW:
                    # Too few respondents to publish (issue #3): no numbers, no contrast.
                    estimate.update(
                        estimate=None, se=None, ci_low=None, ci_high=None, withheld=True
                    )
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


def _trend(inputs: ReportInputs, figures: ReportFigures) -> list[dict[str, Any]]:
    points = [dict(point) for point in figures.trend]
    points[-1]["slug"] = inputs.campaign.slug
    return points


def drivers_of(dataset: RespondentsDataset) -> dict[str, Any] | None:
    """The importance–performance grid of the report (`grid`, and the rated `questions` by
    code), `{"error": ...}` when it cannot be computed, None without an overall item: the
    engine's `analysis.report.drivers` on the report's candidate items."""
    grid = report_drivers(dataset.frame, ReportSpec(drivers=drivers_spec(dataset.questionnaire)))
    return _drivers_view(dataset, grid)


def _drivers(dataset: RespondentsDataset, figures: ReportFigures) -> dict[str, Any] | None:
    return _drivers_view(dataset, figures.drivers)


def _drivers_view(dataset: RespondentsDataset, grid: Any) -> dict[str, Any] | None:
    if grid is None or isinstance(grid, Mapping):
        return None if grid is None else dict(grid)
    questionnaire = dataset.questionnaire
    return {"grid": grid,
            "questions": {d.item: questionnaire.question(d.item) for d in grid.drivers}}


def _reliability(inputs: ReportInputs, figures: ReportFigures) -> dict[str, Any] | None:
    """Alpha of the index's items that every respondent is asked (no display condition)."""
    spec = report_spec(inputs).reliability
    if spec is None:
        return None
    items, left_out = spec
    alpha = figures.reliability
    if isinstance(alpha, Mapping):
        return {"error": alpha.get("error"), "items": list(items), "left_out": list(left_out)}
    return {"alpha": alpha, "items": list(items), "left_out": list(left_out)}


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


def improvement_follow_up(inputs: ReportInputs, figures: ReportFigures) -> dict[str, Any] | None:
    """Last year's improvement actions, each with its targeted indicator compared between the
    two campaigns by the year-on-year test: the figures' ``improvement`` (the engine's
    `analysis.report.follow_up`, which ``analyze --report`` runs on the export), with the
    dates read back and this year's own actions (`decided`) beside them."""
    plan = inputs.improvement
    if not plan or not (plan.get("followed") or plan.get("decided")):
        return None
    followed = figures.improvement or {
        "previous": plan.get("previous"), "rows": [], "family": [],
        "counts": dict.fromkeys(ACTION_STATUSES, 0)}
    rows = [{**row, **{key: date.fromisoformat(row[key]) if isinstance(row.get(key), str)
                       else row.get(key) for key in ("due_on", "done_on")}}
            for row in followed["rows"]]
    return {**followed, "rows": rows, "decided": list(plan.get("decided") or ())}


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
