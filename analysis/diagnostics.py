"""Diagnostics of the weights: how much they cost in precision.

Kish (1965, §11.7): with weights ``w``, the effective sample size is
``n_eff = (sum w)^2 / sum w^2`` and the design effect due to weighting is
``deff_w = n / n_eff = 1 + cv^2``, where ``cv`` is the coefficient of variation of the
weights computed with divisor ``n`` (so that the identity is exact).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from analysis.design import AnalysisInputError, DesignSpec
from analysis.grouping import group_sums
from analysis.sample import SampleDesign, prepare_sample

TRIMMING_RATIO = 3.5
"""Weights above this multiple of the median are counted as candidates for trimming.

A common rule of thumb (Potter 1990; Valliant, Dever & Kreuter 2013, §14.4); barometre reports
them but does not trim, so that every estimate stays equal to R's without trimming."""


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


def weighting_summary(sample: SampleDesign) -> dict[str, Any]:
    """What the weighting does, for the report's method section and ``analyze``'s output.

    - ``final`` and ``base``: :func:`weight_diagnostics` of the final (calibrated) and the
      base weights ``N_h / r_h``;
    - ``strata``: per stratum, its respondents, the range of the final weights, Kish's
      effective sample size ``(sum w)^2 / sum w^2`` and design effect of weighting
      ``r_h / n_eff``;
    - ``trimming``: how many final weights exceed :data:`TRIMMING_RATIO` times their median
      (none is trimmed);
    - ``calibration`` (when the design calibrates): the method, the iterations to converge
      and, per margin level, its population count, respondents, and total of the base and of
      the final weights (equal to the count once converged).
    """
    weights = sample.weights
    n_strata = len(sample.stratum_labels)
    totals = group_sums(sample.strata, n_strata, weights)
    squares = group_sums(sample.strata, n_strata, weights**2)
    strata = []
    for code, label in enumerate(sample.stratum_labels):
        members = weights[sample.strata == code]
        effective = float(totals[code] ** 2 / squares[code])
        strata.append(
            {
                "stratum": label,
                "n": int(sample.stratum_sizes[code]),
                "min": float(members.min()),
                "max": float(members.max()),
                "kish_effective_n": effective,
                "deff_weighting": float(sample.stratum_sizes[code] / effective),
            }
        )
    median = float(np.median(weights))
    summary: dict[str, Any] = {
        "final": weight_diagnostics(weights).to_dict(),
        "base": weight_diagnostics(sample.base_weights).to_dict(),
        "strata": strata,
        "trimming": {
            "ratio": TRIMMING_RATIO,
            "median": median,
            "above": int(np.sum(weights > TRIMMING_RATIO * median)),
            "applied": False,
        },
        "calibration": None,
    }
    calibration = sample.calibration
    if calibration is not None:
        margins = []
        for margin in calibration.margins:
            base = group_sums(margin.codes, margin.size, calibration.base_weights)
            final = group_sums(margin.codes, margin.size, calibration.weights)
            counts = np.bincount(margin.codes, minlength=margin.size)
            margins.append(
                {
                    "variable": margin.variable,
                    "levels": [
                        {
                            "level": label,
                            "population": float(margin.totals[k]),
                            "respondents": int(counts[k]),
                            "base_total": float(base[k]),
                            "calibrated_total": float(final[k]),
                        }
                        for k, label in enumerate(margin.labels)
                    ],
                }
            )
        summary["calibration"] = {
            "method": calibration.method,
            "iterations": calibration.iterations,
            "converged": True,
            "margins": margins,
        }
    return summary


def unweighted_design(design: DesignSpec) -> DesignSpec:
    """The same indicators and domains with every respondent weighing 1: no strata, no
    population, no weights, no calibration (a simple random sample with replacement).

    What the report sets beside the weighted estimates to show what weighting changes;
    ``analyze`` with a design file holding only ``indicators`` (and ``by``) gives the same.
    """
    return replace(design, strata=None, population=None, weights=None, calibration=None)
