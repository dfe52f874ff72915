"""Diagnostics of the weights: how much they cost in precision.

Kish (1965, §11.7): with weights ``w``, the effective sample size is
``n_eff = (sum w)^2 / sum w^2`` and the design effect due to weighting is
``deff_w = n / n_eff = 1 + cv^2``, where ``cv`` is the coefficient of variation of the
weights computed with divisor ``n`` (so that the identity is exact).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.design import AnalysisInputError, DesignSpec
from analysis.sample import prepare_sample


@dataclass(frozen=True)
class WeightDiagnostics:
    """Summary of a set of weights (Kish 1965)."""

    n: int
    sum: float
    min: float
    max: float
    kish_effective_n: float
    deff_weighting: float
    cv: float

    def to_dict(self) -> dict[str, float | int]:
        return {
            "n": self.n,
            "sum": self.sum,
            "min": self.min,
            "max": self.max,
            "kish_effective_n": self.kish_effective_n,
            "deff_weighting": self.deff_weighting,
            "cv": self.cv,
        }


def weight_diagnostics(weights: np.ndarray | pd.Series) -> WeightDiagnostics:
    """Kish's effective sample size and design effect of weighting.

    ``n_eff = (sum w)^2 / sum w^2``; ``deff_w = n / n_eff``; ``cv = sd(w) / mean(w)`` with
    the standard deviation over ``n`` (not ``n - 1``), so that ``deff_w = 1 + cv^2``.

    Raises
    ------
    AnalysisInputError
        If there are no weights, or one is missing, infinite or not positive.
    """
    values = np.asarray(weights, dtype=float)
    if values.ndim != 1 or len(values) == 0:
        raise AnalysisInputError("weight diagnostics need a non-empty list of weights")
    bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
    if len(bad):
        raise AnalysisInputError(
            f"weight diagnostics: weight #{bad[0] + 1} is {values[bad[0]]!r}; "
            "weights must be positive numbers"
        )
    n = len(values)
    total = float(values.sum())
    effective_n = total**2 / float(np.dot(values, values))
    mean = total / n
    return WeightDiagnostics(
        n=n,
        sum=total,
        min=float(values.min()),
        max=float(values.max()),
        kish_effective_n=effective_n,
        deff_weighting=n / effective_n,
        cv=float(np.sqrt(np.mean((values - mean) ** 2)) / mean),
    )


def final_weights(responses: pd.DataFrame, design: DesignSpec) -> pd.Series:
    """Each respondent's final weight under ``design`` (calibrated when it calibrates).

    The weights the estimates use: ``N_h / r_h`` with a stratified population, the weights
    column (or 1) otherwise, then post-stratified or raked. Indexed like ``responses``.
    """
    sample = prepare_sample(responses, design)
    return pd.Series(sample.weights, index=responses.index, name="weight")
