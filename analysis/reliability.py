"""Internal consistency of the satisfaction index: Cronbach's alpha with Feldt's interval.

The index averages several items; alpha says how far they measure one thing. It is computed,
as is standard, without weights on the respondents who answered every item (listwise complete
cases): alpha describes the instrument, not the population.

References
----------
Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
*Psychometrika* 16, 297–334.

Feldt, L. S., Woodruff, D. J. and Salih, F. A. (1987). Statistical inference for coefficient
alpha. *Applied Psychological Measurement* 11, 93–103.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.design import AnalysisInputError


@dataclass(frozen=True)
class CronbachAlpha:
    """Cronbach's alpha of a set of items.

    Attributes
    ----------
    alpha : float
        The coefficient.
    ci_low, ci_high : float
        Feldt's confidence interval.
    confidence : float
        Its level.
    n : int
        Respondents who answered every item (the ones used).
    k : int
        Number of items.
    items : tuple of str
        The items, in the order given.
    alpha_if_deleted : tuple of (str, float)
        Alpha of the other items when each one is left out; empty with two items.
    """

    alpha: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    k: int
    items: tuple[str, ...]
    alpha_if_deleted: tuple[tuple[str, float], ...]


def _alpha(scores: np.ndarray) -> float:
    k = scores.shape[1]
    total_variance = scores.sum(axis=1).var(ddof=1)
    # Only alpha-if-deleted can meet constant totals; nan says "undefined" there.
    with np.errstate(divide="ignore", invalid="ignore"):
        return k / (k - 1) * (1 - scores.var(axis=0, ddof=1).sum() / total_variance)


def _complete_scores(data: pd.DataFrame, items: Sequence[str]) -> np.ndarray:
    if not isinstance(data, pd.DataFrame):
        raise AnalysisInputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if isinstance(items, str):
        raise AnalysisInputError(f"items must be a list of column names, not the string {items!r}")
    items = list(items)
    if len(items) < 2:
        raise AnalysisInputError(f"alpha needs at least two items, got {items}")
    if len(set(items)) < len(items):
        raise AnalysisInputError(f"items are listed twice: {items}")
    missing = [item for item in items if item not in data.columns]
    if missing:
        raise AnalysisInputError(f"items {missing} are not columns of the data")
    columns = {}
    for item in items:
        column = data[item]
        values = pd.to_numeric(column, errors="coerce")
        bad = column.notna() & values.isna()
        if bad.any():
            row = column.index[bad.to_numpy()][0]
            raise AnalysisInputError(
                f"item {item!r} holds a non-numeric answer {column[row]!r} at row {row!r}"
            )
        columns[item] = values
    return pd.DataFrame(columns).dropna().to_numpy(dtype=float)


def cronbach_alpha(
    data: pd.DataFrame, items: Sequence[str], confidence: float = 0.95
) -> CronbachAlpha:
    """Cronbach's alpha with Feldt's confidence interval, on listwise complete cases.

    .. math::

        \\hat\\alpha = \\frac{k}{k - 1}\\left(1 - \\frac{\\sum_j s_j^2}{s_T^2}\\right)

    with ``s_j²`` the variance of item ``j`` and ``s_T²`` that of the respondents' totals.
    Feldt's interval rests on ``(1 − α)/(1 − α̂)`` following an F distribution with
    ``n − 1`` and ``(n − 1)(k − 1)`` degrees of freedom:

    .. math::

        \\left[\\,1 - (1 - \\hat\\alpha)\\, F_{(1+\\gamma)/2},\\;
                 1 - (1 - \\hat\\alpha)\\, F_{(1-\\gamma)/2}\\,\\right]

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; blank = not answered.
    items : sequence of str
        Numeric item columns, at least two.
    confidence : float
        Level ``γ`` of the interval.

    Returns
    -------
    CronbachAlpha

    Raises
    ------
    AnalysisInputError
        When an item is missing or not numeric, fewer than three respondents answered every
        item, or the totals do not vary.

    References
    ----------
    Cronbach (1951); Feldt, Woodruff and Salih (1987), eq. (5).
    """
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise AnalysisInputError(f"confidence must be a number in (0, 1), got {confidence!r}")
    if not 0 < confidence < 1:
        raise AnalysisInputError(f"confidence must be a number in (0, 1), got {confidence!r}")
    scores = _complete_scores(data, items)
    n, k = scores.shape
    if n < 3:
        raise AnalysisInputError(
            f"alpha needs at least 3 respondents who answered all of {list(items)}, found {n}"
        )
    if scores.sum(axis=1).var(ddof=1) == 0:
        raise AnalysisInputError(
            f"every complete respondent has the same total over {list(items)}: alpha is undefined"
        )
    alpha = _alpha(scores)
    df_between, df_within = n - 1, (n - 1) * (k - 1)
    upper_quantile = stats.f.ppf(0.5 + confidence / 2, df_between, df_within)
    lower_quantile = stats.f.ppf(0.5 - confidence / 2, df_between, df_within)
    if_deleted = ()
    if k >= 3:
        if_deleted = tuple(
            (item, float(_alpha(np.delete(scores, position, axis=1))))
            for position, item in enumerate(items)
        )
    return CronbachAlpha(
        alpha=float(alpha),
        ci_low=float(1 - (1 - alpha) * upper_quantile),
        ci_high=float(1 - (1 - alpha) * lower_quantile),
        confidence=float(confidence),
        n=n,
        k=k,
        items=tuple(items),
        alpha_if_deleted=if_deleted,
    )
