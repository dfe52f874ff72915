"""Calibration of weights to population counts: post-stratification and raking.

Each calibration returns the calibrated weights and the linear projection that the Taylor
variance applies to the linearised variables (Deville & Särndal 1992; Lumley 2010, ch. 7).
The projections reproduce R's ``survey`` package (``postStratify``, ``rake``; see
``reference/README.md``):

- post-stratification: ``z_i - w_i * mean_c(z/w)`` where ``mean_c`` is the mean over the
  unit's cell weighted by the weights *before* post-stratification;
- raking: ten sweeps over the margins in turn of ``z_i - w_i * mean_c(z/w)`` with the plain
  cell mean and the final weights.

Both are carried out on cell sums rather than on the units: after any number of sweeps,
``z/w`` differs from its start by a sum of one term per margin and cell, so the sweeps only
need the cell sums of ``z/w`` and the cross-tabulations of the margins; a single pass over
the units then applies the result, whatever the number of sweeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.design import AnalysisInputError
from analysis.grouping import group_counts, group_sums

RAKING_TOLERANCE = 1e-10
"""Raking stops when no weighted margin moves by more than this share of the total weight."""

RAKING_VARIANCE_SWEEPS = 10
"""Sweeps of the raking projection in the variance, as R's ``survey:::svyrecvar``."""


@dataclass(frozen=True)
class Margin:
    """One calibration variable: each unit's cell and each cell's population count."""

    variable: str
    codes: np.ndarray
    labels: tuple[str, ...]
    totals: np.ndarray

    @property
    def size(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Calibration:
    """Calibrated weights and what the variance needs to account for the calibration."""

    method: str
    weights: np.ndarray
    base_weights: np.ndarray
    margins: tuple[Margin, ...]
    iterations: int

    def residuals(self, linearised: np.ndarray) -> np.ndarray:
        """Project linearised variables (a vector or one column per estimate).

        Returns the residuals whose stratified variance is the variance of the calibrated
        estimator.
        """
        matrix = linearised.reshape(len(linearised), -1)
        weights = self.weights[:, None]
        ratios = matrix / weights
        if self.method == "poststratify":
            (margin,) = self.margins
            before = self.base_weights
            cell_means = group_sums(margin.codes, margin.size, before[:, None] * ratios)
            cell_means /= group_sums(margin.codes, margin.size, before)[:, None]
            adjustment = cell_means[margin.codes]
        else:
            adjustment = _raking_adjustment(self.margins, ratios)
        return (matrix - weights * adjustment).reshape(linearised.shape)


def _raking_adjustment(margins: tuple[Margin, ...], ratios: np.ndarray) -> np.ndarray:
    """Total subtracted from each unit's ``z/w`` by the raking sweeps.

    ``offsets[m]`` accumulates what the sweeps took from each cell of margin ``m``; a sweep
    over margin ``m`` takes the current cell means, which are the initial cell sums minus
    the offsets of every margin spread through the cross-tabulation with ``m``.
    """
    cell_counts = [group_counts(margin.codes, margin.size) for margin in margins]
    initial_sums = [group_sums(margin.codes, margin.size, ratios) for margin in margins]
    crosstabs = [[_crosstab(margin, other) for other in margins] for margin in margins]
    offsets = [np.zeros((margin.size, ratios.shape[1])) for margin in margins]
    for _ in range(RAKING_VARIANCE_SWEEPS):
        for m in range(len(margins)):
            current_sums = initial_sums[m] - sum(
                crosstabs[m][other] @ offsets[other] for other in range(len(margins))
            )
            offsets[m] += current_sums / cell_counts[m][:, None]
    return sum(offsets[m][margin.codes] for m, margin in enumerate(margins))


def _crosstab(rows: Margin, columns: Margin) -> np.ndarray:
    joint = rows.codes * columns.size + columns.codes
    return (
        np.bincount(joint, minlength=rows.size * columns.size)
        .reshape(rows.size, columns.size)
        .astype(float)
    )


def poststratify(base_weights: np.ndarray, margin: Margin) -> Calibration:
    """Scale the weights so that each cell sums to its population count.

    ``w_i = d_i * N_c / sum_{j in c} d_j`` (Holt & Smith 1979).
    """
    cell_totals = group_sums(margin.codes, margin.size, base_weights)
    weights = base_weights * (margin.totals / cell_totals)[margin.codes]
    return Calibration("poststratify", weights, base_weights, (margin,), iterations=1)


def rake(
    base_weights: np.ndarray,
    margins: tuple[Margin, ...],
    max_iterations: int = 100,
    tolerance: float = RAKING_TOLERANCE,
) -> Calibration:
    """Iterative proportional fitting of the weights to several margins (Deming & Stephan 1940).

    Post-stratifies on each margin in turn until, after a whole cycle, every weighted margin
    count is within ``tolerance`` times the total weight of its population count.
    R's ``rake(..., control = list(epsilon = tolerance))`` stops instead when the margins
    stop changing from one cycle to the next; at convergence both give the same weights
    (to the tolerance), but R's test also stops when margins that cannot all hold settle
    into the same cycle every time, which this one reports as an error.

    Raises
    ------
    AnalysisInputError
        When the weights have not converged after ``max_iterations`` cycles (margins that
        cannot all hold at once, typically because of empty cells).
    """
    weights = base_weights.copy()
    targets = np.concatenate([margin.totals for margin in margins])
    # R scales by the base weights' total; the population total guards against base weights
    # far smaller than the counts (weights of 1), where rounding alone would exceed it.
    threshold = tolerance * max(float(base_weights.sum()), float(margins[0].totals.sum()))
    distance = np.inf
    for iteration in range(1, max_iterations + 1):
        for margin in margins:
            cell_totals = group_sums(margin.codes, margin.size, weights)
            weights *= (margin.totals / cell_totals)[margin.codes]
        achieved = np.concatenate([group_sums(m.codes, m.size, weights) for m in margins])
        distance = float(np.max(np.abs(achieved - targets)))
        if distance < threshold:
            return Calibration("rake", weights, base_weights, margins, iterations=iteration)
    variables = ", ".join(margin.variable for margin in margins)
    raise AnalysisInputError(
        f"raking on {variables} did not converge after {max_iterations} iterations "
        f"(a weighted margin is still {distance:.6g} away from its count): the margins "
        "cannot all be met by these respondents; look for combinations of levels with no "
        "respondents"
    )
