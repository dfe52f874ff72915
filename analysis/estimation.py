"""Design-based estimates of the satisfaction indicators, with Taylor-linearised variances.

Every indicator is a ratio estimator ``ybar = sum(w y) / sum(w)`` over the respondents who
answered (Horvitz-Thompson ratio, Särndal, Swensson & Wretman 1992, §5.6). Its linearised
variable is ``z_i = w_i (y_i - ybar) / sum(w)`` inside the domain and 0 elsewhere; the
variance is the stratified variance of ``z`` after the calibration projection
(:mod:`analysis.calibration`). Confidence intervals use Student's t with
``df = respondents who answered - strata among them``. This reproduces R's ``survey``
package (Lumley 2004, 2010); ``reference/README.md`` lists what R does exactly.

Indicators (``y`` for one respondent):

- ``mean``: the answer;
- ``proportion``: 1 when the answer is one of ``values``, 0 otherwise;
- ``nps``: +100 for 9–10, 0 for 7–8, −100 for 0–6 (Reichheld 2003), so the mean is the NPS;
- ``index``: ``100 * sum_k a_k (x_k - min) / (max - min) / sum_k a_k`` over the items the
  respondent answered (left out when none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from analysis.design import AnalysisInputError, DesignSpec, IndicatorSpec
from analysis.diagnostics import WeightDiagnostics, weight_diagnostics, weighting_summary
from analysis.grouping import group_counts, group_sums
from analysis.responses import JsonScalar, describe_row, numeric_answers
from analysis.sample import SampleDesign, prepare_sample

SMALL_BASE = 30
"""Below this many respondents an estimate is flagged ``small_base`` (the report warns)."""
WITHHELD_BELOW = 10
"""Reports withhold estimates on fewer respondents; `analyze` still prints them, flagged."""


@dataclass(frozen=True)
class SatisfactionEstimate:
    """One indicator in one domain (``domain`` is ``None`` for the whole sample).

    ``deff`` is the design effect: the variance over that of a simple random sample of the
    same ``n`` (Kish 1965), with a finite-population correction when the design has one.
    ``small_base`` is true below 30 respondents; ``note`` says anything unusual (an
    interval method replaced, an estimate that cannot be computed).
    """

    indicator: str
    domain: dict[str, JsonScalar] | None
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    df: int
    n: int
    deff: float | None = None
    small_base: bool = False
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The estimate in the contract's JSON shape (plus ``deff``, ``small_base``, ``note``)."""
        return {
            "indicator": self.indicator,
            "domain": dict(self.domain) if self.domain is not None else None,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "df": self.df,
            "n": self.n,
            "deff": self.deff,
            "small_base": self.small_base,
            "note": self.note,
        }


@dataclass(frozen=True)
class AnalysisResult:
    """All the estimates of a design, in order: whole sample, then each ``by`` level."""

    estimates: tuple[SatisfactionEstimate, ...]
    weighting: WeightDiagnostics
    # `analysis.diagnostics.weighting_summary`: weights per stratum, calibration, trimming.
    weighting_details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"estimates": [...], "weighting": {...}}`` (see :func:`weighting_summary`)."""
        return {
            "estimates": [estimate.to_dict() for estimate in self.estimates],
            "weighting": self.weighting_details,
        }

    def get(
        self, indicator: str, domain: dict[str, JsonScalar] | None = None
    ) -> SatisfactionEstimate:
        """The estimate of ``indicator`` in ``domain`` (``None``: the whole sample)."""
        for estimate in self.estimates:
            if estimate.indicator == indicator and estimate.domain == domain:
                return estimate
        raise KeyError(f"no estimate of {indicator!r} for domain {domain!r}")


@dataclass(frozen=True)
class _DomainFamily:
    """The whole sample (``variable`` None, one level) or the levels of one ``by`` variable."""

    variable: str | None
    codes: np.ndarray
    values: tuple[JsonScalar, ...]


def analyze(responses: pd.DataFrame, design: DesignSpec) -> AnalysisResult:
    """Estimate every indicator of ``design`` on the whole sample and each domain.

    Parameters
    ----------
    responses
        One row per respondent; a missing value means "not answered".
    design
        A validated design (:func:`analysis.parse_design`).

    Raises
    ------
    AnalysisInputError
        For data that do not fit the design; the message says what and where.
    """
    sample = prepare_sample(responses, design)
    families = [_DomainFamily(None, np.zeros(sample.size, dtype=np.int64), (None,))]
    for variable in design.by:
        levels = sample.categories[variable]
        families.append(_DomainFamily(variable, levels.codes, levels.values))
    by_indicator = [
        _estimate_indicator(
            indicator, indicator_scores(responses, indicator, design.id), sample, families, design
        )
        for indicator in design.indicators
    ]
    # R's order: for each domain (the whole sample first), every indicator.
    estimates = tuple(chain.from_iterable(zip(*by_indicator, strict=True)))
    return AnalysisResult(
        estimates=estimates,
        weighting=weight_diagnostics(sample.weights),
        weighting_details=weighting_summary(sample),
    )


def indicator_scores(
    responses: pd.DataFrame, indicator: IndicatorSpec, id_column: str | None = None
) -> np.ndarray:
    """Each respondent's value of the indicator (NaN when not answered).

    Raises
    ------
    AnalysisInputError
        For a non-numeric answer to a numeric item, an NPS answer outside 0–10, an index
        answer outside its scale, or text ``values`` for a numeric item.
    """
    if indicator.kind == "mean":
        return numeric_answers(responses, indicator.item, id_column)
    if indicator.kind == "proportion":
        return _successes(responses, indicator, id_column)
    if indicator.kind == "nps":
        answers = numeric_answers(responses, indicator.item, id_column)
        answered = ~np.isnan(answers)
        _check_range(
            responses, indicator, indicator.item, answers, (0, 10), id_column, integers=True
        )
        scores = np.where(answers >= 9, 100.0, np.where(answers >= 7, 0.0, -100.0))
        return np.where(answered, scores, np.nan)
    return _index_scores(responses, indicator, id_column)


def _successes(
    responses: pd.DataFrame, indicator: IndicatorSpec, id_column: str | None
) -> np.ndarray:
    column = responses[indicator.item]
    answered = column.notna().to_numpy()
    numbers = [value for value in indicator.values if not isinstance(value, str)]
    texts = [value for value in indicator.values if isinstance(value, str)]
    success = np.zeros(len(column), dtype=bool)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        if texts:
            raise AnalysisInputError(
                f"indicator {indicator.name!r}: 'values' {texts!r} are text but column "
                f"{indicator.item!r} holds numbers; write them as numbers"
            )
        success |= np.isin(numeric_answers(responses, indicator.item, id_column), numbers)
    else:
        if numbers:
            as_numbers = pd.to_numeric(column, errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
            success |= np.isin(as_numbers, numbers)
        if texts:
            success |= column.isin(texts).to_numpy()
    return np.where(answered, success.astype(float), np.nan)


def _check_range(
    responses: pd.DataFrame,
    indicator: IndicatorSpec,
    column: str,
    answers: np.ndarray,
    bounds: tuple[float, float],
    id_column: str | None,
    integers: bool = False,
) -> None:
    low, high = bounds
    with np.errstate(invalid="ignore"):
        bad = (answers < low) | (answers > high)
        if integers:
            bad |= ~np.isnan(answers) & (answers != np.round(answers))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        if integers:
            expected = f"a whole number from {low:g} to {high:g}"
        else:
            expected = f"between {low:g} and {high:g} (its 'scale')"
        raise AnalysisInputError(
            f"indicator {indicator.name!r}, column {column!r}, "
            f"{describe_row(responses, first, id_column)}: answer {answers[first]:g} is not "
            f"{expected} ({int(bad.sum())} such answer(s))"
        )


def _index_scores(
    responses: pd.DataFrame, indicator: IndicatorSpec, id_column: str | None
) -> np.ndarray:
    low, high = indicator.scale
    weighted_sum = np.zeros(len(responses))
    weight_answered = np.zeros(len(responses))
    for column, item_weight in indicator.items:
        answers = numeric_answers(responses, column, id_column)
        _check_range(responses, indicator, column, answers, (low, high), id_column)
        answered = ~np.isnan(answers)
        weighted_sum += np.where(answered, item_weight * (answers - low) / (high - low), 0.0)
        weight_answered += np.where(answered, item_weight, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight_answered > 0, 100.0 * weighted_sum / weight_answered, np.nan)


def _estimate_indicator(
    indicator: IndicatorSpec,
    scores: np.ndarray,
    sample: SampleDesign,
    families: list[_DomainFamily],
    design: DesignSpec,
) -> list[SatisfactionEstimate]:
    """Estimates of one indicator in every domain, the variances computed together.

    Column ``d`` of ``linearised`` holds ``z_i = w_i (y_i - ybar_d) / sum_d w`` for the
    respondents of domain ``d`` who answered, and 0 for everyone else.
    """
    domains = [
        None if family.variable is None else {family.variable: value}
        for family in families
        for value in family.values
    ]
    answered = ~np.isnan(scores)
    weights = sample.weights
    n_strata = len(sample.stratum_labels)
    linearised = np.zeros((sample.size, len(domains)), order="F")
    cells = linearised.reshape(-1, order="F")  # a view: column d starts at d * size
    estimates, weight_totals, squares = (np.empty(len(domains)) for _ in range(3))
    counts, dfs = (np.empty(len(domains), dtype=np.int64) for _ in range(2))
    first = 0
    for family in families:
        n_levels = len(family.values)
        span = slice(first, first + n_levels)
        inside = np.flatnonzero(answered & (family.codes >= 0))
        level = family.codes[inside]
        weight_in, score_in = weights[inside], scores[inside]
        weight_totals[span] = group_sums(level, n_levels, weight_in)
        with np.errstate(invalid="ignore", divide="ignore"):
            estimates[span] = (
                group_sums(level, n_levels, weight_in * score_in) / weight_totals[span]
            )
            deviations = score_in - estimates[span][level]
            cells[(first + level) * sample.size + inside] = (
                weight_in * deviations / weight_totals[span][level]
            )
        squares[span] = group_sums(level, n_levels, weight_in * deviations**2)
        counts[span] = group_counts(level, n_levels)
        strata_present = group_counts(
            level * n_strata + sample.strata[inside], n_levels * n_strata
        ).reshape(n_levels, n_strata)
        dfs[span] = counts[span] - (strata_present > 0).sum(axis=1)
        first += n_levels
    variances = sample.variance(linearised)
    return [
        _summarise(
            indicator,
            domain,
            estimate=float(estimates[d]),
            variance=float(variances[d]),
            n=int(counts[d]),
            df=int(dfs[d]),
            weight_total=float(weight_totals[d]),
            weighted_squares=float(squares[d]),
            finite_population=sample.has_finite_population,
            design=design,
        )
        for d, domain in enumerate(domains)
    ]


def _summarise(
    indicator: IndicatorSpec,
    domain: dict[str, JsonScalar] | None,
    *,
    estimate: float,
    variance: float,
    n: int,
    df: int,
    weight_total: float,
    weighted_squares: float,
    finite_population: bool,
    design: DesignSpec,
) -> SatisfactionEstimate:
    small_base = n < SMALL_BASE
    if n == 0:
        return SatisfactionEstimate(
            indicator.name,
            domain,
            None,
            None,
            None,
            None,
            df=0,
            n=0,
            small_base=True,
            note="no respondent in this domain answered",
        )
    se = math.sqrt(max(variance, 0.0))
    notes = []
    if df < 1:
        low = high = None
        notes.append(
            "a single respondent per stratum answered: no degrees of freedom "
            "left for a confidence interval"
        )
    elif indicator.kind == "proportion":
        low, high, note = proportion_interval(
            estimate, se, df, n, design.confidence, design.proportion_ci
        )
        if note:
            notes.append(note)
    else:
        low, high = mean_interval(estimate, se, df, design.confidence)
    return SatisfactionEstimate(
        indicator=indicator.name,
        domain=domain,
        estimate=estimate,
        se=se,
        ci_low=low,
        ci_high=high,
        df=df,
        n=n,
        deff=_design_effect(variance, n, weight_total, weighted_squares, finite_population),
        small_base=small_base,
        note="; ".join(notes) or None,
    )


def _design_effect(
    variance: float,
    n: int,
    weight_total: float,
    weighted_squares: float,
    finite_population: bool,
) -> float | None:
    """``var / var_SRS`` with ``var_SRS = s_w^2 / n (1 - n / sum w)`` (Kish 1965).

    ``s_w^2 = n / (n - 1) sum w (y - ybar)^2 / sum w`` is the estimated population variance.
    R's ``svymean(deff = TRUE)`` always applies the correction ``1 - n / sum w``; here it
    is applied only when the design gives a population, since otherwise ``sum w`` need not
    be a population size (weights of 1 would make ``var_SRS`` zero).
    """
    if n < 2:
        return None
    population_variance = n / (n - 1) * weighted_squares / weight_total
    srs_variance = population_variance / n
    if finite_population:
        srs_variance *= 1.0 - n / weight_total
    if srs_variance <= 0:
        return None
    return variance / srs_variance


def mean_interval(estimate: float, se: float, df: int, confidence: float) -> tuple[float, float]:
    """``estimate ± t_{df, 1-a/2} se``."""
    half_width = _t_quantile(0.5 + confidence / 2, df) * se
    return estimate - half_width, estimate + half_width


def proportion_interval(
    p: float, se: float, df: int, n: int, confidence: float, method: str
) -> tuple[float, float, str | None]:
    """Confidence interval of a proportion, and a note when the method had to change.

    - ``logit``: ``expit(logit(p) ± t_{df} se / (p (1 - p)))``; for ``p`` of 0 or 1, where
      the logit is infinite, falls back to ``beta`` and says so.
    - ``beta`` (Korn & Graubard 1998): Clopper–Pearson on the effective sample size
      ``n* = p (1 - p) / se^2 (t_{n-1, a/2} / t_{df, a/2})^2``, with ``n* = n`` (times the
      same ratio) when ``se`` is 0;
      ``[qbeta(a/2, n* p, n* (1 - p) + 1), qbeta(1 - a/2, n* p + 1, n* (1 - p))]``.
    - ``wald``: ``p ± t_{df} se``.

    Returns
    -------
    (low, high, note)
    """
    alpha = 1.0 - confidence
    t_quantile = _t_quantile(1 - alpha / 2, df)
    if method == "wald":
        return p - t_quantile * se, p + t_quantile * se, None
    note = None
    if method == "logit":
        if 0 < p < 1:
            centre, spread = math.log(p / (1 - p)), t_quantile * se / (p * (1 - p))
            return _expit(centre - spread), _expit(centre + spread), None
        note = (
            f"the proportion is {p:g}, where the logit interval does not exist: "
            "Korn-Graubard (beta) interval given instead"
        )
    low, high, beta_note = _korn_graubard(p, se, df, n, alpha)
    return low, high, "; ".join(filter(None, [note, beta_note])) or None


def _korn_graubard(
    p: float, se: float, df: int, n: int, alpha: float
) -> tuple[float, float, str | None]:
    note = None
    if 0 < p < 1 and se > 0:
        effective_n = p * (1 - p) / se**2
    else:
        effective_n = float(n)
        note = "standard error 0: effective sample size taken as the number of respondents"
    if n > 1:
        effective_n *= (_t_quantile(alpha / 2, n - 1) / _t_quantile(alpha / 2, df)) ** 2
    successes, failures = effective_n * p, effective_n * (1 - p)
    low = 0.0 if p <= 0 else _beta_quantile(alpha / 2, successes, failures + 1)
    high = 1.0 if p >= 1 else _beta_quantile(1 - alpha / 2, successes + 1, failures)
    return low, high, note


# scipy.special rather than scipy.stats: the same functions (stats.t.ppf and stats.beta.ppf
# call them) without a second of import time on every run of the command.
def _t_quantile(probability: float, df: float) -> float:
    """Quantile of Student's t distribution with ``df`` degrees of freedom."""
    return float(special.stdtrit(df, probability))


def _beta_quantile(probability: float, a: float, b: float) -> float:
    """Quantile of the Beta(a, b) distribution."""
    return float(special.betaincinv(a, b, probability))


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
