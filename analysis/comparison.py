"""Is it different? This year against last year, each domain against the rest, Holm's correction.

Two kinds of comparison, with different variances:

- **Year on year.** Two campaigns draw independent samples, so the difference of their
  estimates has variance ``se₁² + se₂²``. Each estimate comes with its design degrees of
  freedom (respondents minus strata), and the engine's intervals use Student's t with them; the
  difference uses Student's t with the Welch–Satterthwaite degrees of freedom, which combine the
  two and tend to the normal distribution when both are large. Without degrees of freedom the
  normal distribution is used.
- **A domain against the rest.** The domain and its complement come from the *same* sample,
  and within a stratum they share the stratum mean, so their estimates are correlated. Instead
  of treating them as independent, :func:`domain_versus_rest` computes the variance of the
  difference exactly, to first order, from the linearised values of the difference of the two
  ratio means under the engine's design (stratified simple random sampling without
  replacement), as R's ``svyby(..., covmat = TRUE)`` followed by ``svycontrast`` does.

A family of comparisons (every indicator of a report, every level of a domain variable) is
corrected with Holm's step-down procedure, which controls the family-wise error rate under any
dependence (Holm 1979).

References
----------
Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
Journal of Statistics* 6, 65–70.

Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance components.
*Biometrics Bulletin* 2, 110–114.

Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley. §2.3 (domains),
appendix on linearisation (variance of a contrast of domain means).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.design import AnalysisInputError


@dataclass(frozen=True)
class Difference:
    """A difference ``a − b`` of two estimates and its test of nullity.

    Attributes
    ----------
    estimate : float
        ``a − b``.
    se : float
        Its standard error.
    df : float or None
        Degrees of freedom of the Student reference; None when the normal one is used.
    statistic : float
        ``estimate / se`` (``±inf`` when ``se`` is 0 and the difference is not).
    p_value : float
        Two-sided p-value, before any multiple-testing correction.
    ci_low, ci_high : float
        Confidence interval of the difference.
    confidence : float
        Its level.
    """

    estimate: float
    se: float
    df: float | None
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    confidence: float


@dataclass(frozen=True)
class CorrectedDifference:
    """One comparison of a family, after Holm's correction.

    Attributes
    ----------
    label : str
        What is compared (an indicator, a domain level).
    difference : Difference
        The comparison itself; its ``p_value`` is uncorrected.
    p_adjusted : float
        Holm-adjusted p-value.
    significant : bool
        ``p_adjusted <= alpha``.
    """

    label: str
    difference: Difference
    p_adjusted: float
    significant: bool


@dataclass(frozen=True)
class YearOnYear:
    """One indicator in one domain, this campaign against the previous one.

    Attributes
    ----------
    indicator : str
    domain : dict or None
        As in the engine's estimates (None for the whole sample).
    current, previous : float
        The two estimates.
    difference : Difference
        ``current − previous``.
    p_adjusted : float
        Holm-adjusted p-value over the family compared together.
    significant : bool
        ``p_adjusted <= alpha``.
    """

    indicator: str
    domain: dict[str, Any] | None
    current: float
    previous: float
    difference: Difference
    p_adjusted: float
    significant: bool


@dataclass(frozen=True)
class DomainContrast:
    """One level of a domain variable against all the other levels.

    Attributes
    ----------
    level : object
        The domain level.
    estimate, se : float
        The level's weighted mean and its standard error.
    rest_estimate, rest_se : float
        The same for the respondents of every other level.
    n, rest_n : int
        Respondents who answered, in the level and in the rest.
    difference : Difference
        ``estimate − rest_estimate``, with the exact linearised standard error.
    p_adjusted : float
        Holm-adjusted p-value over the levels of the variable.
    significant : bool
        ``p_adjusted <= alpha``.
    """

    level: Any
    estimate: float
    se: float
    rest_estimate: float
    rest_se: float
    n: int
    rest_n: int
    difference: Difference
    p_adjusted: float
    significant: bool


# --------------------------------------------------------------------------------------------
# One difference


def _check_confidence(confidence: float) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise AnalysisInputError(f"confidence must be a number in (0, 1), got {confidence!r}")
    if not 0 < confidence < 1:
        raise AnalysisInputError(f"confidence must be a number in (0, 1), got {confidence!r}")
    return float(confidence)


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < 1:
        raise AnalysisInputError(f"alpha must be a number in (0, 1), got {alpha!r}")
    return float(alpha)


def _finite(name: str, value: float, *, non_negative: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise AnalysisInputError(f"{name} must be a finite number, got {value!r}")
    if non_negative and value < 0:
        raise AnalysisInputError(f"{name} must not be negative, got {value!r}")
    return float(value)


def _df(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise AnalysisInputError(f"{name} must be a positive number or None, got {value!r}")
    return float(value)


def welch_satterthwaite_df(se_a: float, df_a: float, se_b: float, df_b: float) -> float:
    """Degrees of freedom of ``(a − b) / sqrt(se_a² + se_b²)`` (Satterthwaite 1946).

    .. math::

        \\nu = \\frac{(se_a^2 + se_b^2)^2}{se_a^4 / \\nu_a + se_b^4 / \\nu_b}

    An infinite ``ν`` contributes nothing to the denominator.
    """
    denominator = sum(
        se**4 / df for se, df in ((se_a, df_a), (se_b, df_b)) if math.isfinite(df) and se > 0
    )
    if denominator == 0:
        return math.inf
    return (se_a**2 + se_b**2) ** 2 / denominator


def difference_test(
    estimate: float, se: float, df: float | None = None, confidence: float = 0.95
) -> Difference:
    """Two-sided test of ``estimate = 0`` and its interval, with Student's t or the normal.

    .. math::

        T = \\hat d / se, \\quad p = 2 P(T_\\nu > |T|), \\quad
        \\hat d \\pm t_{(1+\\gamma)/2, \\nu}\\; se

    with the normal distribution when ``df`` is None or infinite. When ``se`` is 0 (two
    censuses) the difference is exact: the interval is the point and ``p`` is 0 or 1.
    """
    estimate = _finite("estimate", estimate)
    se = _finite("se", se, non_negative=True)
    df = _df("df", df)
    confidence = _check_confidence(confidence)
    reference = stats.norm if df is None or math.isinf(df) else stats.t(df)
    if se == 0:
        statistic = math.copysign(math.inf, estimate) if estimate != 0 else math.nan
        p_value = 0.0 if estimate != 0 else 1.0
    else:
        statistic = estimate / se
        p_value = float(2 * reference.sf(abs(statistic)))
    half_width = float(reference.ppf(0.5 + confidence / 2)) * se
    return Difference(
        estimate=estimate,
        se=se,
        df=df,
        statistic=statistic,
        p_value=p_value,
        ci_low=estimate - half_width,
        ci_high=estimate + half_width,
        confidence=confidence,
    )


def compare_independent(
    estimate_a: float,
    se_a: float,
    estimate_b: float,
    se_b: float,
    *,
    df_a: float | None = None,
    df_b: float | None = None,
    confidence: float = 0.95,
) -> Difference:
    """Difference of two estimates from independent samples (this year minus last year).

    .. math::

        \\hat d = \\hat\\theta_a - \\hat\\theta_b, \\qquad
        se(\\hat d) = \\sqrt{se_a^2 + se_b^2}

    With both degrees of freedom, the reference is Student's t with the Welch–Satterthwaite
    degrees of freedom (:func:`welch_satterthwaite_df`), consistent with the t intervals of each
    estimate; with neither, the normal distribution.

    Parameters
    ----------
    estimate_a, se_a : float
        The first estimate (this year) and its standard error.
    estimate_b, se_b : float
        The second estimate (last year) and its standard error.
    df_a, df_b : float, optional
        Design degrees of freedom of each; give both or neither.
    confidence : float
        Level of the interval of the difference.

    Returns
    -------
    Difference
    """
    estimate_a = _finite("estimate_a", estimate_a)
    estimate_b = _finite("estimate_b", estimate_b)
    se_a = _finite("se_a", se_a, non_negative=True)
    se_b = _finite("se_b", se_b, non_negative=True)
    df_a, df_b = _df("df_a", df_a), _df("df_b", df_b)
    if (df_a is None) != (df_b is None):
        raise AnalysisInputError("give the degrees of freedom of both estimates, or of neither")
    df = None if df_a is None else welch_satterthwaite_df(se_a, df_a, se_b, df_b)
    return difference_test(estimate_a - estimate_b, math.hypot(se_a, se_b), df, confidence)


# --------------------------------------------------------------------------------------------
# Families


def holm(
    differences: Mapping[str, Difference], alpha: float = 0.05
) -> tuple[CorrectedDifference, ...]:
    """Holm's step-down correction over a family of differences.

    The ``i``-th smallest of ``m`` p-values is adjusted to
    ``max_{j <= i} min(1, (m − j + 1) p_(j))`` (Holm 1979), via
    ``statsmodels.stats.multitest.multipletests(method="holm")``.

    Parameters
    ----------
    differences : Mapping[str, Difference]
        The family, by label.
    alpha : float
        Family-wise error rate.

    Returns
    -------
    tuple of CorrectedDifference
        In the order of ``differences``.
    """
    alpha = _check_alpha(alpha)
    if not differences:
        return ()
    adjusted = _holm_adjusted([difference.p_value for difference in differences.values()], alpha)
    return tuple(
        CorrectedDifference(label, difference, p_adjusted, p_adjusted <= alpha)
        for (label, difference), p_adjusted in zip(differences.items(), adjusted, strict=True)
    )


def _holm_adjusted(p_values: list[float], alpha: float) -> list[float]:
    _, adjusted, _, _ = multipletests(np.asarray(p_values, dtype=float), alpha, method="holm")
    return [float(value) for value in adjusted]


def _read(estimate: Any, field: str) -> Any:
    return estimate[field] if isinstance(estimate, Mapping) else getattr(estimate, field)


def _domain_key(domain: Mapping[str, Any] | None) -> tuple | None:
    return None if domain is None else tuple(sorted(domain.items()))


def compare_to_previous(
    current: Iterable[Any],
    previous: Iterable[Any],
    *,
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> tuple[YearOnYear, ...]:
    """Compare this campaign's estimates with the previous campaign's, Holm-corrected.

    Estimates are matched on ``(indicator, domain)``; those without a counterpart, or without
    a standard error (too few respondents), are left out. The whole set compared is one family
    for Holm's correction: pass only the estimates that the report tests together.

    Parameters
    ----------
    current, previous : iterable
        Estimates of the engine (``SatisfactionEstimate``) or their JSON form (mappings with
        ``indicator``, ``domain``, ``estimate``, ``se`` and ``df``).
    confidence : float
        Level of the intervals of the differences.
    alpha : float
        Family-wise error rate.

    Returns
    -------
    tuple of YearOnYear
        In the order of ``current``.
    """
    alpha = _check_alpha(alpha)
    earlier = {}
    for estimate in previous:
        key = (_read(estimate, "indicator"), _domain_key(_read(estimate, "domain")))
        if key in earlier:
            raise AnalysisInputError(f"previous estimates hold {key} twice")
        earlier[key] = estimate
    pairs = []
    for estimate in current:
        key = (_read(estimate, "indicator"), _domain_key(_read(estimate, "domain")))
        match = earlier.get(key)
        if match is None or _read(estimate, "se") is None or _read(match, "se") is None:
            continue
        difference = compare_independent(
            _read(estimate, "estimate"),
            _read(estimate, "se"),
            _read(match, "estimate"),
            _read(match, "se"),
            df_a=_read(estimate, "df"),
            df_b=_read(match, "df"),
            confidence=confidence,
        )
        pairs.append((estimate, match, difference))
    adjusted = _holm_adjusted([difference.p_value for _, _, difference in pairs], alpha)
    return tuple(
        YearOnYear(
            indicator=_read(estimate, "indicator"),
            domain=_read(estimate, "domain"),
            current=float(_read(estimate, "estimate")),
            previous=float(_read(match, "estimate")),
            difference=difference,
            p_adjusted=p_adjusted,
            significant=p_adjusted <= alpha,
        )
        for (estimate, match, difference), p_adjusted in zip(pairs, adjusted, strict=True)
    )


# --------------------------------------------------------------------------------------------
# A domain against the rest


def _column(data: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in data.columns:
        raise AnalysisInputError(f"{role} column {name!r} is not in the data")
    return data[name]


def _numeric(data: pd.DataFrame, name: str, role: str) -> np.ndarray:
    column = _column(data, name, role)
    numbers_ = pd.to_numeric(column, errors="coerce")
    bad = column.notna() & numbers_.isna()
    if bad.any():
        first = column.index[bad.to_numpy()][0]
        raise AnalysisInputError(
            f"{role} column {name!r} holds a non-numeric value {column[first]!r} at row {first!r}"
        )
    return numbers_.to_numpy(dtype=float, na_value=np.nan)


def _design_weights_and_fpc(
    data: pd.DataFrame,
    strata: str | None,
    population: float | Mapping[str, float] | None,
    weights: str | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratum codes, base weights and per-row finite-population factors ``1 − r_h/N_h``."""
    if strata is None:
        codes = np.zeros(len(data), dtype=np.int64)
        labels = [None]
    else:
        column = _column(data, strata, "strata")
        if column.isna().any():
            first = column.index[column.isna().to_numpy()][0]
            raise AnalysisInputError(f"strata column {strata!r} is blank at row {first!r}")
        codes, uniques = pd.factorize(column, sort=True)
        labels = list(uniques)
    respondents = np.bincount(codes, minlength=len(labels)).astype(float)

    if population is None:
        if weights is None:
            base = np.ones(len(data))
        else:
            base = _numeric(data, weights, "weights")
            if np.isnan(base).any() or (base <= 0).any():
                raise AnalysisInputError(f"weights column {weights!r} must be positive everywhere")
        return codes, base, np.ones(len(data))

    if strata is None:
        if isinstance(population, Mapping):
            raise AnalysisInputError("population per stratum needs a strata column")
        sizes = np.array([_finite("population", population, non_negative=True)])
    else:
        if not isinstance(population, Mapping):
            raise AnalysisInputError("with strata, population must map each stratum to its size")
        missing = [
            label for label in labels if label not in population and str(label) not in population
        ]
        if missing:
            raise AnalysisInputError(f"population has no size for strata {missing}")
        sizes = np.array(
            [
                _finite(
                    f"population[{label!r}]",
                    population[label] if label in population else population[str(label)],
                    non_negative=True,
                )
                for label in labels
            ]
        )
    short = [label for label, r, n in zip(labels, respondents, sizes, strict=True) if n < r]
    if short:
        raise AnalysisInputError(f"strata {short} have more respondents than population")
    base = (sizes / respondents)[codes]
    return codes, base, (1 - respondents / sizes)[codes]


def _linearised_variance(z: np.ndarray, codes: np.ndarray, fpc: np.ndarray) -> float:
    """``Σ_h (1 − r_h/N_h) r_h/(r_h − 1) Σ_{i∈h} (z_i − z̄_h)²``, the engine's formula."""
    n_strata = codes.max() + 1
    counts = np.bincount(codes, minlength=n_strata).astype(float)
    means = np.bincount(codes, weights=z, minlength=n_strata) / counts
    squares = np.bincount(codes, weights=(z - means[codes]) ** 2, minlength=n_strata)
    factor = np.bincount(codes, weights=fpc, minlength=n_strata) / counts
    sampled = factor > 0
    lonely = sampled & (counts < 2)
    if lonely.any():
        raise AnalysisInputError(
            "a stratum with a single respondent has no variance; merge it with another"
        )
    return float(
        np.sum(factor[sampled] * counts[sampled] / (counts[sampled] - 1) * squares[sampled])
    )


def domain_versus_rest(
    data: pd.DataFrame,
    value: str,
    domain: str,
    *,
    strata: str | None = None,
    population: float | Mapping[str, float] | None = None,
    weights: str | None = None,
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> tuple[DomainContrast, ...]:
    """Each level of a domain variable against the respondents of all the other levels.

    For a level ``d`` and its complement ``c`` (respondents who answered and whose domain is
    another level), the weighted means ``ȳ_d = Σ_d w y / Σ_d w`` and ``ȳ_c`` are compared
    through the linearised value of their difference

    .. math::

        z_i = \\frac{1_d(i)\\, w_i (y_i - \\bar y_d)}{\\sum_d w}
              - \\frac{1_c(i)\\, w_i (y_i - \\bar y_c)}{\\sum_c w},
        \\qquad
        \\hat V = \\sum_h \\left(1 - \\frac{r_h}{N_h}\\right) \\frac{r_h}{r_h - 1}
                  \\sum_{i \\in h} (z_i - \\bar z_h)^2,

    the engine's variance formula applied to ``z``: exact to first order, covariance of the two
    means included (it is not zero: the two share each stratum's mean). Rows outside both (item
    not answered, domain blank) have ``z = 0`` and stay in their stratum's ``r_h``. The
    reference is Student's t with ``df`` = respondents in ``d ∪ c`` minus their strata, and
    the levels are one family for Holm's correction (with two levels the two contrasts are
    the same test, so none is needed).

    The design is the engine's: base weights ``N_h / r_h`` with ``population``; otherwise the
    ``weights`` column (or 1) without finite-population correction. Weights calibrated on
    margins may be passed as ``weights``; the variance then treats them as fixed, ignoring the
    (usually variance-reducing) calibration, and is conservative.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    value : str
        Numeric column compared (a 0/1 column for a proportion); blank = not answered.
    domain : str
        Column of domain levels.
    strata : str, optional
        Column of strata.
    population : float or Mapping, optional
        Population size, per stratum with ``strata``.
    weights : str, optional
        Column of weights, used without ``population``.
    confidence : float
        Level of the intervals of the differences.
    alpha : float
        Family-wise error rate for Holm's correction.

    Returns
    -------
    tuple of DomainContrast
        One per level, in sorted order of the levels.

    References
    ----------
    Lumley (2010), *Complex Surveys*, §2.3 and §3.4; R ``survey``: ``svyby(~y, ~d, design,
    svymean, covmat = TRUE)`` then ``svycontrast``.
    """
    if not isinstance(data, pd.DataFrame):
        raise AnalysisInputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    confidence = _check_confidence(confidence)
    alpha = _check_alpha(alpha)
    y = _numeric(data, value, "value")
    levels = _column(data, domain, "domain")
    codes, w, fpc = _design_weights_and_fpc(data, strata, population, weights)

    answered = ~np.isnan(y) & levels.notna().to_numpy()
    distinct = sorted(pd.unique(levels[answered]), key=lambda level: (str(type(level)), level))
    if len(distinct) < 2:
        raise AnalysisInputError(
            f"domain column {domain!r} needs at least two levels among the respondents who "
            f"answered {value!r}, found {distinct}"
        )
    df = int(answered.sum() - len(np.unique(codes[answered])))
    if df < 1:
        raise AnalysisInputError(
            f"{int(answered.sum())} respondents answered {value!r} in as many strata: "
            "no degrees of freedom are left to compare domains"
        )
    y_filled = np.where(answered, y, 0.0)

    def mean_and_scores(members: np.ndarray) -> tuple[float, np.ndarray]:
        total_weight = w[members].sum()
        mean = float(np.sum(w[members] * y_filled[members]) / total_weight)
        return mean, np.where(members, w * (y_filled - mean) / total_weight, 0.0)

    contrasts = []
    for level in distinct:
        inside = answered & (levels == level).to_numpy(dtype=bool, na_value=False)
        rest = answered & ~inside
        mean_in, z_in = mean_and_scores(inside)
        mean_rest, z_rest = mean_and_scores(rest)
        se_in = math.sqrt(_linearised_variance(z_in, codes, fpc))
        se_rest = math.sqrt(_linearised_variance(z_rest, codes, fpc))
        se_difference = math.sqrt(_linearised_variance(z_in - z_rest, codes, fpc))
        contrasts.append(
            (level, mean_in, se_in, mean_rest, se_rest, int(inside.sum()), int(rest.sum()),
             difference_test(mean_in - mean_rest, se_difference, df, confidence))
        )  # fmt: skip
    p_values = [contrast[-1].p_value for contrast in contrasts]
    # With two levels, "a against the rest" and "b against the rest" are one test, not two.
    adjusted = p_values if len(contrasts) == 2 else _holm_adjusted(p_values, alpha)
    return tuple(
        DomainContrast(*contrast, p_adjusted=p_adjusted, significant=p_adjusted <= alpha)
        for contrast, p_adjusted in zip(contrasts, adjusted, strict=True)
    )
