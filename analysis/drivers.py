"""Key drivers of satisfaction: the importance–performance grid.

For each item of the questionnaire, *importance* is how closely it moves with overall
satisfaction (derived importance: the weighted Pearson correlation of the item with the
overall item) and *performance* is how many customers are satisfied with it (the weighted
share of satisfied answers). Split at the medians of the items, the two give four readings:

======================  ==================  ==================
                         low performance     high performance
======================  ==================  ==================
**high importance**      priority to improve strength to keep
**low importance**       secondary           possible overkill
======================  ==================  ==================

An item exactly at a median counts as high: a tie never demotes an item from the priorities.

References
----------
Martilla, J. A. and James, J. C. (1977). Importance-performance analysis. *Journal of
Marketing* 41(1), 77–79.

ISO 10004:2018, *Quality management — Customer satisfaction — Guidelines for monitoring and
measuring*, §8 (analysis of customer satisfaction information).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import DescrStatsW

from analysis.design import AnalysisInputError

PRIORITY = "priority to improve"
STRENGTH = "strength to keep"
SECONDARY = "secondary"
OVERKILL = "possible overkill"


@dataclass(frozen=True)
class Driver:
    """One item on the importance–performance grid.

    Attributes
    ----------
    item : str
    importance : float
        Weighted Pearson correlation with the overall item, on respondents who answered both.
    n_importance : int
        Respondents who answered both.
    performance : float
        Weighted share of satisfied answers among respondents who answered the item.
    n_performance : int
        Respondents who answered the item.
    quadrant : str
        One of ``"priority to improve"``, ``"strength to keep"``, ``"secondary"``,
        ``"possible overkill"``.
    """

    item: str
    importance: float
    n_importance: int
    performance: float
    n_performance: int
    quadrant: str


@dataclass(frozen=True)
class KeyDrivers:
    """The importance–performance grid of a questionnaire.

    Attributes
    ----------
    overall : str
        The overall satisfaction item.
    drivers : tuple of Driver
        One per item, in the order given.
    importance_median, performance_median : float
        The medians over the items that split the grid.
    """

    overall: str
    drivers: tuple[Driver, ...]
    importance_median: float
    performance_median: float

    def to_frame(self) -> pd.DataFrame:
        """One row per item, indexed by item."""
        return pd.DataFrame([vars(driver) for driver in self.drivers]).set_index("item")


def quadrant(
    importance: float, performance: float, importance_median: float, performance_median: float
) -> str:
    """The reading of a point of the grid; a value at its median counts as high."""
    high_importance = importance >= importance_median
    high_performance = performance >= performance_median
    if high_importance:
        return STRENGTH if high_performance else PRIORITY
    return OVERKILL if high_performance else SECONDARY


def _numeric(data: pd.DataFrame, column: str, role: str) -> np.ndarray:
    if column not in data.columns:
        raise AnalysisInputError(f"{role} {column!r} is not a column of the data")
    values = pd.to_numeric(data[column], errors="coerce")
    bad = data[column].notna() & values.isna()
    if bad.any():
        row = data.index[bad.to_numpy()][0]
        raise AnalysisInputError(
            f"{role} {column!r} holds a non-numeric value {data[column][row]!r} at row {row!r}"
        )
    return values.to_numpy(dtype=float, na_value=np.nan)


def _satisfied_values(
    satisfied: Mapping[str, Collection[float]] | Collection[float], items: Sequence[str]
) -> dict[str, list[float]]:
    if isinstance(satisfied, Mapping):
        missing = [item for item in items if item not in satisfied]
        if missing:
            raise AnalysisInputError(f"satisfied gives no satisfied values for items {missing}")
        per_item = {item: satisfied[item] for item in items}
    else:
        per_item = dict.fromkeys(items, satisfied)
    checked = {}
    for item, values in per_item.items():
        if isinstance(values, str) or not isinstance(values, Collection) or not values:
            raise AnalysisInputError(
                f"satisfied values of {item!r} must be a non-empty list of answers, got {values!r}"
            )
        checked[item] = [float(value) for value in values]
    return checked


def key_drivers(
    data: pd.DataFrame,
    items: Sequence[str],
    overall: str,
    satisfied: Mapping[str, Collection[float]] | Collection[float],
    weights: str | None = None,
) -> KeyDrivers:
    """Importance and performance of each item, and its quadrant.

    .. math::

        \\text{importance}_j = r_w(x_j, y) =
            \\frac{\\sum_i w_i (x_{ij} - \\bar x_j)(y_i - \\bar y)}
                 {\\sqrt{\\sum_i w_i (x_{ij} - \\bar x_j)^2 \\sum_i w_i (y_i - \\bar y)^2}},
        \\qquad
        \\text{performance}_j = \\frac{\\sum_i w_i\\, 1[x_{ij} \\in S_j]}{\\sum_i w_i}

    with weighted means, over respondents who answered item ``j`` and the overall item ``y``
    for importance (pairwise complete) and who answered item ``j`` for performance; ``S_j`` is
    the set of satisfied answers of item ``j``. The correlation is
    ``statsmodels.stats.weightstats.DescrStatsW.corrcoef``. Quadrants split at the (unweighted)
    medians of the items' importances and performances.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent; blank = not answered.
    items : sequence of str
        The items to place on the grid (numeric answers), at least two.
    overall : str
        The overall satisfaction item.
    satisfied : Mapping[str, collection] or collection
        Satisfied answers per item (``{"q1": [4, 5], ...}``), or one list for every item.
    weights : str, optional
        Column of respondent weights (final weights of the estimation); 1 when None.

    Returns
    -------
    KeyDrivers

    Raises
    ------
    AnalysisInputError
        When a column is missing or not numeric, a weight is not positive, or an item (or the
        overall item) does not vary among those who answered both, which leaves its
        correlation undefined: leave that item out.
    """
    if not isinstance(data, pd.DataFrame):
        raise AnalysisInputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if isinstance(items, str):
        raise AnalysisInputError(f"items must be a list of column names, not the string {items!r}")
    items = list(items)
    if len(items) < 2:
        raise AnalysisInputError(f"the grid needs at least two items, got {items}")
    if overall in items:
        raise AnalysisInputError(f"the overall item {overall!r} cannot also be a driver")
    satisfied_values = _satisfied_values(satisfied, items)
    y = _numeric(data, overall, "overall item")
    if weights is None:
        w = np.ones(len(data))
    else:
        w = _numeric(data, weights, "weights column")
        bad = ~(w > 0)
        if bad.any():
            row, value = data.index[bad][0], float(w[bad][0])
            raise AnalysisInputError(
                f"weights column {weights!r} must be positive, got {value!r} at row {row!r}"
            )

    measured = []
    for item in items:
        x = _numeric(data, item, "item")
        answered = ~np.isnan(x)
        both = answered & ~np.isnan(y)
        if both.sum() < 3:
            raise AnalysisInputError(
                f"item {item!r}: {int(both.sum())} respondents answered it and {overall!r}; "
                "a correlation needs at least 3"
            )
        pairs = np.column_stack([x[both], y[both]])
        if np.ptp(pairs[:, 0]) == 0 or np.ptp(pairs[:, 1]) == 0:
            constant = item if np.ptp(pairs[:, 0]) == 0 else overall
            raise AnalysisInputError(
                f"item {item!r}: every one of the {int(both.sum())} respondents who answered it "
                f"and {overall!r} gave the same answer to {constant!r}, so the correlation is "
                "undefined; leave it out"
            )
        importance = float(DescrStatsW(pairs, weights=w[both]).corrcoef[0, 1])
        is_satisfied = np.isin(x[answered], satisfied_values[item])
        performance = float(np.sum(w[answered] * is_satisfied) / np.sum(w[answered]))
        measured.append((item, importance, int(both.sum()), performance, int(answered.sum())))

    importance_median = float(np.median([m[1] for m in measured]))
    performance_median = float(np.median([m[3] for m in measured]))
    return KeyDrivers(
        overall=overall,
        drivers=tuple(
            Driver(
                item=item,
                importance=importance,
                n_importance=n_importance,
                performance=performance,
                n_performance=n_performance,
                quadrant=quadrant(importance, performance, importance_median, performance_median),
            )
            for item, importance, n_importance, performance, n_performance in measured
        ),
        importance_median=importance_median,
        performance_median=performance_median,
    )
