"""How representative the response is: response rates by frame variable and R-indicators.

The input is the *sample*, not the respondents: one row per sampled unit (every invitation),
with its stratum, its frame variables (segment, channel, language…) and whether it responded.
Nothing here needs the answers, so an auditor reproduces it from the export's sample file.

Response rates by variable
    The design-weighted share of sampled units that responded, in each level of each
    variable, with its Taylor-linearised standard error and logit interval on Student's t.
    It is ``analysis.analyze`` itself, run on the sample with the indicator
    ``responded in [1]`` and the variables as domains, so it equals R's
    ``svyciprop(~responded, subset(svydesign(ids = ~1, strata = ~stratum, fpc = ~N,
    data = sample), level), method = "logit")``.

R-indicator (Schouten, Cobben & Bethlehem 2009, *Survey Methodology* 35(1), 101–113)
    Response propensities ``rho_i`` are estimated by a logistic regression of the response
    indicator on the frame variables (main effects, one dummy per level but the first),
    fitted over all sampled units with their design weights ``d_i`` as the pseudo-likelihood
    weights (R: ``glm(responded ~ ..., family = binomial, weights = d)``). Then, with
    ``N = sum d``::

        rho_bar = sum d rho / N
        S(rho)  = sqrt( sum d (rho - rho_bar)^2 / (N - 1) )
        R       = 1 - 2 S(rho)
        CV      = S(rho) / rho_bar = (1 - R) / (2 rho_bar)

    R = 1 is a response as representative as a random half of the sample; the lower, the
    more response depends on the variables. ``CV`` is also the maximal absolute bias of
    the respondents' unweighted mean of any variable, in its standard deviations (Schouten et
    al. 2009, §3: ``|B_max| = (1 - R) S_y / (2 rho_bar)``). The standard error of R is a
    stratified bootstrap, as in the paper's §4: each replicate redraws, within each stratum,
    as many units as it holds, with replacement, refits the model and recomputes R. The
    model's variables being categorical, a replicate is a multinomial draw over the stratum's
    (cell, response) counts: the same distribution as redrawing units, at the cost of the
    cells rather than the units.

Partial R-indicators (Schouten, Shlomo & Skinner 2011, *Journal of Official Statistics*
27(2), 231–253), from the same propensities:

- unconditional, for variable ``X`` with levels ``h``:
  ``P_u(X, h) = sqrt(N_h / N) (rho_bar_h - rho_bar)`` (signed: negative when the level
  responds less than the sample as a whole) and
  ``P_u(X) = sqrt( sum_h N_h (rho_bar_h - rho_bar)^2 / N )``, the between-level standard
  deviation of the propensities;
- conditional, given the other variables (cells ``l`` of their cross-classification):
  ``P_c(X) = sqrt( sum_l sum_{i in l} d_i (rho_i - rho_bar_l)^2 / (N - 1) )``, what ``X``
  adds once the others are known, and ``P_c(X, h)`` the same sum over the units of level
  ``h`` only.

The bias-adjusted R-indicator of Shlomo, Skinner & Schouten (2012) is not computed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.design import AnalysisInputError, IndicatorSpec, parse_design
from analysis.estimation import analyze
from analysis.grouping import group_sums

BOOTSTRAP_REPLICATES = 500
"""Replicates of the bootstrap standard error of R."""

BOOTSTRAP_SEED = 20090601
"""Seed of the bootstrap (the paper's publication month), so that a report is reproducible."""

RESPONDED = "responded"
"""Column of the sample file: 1 for a sampled unit that responded, 0 otherwise."""

RESPONSE_INDICATOR = "response_rate"


@dataclass(frozen=True)
class LevelRate:
    """The response rate of one level of one frame variable."""

    variable: str
    level: str
    sampled: int
    responded: int
    rate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PartialIndicator:
    """Unconditional and conditional partial R-indicators of one variable and its levels."""

    variable: str
    unconditional: float
    conditional: float | None
    levels: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "unconditional": self.unconditional,
            "conditional": self.conditional,
            "levels": [dict(level) for level in self.levels],
        }


@dataclass(frozen=True)
class RIndicator:
    """The R-indicator of a response, its standard error and its partial indicators."""

    variables: tuple[str, ...]
    n: int
    respondents: int
    population: float
    mean_propensity: float
    sd_propensity: float
    r: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    cv: float
    replicates: int
    seed: int
    partial: tuple[PartialIndicator, ...] = field(default=())
    model: dict[str, float] = field(default_factory=dict)
    converged: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "variables": list(self.variables),
            "n": self.n,
            "respondents": self.respondents,
            "population": self.population,
            "mean_propensity": self.mean_propensity,
            "sd_propensity": self.sd_propensity,
            "r": self.r,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "cv": self.cv,
            "bootstrap": {"replicates": self.replicates, "seed": self.seed},
            "converged": self.converged,
            "model": dict(self.model),
            "partial": [partial.to_dict() for partial in self.partial],
        }


@dataclass(frozen=True)
class _Cells:
    """The sample grouped by stratum x cell of the variables (a cell: one level of each)."""

    variables: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]  # per variable, its levels
    cell_levels: np.ndarray  # cells x variables: each cell's level code per variable
    stratum_of: np.ndarray  # groups: stratum code
    cell_of: np.ndarray  # groups: cell code
    units: np.ndarray  # groups: sampled units
    responses: np.ndarray  # groups: responding units
    weights: np.ndarray  # groups: design weight of one unit (constant within a stratum)

    @property
    def n_cells(self) -> int:
        return len(self.cell_levels)


def _text(column: pd.Series, variable: str) -> pd.Series:
    if column.isna().any():
        raise AnalysisInputError(
            f"sample column {variable!r} has {int(column.isna().sum())} blank value(s): "
            "write the missing level as a level of its own, e.g. '(none)'"
        )
    if pd.api.types.is_float_dtype(column):
        return column.map(_level_text)
    # Text or whole numbers: one conversion of the column rather than one call per row.
    return column.astype(str)


def _level_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _response_flags(sample: pd.DataFrame, responded: str) -> np.ndarray:
    if responded not in sample.columns:
        raise AnalysisInputError(f"the sample has no column {responded!r} (1 responded, 0 not)")
    flags = pd.to_numeric(sample[responded], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isin(flags, (0.0, 1.0)))
    if len(bad):
        raise AnalysisInputError(
            f"sample column {responded!r}, row {bad[0] + 2}: {sample[responded].iloc[bad[0]]!r} "
            "is not 0 or 1"
        )
    return flags


def design_weights(
    sample: pd.DataFrame, strata: str | None, population: Mapping[str, float] | None
) -> np.ndarray:
    """``d_i = N_h / n_h`` per stratum, or 1 for every unit without a population.

    Raises
    ------
    AnalysisInputError
        When a stratum of the sample has no population count.
    """
    if strata is None or not population:
        return np.ones(len(sample))
    labels = _text(sample[strata], strata)
    counts = labels.value_counts()
    missing = sorted(set(counts.index) - set(map(str, population)))
    if missing:
        raise AnalysisInputError(
            f"stratum {missing[0]!r} of the sample is not in the design's 'population'"
        )
    sizes = {str(key): float(value) for key, value in population.items()}
    per_stratum = {label: sizes[label] / count for label, count in counts.items()}
    return labels.map(per_stratum).to_numpy(dtype=float)


def _cells(
    sample: pd.DataFrame,
    variables: Sequence[str],
    flags: np.ndarray,
    weights: np.ndarray,
    strata: str | None,
) -> _Cells:
    missing = [variable for variable in variables if variable not in sample.columns]
    if missing:
        raise AnalysisInputError(
            f"the sample has no column {', '.join(map(repr, missing))}; its columns are "
            f"{', '.join(map(repr, map(str, sample.columns)))}"
        )
    codes, labels = [], []
    for variable in variables:
        categorical = pd.Categorical(_text(sample[variable], variable))
        codes.append(categorical.codes.astype(np.int64))
        labels.append(tuple(str(level) for level in categorical.categories))
    sizes = tuple(len(level_labels) for level_labels in labels)
    joint = np.ravel_multi_index(tuple(codes), sizes) if variables else np.zeros(len(sample), int)
    present, cell_codes = np.unique(joint, return_inverse=True)
    cell_levels = (
        np.column_stack(np.unravel_index(present, sizes)) if variables else np.zeros((1, 0), int)
    )
    stratum_codes = (
        pd.Categorical(_text(sample[strata], strata)).codes.astype(np.int64)
        if strata is not None
        else np.zeros(len(sample), dtype=np.int64)
    )
    n_cells = len(present)
    group = stratum_codes * n_cells + cell_codes
    groups, group_codes = np.unique(group, return_inverse=True)
    units = np.bincount(group_codes).astype(float)
    responses = np.bincount(group_codes, weights=flags)
    first = np.zeros(len(groups), dtype=np.int64)
    first[group_codes[::-1]] = np.arange(len(group_codes))[::-1]
    return _Cells(
        variables=tuple(variables),
        labels=tuple(labels),
        cell_levels=cell_levels,
        stratum_of=groups // n_cells,
        cell_of=groups % n_cells,
        units=units,
        responses=responses,
        weights=weights[first],
    )


def _model_matrix(cells: _Cells) -> tuple[np.ndarray, list[str]]:
    """Intercept and one dummy per level but the first of each variable (R's treatment coding)."""
    columns = [np.ones(cells.n_cells)]
    names = ["(Intercept)"]
    for m, variable in enumerate(cells.variables):
        for code, label in enumerate(cells.labels[m]):
            if code == 0:
                continue
            columns.append((cells.cell_levels[:, m] == code).astype(float))
            names.append(f"{variable}{label}")
    return np.column_stack(columns), names


def _fit_propensities(
    design_matrix: np.ndarray, weighted_units: np.ndarray, weighted_responses: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Weighted logistic regression on cells: each cell's propensity, the coefficients.

    Fitting cell shares with the cell's total design weight as variance weight maximises
    the same pseudo-likelihood as fitting every unit with its design weight.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        DomainWarning,
        PerfectSeparationWarning,
    )

    keep = weighted_units > 0
    shares = np.divide(
        weighted_responses, weighted_units, out=np.zeros_like(weighted_units), where=keep
    )
    matrix = design_matrix[keep]
    # Dummies of levels absent from the kept cells (a replicate can lose a rare level) are
    # dropped, as R's glm drops aliased columns.
    used = np.flatnonzero(matrix.any(axis=0))
    rank_ok = np.linalg.matrix_rank(matrix[:, used]) == len(used)
    if not rank_ok:  # pragma: no cover - categorical main effects with an intercept
        raise AnalysisInputError("the propensity model's variables are collinear")
    with warnings.catch_warnings():
        for category in (ConvergenceWarning, DomainWarning, PerfectSeparationWarning):
            warnings.simplefilter("ignore", category)
        warnings.simplefilter("ignore", RuntimeWarning)
        model = sm.GLM(
            shares[keep],
            matrix[:, used],
            family=sm.families.Binomial(),
            var_weights=weighted_units[keep],
        )
        fitted = model.fit(tol=1e-12, maxiter=100)
    coefficients = np.zeros(design_matrix.shape[1])
    coefficients[used] = fitted.params
    linear = design_matrix[:, used] @ fitted.params
    converged = bool(fitted.converged)
    return 1.0 / (1.0 + np.exp(-linear)), coefficients, converged


def _r_value(propensity: np.ndarray, weight: np.ndarray) -> tuple[float, float, float]:
    """(R, mean propensity, standard deviation of the propensities) from cell values."""
    total = float(weight.sum())
    mean = float(weight @ propensity) / total
    variance = float(weight @ (propensity - mean) ** 2) / (total - 1.0)
    sd = math.sqrt(max(variance, 0.0))
    return 1.0 - 2.0 * sd, mean, sd


def r_indicator(
    sample: pd.DataFrame,
    variables: Sequence[str],
    *,
    responded: str = RESPONDED,
    strata: str | None = None,
    population: Mapping[str, float] | None = None,
    confidence: float = 0.95,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = BOOTSTRAP_SEED,
) -> RIndicator:
    """The R-indicator of the response and its partial indicators (see the module).

    Parameters
    ----------
    sample
        One row per sampled unit: ``responded`` (0/1), the ``variables`` and ``strata``.
    variables
        Frame variables of the propensity model (categorical).
    strata, population
        The stratum column and each stratum's population ``N_h``: the design weights are
        ``N_h / n_h``. Without them every unit weighs 1 and the bootstrap is unstratified.
    replicates, seed
        The bootstrap of the standard error (0 replicates: no standard error).

    Returns
    -------
    RIndicator
        ``r = 1 - 2 S(rho)`` with ``se`` and the normal interval ``r ± z se``, the
        coefficient of variation ``S / rho_bar`` (the maximal standardised bias), the
        model's coefficients and the partial indicators.

    Raises
    ------
    AnalysisInputError
        Without variables, without respondents or non-respondents, or for a bad column.

    References
    ----------
    Schouten, B., Cobben, F. & Bethlehem, J. (2009). Indicators for the representativeness
    of survey response. *Survey Methodology*, 35(1), 101–113.
    Schouten, B., Shlomo, N. & Skinner, C. (2011). Indicators for monitoring and improving
    representativeness of response. *Journal of Official Statistics*, 27(2), 231–253.
    """
    if not variables:
        raise AnalysisInputError("the R-indicator needs at least one frame variable")
    flags = _response_flags(sample, responded)
    if flags.sum() == 0 or flags.sum() == len(flags):
        raise AnalysisInputError(
            "the R-indicator needs both respondents and non-respondents in the sample "
            f"({int(flags.sum())} of {len(flags)} responded)"
        )
    weights = design_weights(sample, strata, population)
    cells = _cells(sample, variables, flags, weights, strata)
    design_matrix, names = _model_matrix(cells)
    weighted_units = group_sums(cells.cell_of, cells.n_cells, cells.units * cells.weights)
    weighted_responses = group_sums(cells.cell_of, cells.n_cells, cells.responses * cells.weights)
    propensity, coefficients, converged = _fit_propensities(
        design_matrix, weighted_units, weighted_responses
    )
    r, mean, sd = _r_value(propensity, weighted_units)
    se = low = high = None
    if replicates > 0:
        values = _bootstrap(cells, design_matrix, replicates, seed, coefficients)
        se = float(np.std(values, ddof=1))
        from scipy import special

        z = float(special.ndtri(0.5 + confidence / 2))
        low, high = r - z * se, r + z * se
    return RIndicator(
        variables=tuple(variables),
        n=len(sample),
        respondents=int(flags.sum()),
        population=float(weighted_units.sum()),
        mean_propensity=mean,
        sd_propensity=sd,
        r=r,
        se=se,
        ci_low=low,
        ci_high=high,
        cv=sd / mean,
        replicates=replicates,
        seed=seed,
        partial=tuple(
            _partial(cells, m, propensity, weighted_units, mean) for m in range(len(variables))
        ),
        model=dict(zip(names, coefficients.tolist(), strict=True)),
        converged=converged,
    )


def _bootstrap(
    cells: _Cells, design_matrix: np.ndarray, replicates: int, seed: int, start: np.ndarray
) -> np.ndarray:
    """R of each stratified bootstrap replicate (multinomial draws over each stratum's groups)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    # Per group, the (responding, non-responding) units: the categories a redraw picks from.
    outcomes = np.concatenate([cells.responses, cells.units - cells.responses])
    group_index = np.concatenate([np.arange(len(cells.units))] * 2)
    responded = np.concatenate([np.ones(len(cells.units)), np.zeros(len(cells.units))])
    strata = np.concatenate([cells.stratum_of] * 2)
    by_stratum = [np.flatnonzero((strata == h) & (outcomes > 0)) for h in np.unique(strata)]
    values = np.empty(replicates)
    for b in range(replicates):
        drawn = np.zeros(len(outcomes))
        for members in by_stratum:
            size = int(outcomes[members].sum())
            drawn[members] = rng.multinomial(size, outcomes[members] / size)
        weight = cells.weights[group_index] * drawn
        units = group_sums(cells.cell_of[group_index], cells.n_cells, weight)
        responses = group_sums(cells.cell_of[group_index], cells.n_cells, weight * responded)
        propensity = _newton_propensities(design_matrix, units, responses, start)
        values[b] = _r_value(propensity, units)[0]
    return values


def _newton_propensities(
    design_matrix: np.ndarray,
    weighted_units: np.ndarray,
    weighted_responses: np.ndarray,
    start: np.ndarray,
    iterations: int = 50,
) -> np.ndarray:
    """The same weighted logistic fit as `_fit_propensities`, by Newton's method on the cells.

    A replicate's fit starts from the sample's coefficients and takes a few steps over a
    handful of cells: statsmodels' set-up would cost more than the whole fit, 500 times.
    Columns whose level no kept cell holds are left out (aliased, as R's glm drops them).
    """
    keep = weighted_units > 0
    matrix = design_matrix[keep]
    units, responses = weighted_units[keep], weighted_responses[keep]
    used = np.flatnonzero(matrix.any(axis=0))
    x = matrix[:, used]
    beta = start[used].copy()
    # A replicate can lose every respondent of a level: its coefficient runs off to -inf and
    # its propensity to 0, as R's glm would give (with a warning); exp overflowing is expected.
    np_errors = np.errstate(over="ignore")
    np_errors.__enter__()
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        gradient = x.T @ (responses - units * p)
        hessian = (x * (units * p * (1.0 - p))[:, None]).T @ x
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    propensity = 1.0 / (1.0 + np.exp(-(design_matrix[:, used] @ beta)))
    np_errors.__exit__(None, None, None)
    return propensity


def _partial(
    cells: _Cells, m: int, propensity: np.ndarray, weight: np.ndarray, mean: float
) -> PartialIndicator:
    total = float(weight.sum())
    level_of_cell = cells.cell_levels[:, m]
    n_levels = len(cells.labels[m])
    level_weight = group_sums(level_of_cell, n_levels, weight)
    with np.errstate(invalid="ignore", divide="ignore"):
        level_mean = group_sums(level_of_cell, n_levels, weight * propensity) / level_weight
    unconditional = math.sqrt(float(np.nansum(level_weight * (level_mean - mean) ** 2)) / total)
    conditional = None
    conditional_levels = np.full(n_levels, np.nan)
    if len(cells.variables) > 1:
        others = np.delete(cells.cell_levels, m, axis=1)
        _, other_cell = np.unique(others, axis=0, return_inverse=True)
        other_cell = other_cell.reshape(-1)
        n_other = int(other_cell.max()) + 1
        other_weight = group_sums(other_cell, n_other, weight)
        other_mean = group_sums(other_cell, n_other, weight * propensity) / other_weight
        squares = weight * (propensity - other_mean[other_cell]) ** 2
        conditional = math.sqrt(float(squares.sum()) / (total - 1.0))
        conditional_levels = np.sqrt(group_sums(level_of_cell, n_levels, squares) / (total - 1.0))
    levels = []
    for code, label in enumerate(cells.labels[m]):
        share = float(level_weight[code]) / total
        levels.append(
            {
                "level": label,
                "population_share": share,
                "mean_propensity": float(level_mean[code]),
                "unconditional": math.sqrt(share) * float(level_mean[code] - mean),
                "conditional": None if conditional is None else float(conditional_levels[code]),
            }
        )
    return PartialIndicator(cells.variables[m], unconditional, conditional, tuple(levels))


def response_rates(
    sample: pd.DataFrame,
    variables: Sequence[str],
    *,
    responded: str = RESPONDED,
    strata: str | None = None,
    population: Mapping[str, float] | None = None,
    confidence: float = 0.95,
) -> list[LevelRate]:
    """Design-weighted response rate of every level of every variable, with its interval.

    ``analysis.analyze`` on the sample: the proportion of ``responded`` in ``[1]`` with the
    variables as domains (logit interval on Student's t; see the module). The first row is
    the whole sample (``variable`` and ``level`` empty).

    Raises
    ------
    AnalysisInputError
        For a bad column or stratum (as :func:`analysis.analyze`).
    """
    flags = _response_flags(sample, responded)
    table = pd.DataFrame({RESPONDED: flags})
    columns = list(dict.fromkeys([*variables, *([strata] if strata else [])]))
    for column in columns:
        if column not in sample.columns:
            raise AnalysisInputError(f"the sample has no column {column!r}")
        table[column] = _text(sample[column], column).to_numpy(dtype=object)
    mapping: dict[str, Any] = {
        "confidence": confidence,
        "indicators": [
            IndicatorSpec(RESPONSE_INDICATOR, "proportion", RESPONDED, (1.0,)).to_mapping()
        ],
        "by": list(variables),
    }
    if strata is not None:
        mapping["strata"] = strata
        if population:
            mapping["population"] = {str(k): float(v) for k, v in population.items()}
    result = analyze(table, parse_design(mapping))
    counts: dict[tuple[str, str], tuple[int, int]] = {("", ""): (len(flags), int(flags.sum()))}
    for variable in variables:
        for level, group in table.groupby(variable, sort=False)[RESPONDED]:
            counts[(variable, str(level))] = (len(group), int(group.sum()))
    rates = []
    for estimate in result.estimates:
        key = (
            ("", "")
            if estimate.domain is None
            else next((name, _level_text(value)) for name, value in estimate.domain.items())
        )
        sampled, answered = counts[key]
        rates.append(
            LevelRate(
                variable=key[0],
                level=key[1],
                sampled=sampled,
                responded=answered,
                rate=estimate.estimate,
                se=estimate.se,
                ci_low=estimate.ci_low,
                ci_high=estimate.ci_high,
            )
        )
    return rates
