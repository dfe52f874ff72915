"""The sample design behind the respondents: strata, weights, calibration, variance.

The respondents are treated as a stratified simple random sample without replacement of
``r_h`` units out of ``N_h`` in each stratum ``h`` (response-homogeneity groups; Särndal,
Swensson & Wretman 1992, §15.6). Without a population, the base weights come from a column
(or are 1) and the variance is the with-replacement one (no finite-population correction).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.calibration import Calibration, Margin, poststratify, rake
from analysis.design import AnalysisInputError, DesignSpec
from analysis.grouping import group_sums, spread
from analysis.responses import Categories, categories, describe_row, numeric_answers

TOTALS_TOLERANCE = 1e-6
"""Relative difference tolerated between population totals (margins, strata) that must agree."""


@dataclass(frozen=True)
class SampleDesign:
    """A design applied to respondents: what the estimators and the variance need.

    ``strata`` codes each respondent's stratum (all 0 without strata); ``stratum_sizes`` is
    ``r_h``; ``sampling_fractions`` is ``r_h / N_h`` (0 without a population).
    ``categories`` holds the encoded strata, ``by`` and calibration columns.
    """

    strata: np.ndarray
    stratum_labels: tuple[str, ...]
    stratum_sizes: np.ndarray
    sampling_fractions: np.ndarray
    base_weights: np.ndarray
    calibration: Calibration | None
    categories: Mapping[str, Categories]

    @property
    def size(self) -> int:
        return len(self.strata)

    @property
    def weights(self) -> np.ndarray:
        """Final weights: calibrated if the design calibrates, base weights otherwise."""
        return self.calibration.weights if self.calibration is not None else self.base_weights

    @property
    def has_finite_population(self) -> bool:
        return bool(np.any(self.sampling_fractions > 0))

    def variance(self, linearised: np.ndarray) -> np.ndarray:
        """Variance of estimators from their linearised variables (one column each).

        ``sum_h (1 - r_h/N_h) r_h/(r_h - 1) sum_{i in h} (z_i - zbar_h)^2`` after the
        calibration projection (Wolter 2007, §6; R ``survey:::svyrecvar``).
        """
        matrix = linearised.reshape(self.size, -1)
        if self.calibration is not None:
            matrix = self.calibration.residuals(matrix)
        n_strata = len(self.stratum_labels)
        sizes = self.stratum_sizes.astype(float)
        stratum_means = group_sums(self.strata, n_strata, matrix) / sizes[:, None]
        # In place: on 10^6 units each of these matrices is large.
        deviations = spread(stratum_means, self.strata)
        np.subtract(matrix, deviations, out=deviations)
        np.square(deviations, out=deviations)
        squares = group_sums(self.strata, n_strata, deviations)
        # A stratum taken whole contributes nothing, even with one respondent (0 * 1/0).
        with np.errstate(divide="ignore", invalid="ignore"):
            factors = np.where(
                self.sampling_fractions >= 1.0,
                0.0,
                (1.0 - self.sampling_fractions) * sizes / (sizes - 1.0),
            )
        variances = factors @ squares
        return variances if linearised.ndim > 1 else variances[0]


def prepare_sample(responses: pd.DataFrame, design: DesignSpec) -> SampleDesign:
    """Check the respondents against the design and build the :class:`SampleDesign`.

    Raises
    ------
    AnalysisInputError
        For a column the design names that is missing, a stratum with a single respondent
        (unless its population is also 1: a certainty stratum, of zero variance as in R) or
        absent from ``population``, a missing or non-positive weight, or calibration
        margins that do not cover the data or whose totals disagree.
    """
    check_columns(responses, design)
    if len(responses) < 2:
        raise AnalysisInputError(
            f"the responses hold {len(responses)} respondent(s): at least 2 are needed"
        )
    encoded = {
        column: categories(responses[column])
        for column in (design.strata, *design.by, *_calibration_variables(design))
        if column is not None
    }
    strata, labels = _strata(responses, design, encoded)
    sizes = np.bincount(strata, minlength=len(labels))
    populations = _stratum_populations(design, labels, sizes)
    # A stratum of one respondent out of a population of one (a certainty stratum) has no
    # sampling variance: R's svyrecvar gives it zero, as it does any stratum taken whole.
    certain = (
        populations == sizes if populations is not None else np.zeros(len(labels), dtype=bool)
    )
    lonely = [
        label
        for label, size, whole in zip(labels, sizes, certain, strict=True)
        if size == 1 and not whole
    ]
    if lonely:
        if design.strata is None:
            where = "the sample has"
        elif len(lonely) == 1:
            where = f"column {design.strata!r}: stratum {lonely[0]!r} has"
        else:
            where = f"column {design.strata!r}: strata {', '.join(map(repr, lonely))} each have"
        raise AnalysisInputError(
            f"{where} a single respondent: the variance cannot be estimated; "
            "merge such a stratum with a neighbouring one"
        )
    if populations is not None:
        fractions = sizes / populations
        base_weights = (populations / sizes)[strata]
    else:
        fractions = np.zeros(len(labels))
        base_weights = _base_weights(responses, design)
    calibration = _calibrate(responses, design, base_weights, encoded)
    return SampleDesign(strata, labels, sizes, fractions, base_weights, calibration, encoded)


def _calibration_variables(design: DesignSpec) -> tuple[str, ...]:
    return design.calibration.variables if design.calibration is not None else ()


def check_columns(responses: pd.DataFrame, design: DesignSpec) -> None:
    """Raise if a column the design names is missing from the responses."""
    missing = {
        column: roles
        for column, roles in design.column_roles().items()
        if column not in responses.columns
    }
    if missing:
        details = "; ".join(f"{column!r} ({', '.join(roles)})" for column, roles in missing.items())
        available = ", ".join(map(repr, map(str, responses.columns)))
        raise AnalysisInputError(
            f"the responses have no column {details}; the columns are: {available}"
        )


def _strata(
    responses: pd.DataFrame, design: DesignSpec, encoded: Mapping[str, Categories]
) -> tuple[np.ndarray, tuple[str, ...]]:
    if design.strata is None:
        return np.zeros(len(responses), dtype=np.int64), ("(whole sample)",)
    strata = encoded[design.strata]
    _reject_missing(strata.codes, responses, design.strata, "stratum", design)
    return strata.codes, strata.labels


def _reject_missing(
    codes: np.ndarray, responses: pd.DataFrame, column: str, what: str, design: DesignSpec
) -> None:
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        others = f" ({len(missing) - 1} other row(s) too)" if len(missing) > 1 else ""
        raise AnalysisInputError(
            f"column {column!r}, {describe_row(responses, int(missing[0]), design.id)}: "
            f"the {what} is blank{others}; every respondent needs one"
        )


def _stratum_populations(
    design: DesignSpec, labels: tuple[str, ...], sizes: np.ndarray
) -> np.ndarray | None:
    if design.population is None:
        return None
    if design.strata is None:
        populations = np.array([design.population_total])
        where = "'population'"
    else:
        known = design.stratum_populations
        absent = [label for label in labels if label not in known]
        if absent:
            raise AnalysisInputError(
                f"stratum {', '.join(map(repr, absent))} of column {design.strata!r} is in "
                f"the responses but not in 'population' (which has "
                f"{', '.join(map(repr, known))})"
            )
        populations = np.array([known[label] for label in labels])
        where = "'population'"
    too_small = [
        (label, population, size)
        for label, population, size in zip(labels, populations, sizes, strict=True)
        if population < size
    ]
    if too_small:
        label, population, size = too_small[0]
        stratum = "" if design.strata is None else f" of stratum {label!r}"
        raise AnalysisInputError(
            f"{where}{stratum} is {population:g}, fewer than its {size} respondents"
        )
    return populations


def _base_weights(responses: pd.DataFrame, design: DesignSpec) -> np.ndarray:
    if design.weights is None:
        return np.ones(len(responses))
    weights = numeric_answers(responses, design.weights, design.id)
    bad = np.flatnonzero(~(weights > 0))
    if len(bad):
        first = int(bad[0])
        value = weights[first]
        problem = "is blank" if np.isnan(value) else f"is {value:g}"
        others = f" ({len(bad) - 1} other row(s) too)" if len(bad) > 1 else ""
        raise AnalysisInputError(
            f"column {design.weights!r} (weights), "
            f"{describe_row(responses, first, design.id)}: the weight {problem}; "
            f"weights must be positive numbers{others}"
        )
    return weights


def _calibrate(
    responses: pd.DataFrame,
    design: DesignSpec,
    base_weights: np.ndarray,
    encoded: Mapping[str, Categories],
) -> Calibration | None:
    if design.calibration is None:
        return None
    margins = tuple(
        _margin(responses, design, variable, encoded[variable], dict(counts))
        for variable, counts in design.calibration.margins
    )
    _check_totals(design, margins)
    if design.calibration.method == "poststratify":
        return poststratify(base_weights, margins[0])
    return rake(base_weights, margins, max_iterations=design.calibration.max_iterations)


def _margin(
    responses: pd.DataFrame,
    design: DesignSpec,
    variable: str,
    cells: Categories,
    counts: dict[str, float],
) -> Margin:
    _reject_missing(cells.codes, responses, variable, "calibration cell", design)
    uncovered = [label for label in cells.labels if label not in counts]
    if uncovered:
        raise AnalysisInputError(
            f"calibration margin {variable!r} has no population count for level(s) "
            f"{', '.join(map(repr, uncovered))} found in the responses "
            f"(the margin gives {', '.join(map(repr, counts))})"
        )
    empty = [label for label in counts if label not in cells.labels]
    if empty:
        raise AnalysisInputError(
            f"calibration margin {variable!r} gives a population count for level(s) "
            f"{', '.join(map(repr, empty))} but no respondent has it: merge it with "
            "another level"
        )
    totals = np.array([counts[label] for label in cells.labels])
    return Margin(variable, cells.codes, cells.labels, totals)


def _check_totals(design: DesignSpec, margins: tuple[Margin, ...]) -> None:
    totals = {margin.variable: math.fsum(margin.totals) for margin in margins}
    reference_name, reference = next(iter(totals.items()))
    for variable, total in totals.items():
        if not math.isclose(total, reference, rel_tol=TOTALS_TOLERANCE):
            raise AnalysisInputError(
                f"calibration margins disagree: {reference_name!r} adds up to {reference:g} "
                f"but {variable!r} adds up to {total:g}"
            )
    population = design.population_total
    if population is not None and not math.isclose(reference, population, rel_tol=TOTALS_TOLERANCE):
        raise AnalysisInputError(
            f"calibration margin {reference_name!r} adds up to {reference:g} but "
            f"'population' adds up to {population:g}"
        )
