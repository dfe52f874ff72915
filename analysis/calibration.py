"""Calibration of weights to population counts: post-stratification and raking.

Each calibration returns the calibrated weights and the linear projection that the Taylor
variance applies to the linearised variables (Deville & Särndal 1992; Lumley 2010, ch. 7).
The projections reproduce R's ``survey`` package (``postStratify``, ``rake``; see
``reference/README.md``):

- post-stratification: ``z_i - w_i * mean_c(z/w)`` where ``mean_c`` is the mean over the
  unit's cell weighted by the weights *before* post-stratification;
- raking: ten sweeps over the margins in turn of ``z_i - w_i * mean_c(z/w)`` with the plain
  cell mean and the final weights.

Both are carried out on sums over the joint cells of the margins rather than on the units:
after any number of sweeps, ``z/w`` differs from its start by a sum of one term per margin
and level, so the sweeps only need the joint-cell sums of ``z/w`` and the cross-tabulation
of the margins; a single pass over the units then applies the result, whatever the number
of sweeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.design import AnalysisInputError
from analysis.grouping import group_sums, spread

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
class CalibrationCells:
    """The cross-classification of the margins.

    ``codes`` gives each unit's joint cell (a combination of levels found in the data),
    ``levels[m]`` each joint cell's level in margin ``m``, ``counts`` the units per cell.
    """

    codes: np.ndarray
    levels: tuple[np.ndarray, ...]
    counts: np.ndarray

    @property
    def size(self) -> int:
        return len(self.counts)

    def indicators(self, margin: int, n_levels: int) -> np.ndarray:
        """Joint cells x levels of one margin, 1 where the cell has the level."""
        return np.eye(n_levels)[self.levels[margin]]


def cross_classify(margins: tuple[Margin, ...]) -> CalibrationCells:
    """Joint cells of the margins, numbered over the combinations present in the data."""
    joint = np.ravel_multi_index(
        tuple(margin.codes for margin in margins), tuple(margin.size for margin in margins)
    )
    present, codes = np.unique(joint, return_inverse=True)
    levels = np.unravel_index(present, tuple(margin.size for margin in margins))
    return CalibrationCells(codes=codes, levels=tuple(levels), counts=np.bincount(codes))


@dataclass(frozen=True)
class Calibration:
    """Calibrated weights and what the variance needs to account for the calibration."""

    method: str
    weights: np.ndarray
    base_weights: np.ndarray
    margins: tuple[Margin, ...]
    cells: CalibrationCells
    iterations: int

    def residuals(self, linearised: np.ndarray) -> np.ndarray:
        """Project linearised variables (a vector or one column per estimate).

        Returns the residuals whose stratified variance is the variance of the calibrated
        estimator. Every projection subtracts ``w_i`` times a value of the unit's joint
        cell, computed from sums over the joint cells.
        """
        matrix = linearised.reshape(len(linearised), -1)
        weights = self.weights[:, None]
        ratios = matrix / weights
        cells = self.cells
        if self.method == "poststratify":
            before = self.base_weights
            by_cell = group_sums(cells.codes, cells.size, before[:, None] * ratios)
            by_cell /= group_sums(cells.codes, cells.size, before)[:, None]
        else:
            by_cell = _raking_adjustment(
                self.margins, cells, group_sums(cells.codes, cells.size, ratios)
            )
        # In place: on 10^6 units each of these matrices is large.
        residuals = spread(by_cell, cells.codes)
        residuals *= weights
        np.subtract(matrix, residuals, out=residuals)
        return residuals.reshape(linearised.shape)


def _raking_adjustment(
    margins: tuple[Margin, ...], cells: CalibrationCells, ratio_sums: np.ndarray
) -> np.ndarray:
    """What the raking sweeps subtract from ``z/w`` in each joint cell.

    ``offsets[m]`` accumulates what the sweeps took from each level of margin ``m``; a
    sweep over margin ``m`` takes the current means over its levels, which are the initial
    sums minus the offsets of every margin spread through the cross-tabulation with ``m``.
    """
    indicators = [cells.indicators(m, margin.size) for m, margin in enumerate(margins)]
    level_counts = [indicator.T @ cells.counts for indicator in indicators]
    initial_sums = [indicator.T @ ratio_sums for indicator in indicators]
    crosstabs = [
        [indicator.T @ (cells.counts[:, None] * other) for other in indicators]
        for indicator in indicators
    ]
    offsets = [np.zeros((margin.size, ratio_sums.shape[1])) for margin in margins]
    for _ in range(RAKING_VARIANCE_SWEEPS):
        for m in range(len(margins)):
            current_sums = initial_sums[m] - sum(
                crosstabs[m][other] @ offsets[other] for other in range(len(margins))
            )
            offsets[m] += current_sums / level_counts[m][:, None]
    return sum(indicator @ offset for indicator, offset in zip(indicators, offsets, strict=True))


def poststratify(base_weights: np.ndarray, margin: Margin) -> Calibration:
    """Scale the weights so that each cell sums to its population count.

    ``w_i = d_i * N_c / sum_{j in c} d_j`` (Holt & Smith 1979).
    """
    cell_totals = group_sums(margin.codes, margin.size, base_weights)
    weights = base_weights * (margin.totals / cell_totals)[margin.codes]
    margins = (margin,)
    return Calibration(
        "poststratify", weights, base_weights, margins, cross_classify(margins), iterations=1
    )


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
            cells = cross_classify(margins)
            return Calibration("rake", weights, base_weights, margins, cells, iteration)
    variables = ", ".join(margin.variable for margin in margins)
    raise AnalysisInputError(
        f"raking on {variables} did not converge after {max_iterations} iterations "
        f"(a weighted margin is still {distance:.6g} away from its count): the margins "
        "cannot all be met by these respondents; look for combinations of levels with no "
        "respondents"
    )
