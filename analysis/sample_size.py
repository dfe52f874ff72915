"""Sample sizes for the campaign planner.

How many customers must answer, and how many must be invited, for the satisfaction rate to be
known within a given margin of error; how to share them between strata; what margin to expect
from given sizes.

The planner and the estimation engine must agree: a plan that promises ±3 points must give ±3
points when the engine computes the interval on the answers. The engine treats respondents as a
stratified simple random sample without replacement of ``r_h`` out of ``N_h`` and estimates a
proportion with variance

.. math::

    \\hat V(\\hat p) = \\sum_h W_h^2 \\left(1 - \\frac{r_h}{N_h}\\right) \\frac{s_h^2}{r_h},
    \\qquad W_h = N_h / N,

where ``s_h²`` is the sample variance with the ``r_h − 1`` divisor, so that a stratum whose
sample proportion is ``p_h`` has ``s_h² = r_h p_h (1 − p_h) / (r_h − 1)``; its intervals use
Student's t with ``r − H`` degrees of freedom. :func:`expected_stratified_margin` is exactly
that formula evaluated at the planned sizes and the assumed proportion, times the expected
design effect, and :func:`plan_sample` searches the smallest total whose expected margin meets
the target. Cochran's closed form (:func:`respondents_for_margin`) uses the normal quantile and
the ``n`` divisor; it is the planner's starting point and is reported for reference, but it can
fall a few respondents short of the engine's interval.

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed. Wiley. §4.4 (sample size for
proportions, finite-population correction), §5.5 (proportional allocation), §5.9 (Neyman
allocation).

Krejcie, R. V. and Morgan, D. W. (1970). Determining sample size for research activities.
*Educational and Psychological Measurement* 30, 607–610 (the table of Cochran's sizes).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analysis.design import AnalysisInputError

Allocation = Literal["proportional", "neyman", "equal"]
ALLOCATIONS: tuple[str, ...] = ("proportional", "neyman", "equal")

#: A stratum estimate needs two respondents for its sample variance (``r_h − 1`` divisor);
#: the planner never plans fewer in a stratum that is not taken whole.
MIN_RESPONDENTS_FOR_VARIANCE = 2

#: Prior standard deviation of a satisfied/not satisfied answer in the worst case p = 0.5.
WORST_CASE_SD = 0.5

# A ratio such as 300 / 0.3 evaluates to 1000.0000000000001 in binary floating point; without
# this tolerance, ceil() would ask for one invitation too many.
_CEIL_TOLERANCE = 1e-9


@dataclass(frozen=True)
class StratumPlan:
    """What to do in one stratum.

    Attributes
    ----------
    stratum : str
        The stratum's name.
    population : int
        Customers in the stratum's frame, ``N_h``.
    respondents : int
        Respondents needed, ``r_h``.
    invitations : int
        Customers to invite, ``min(ceil(r_h / rr), N_h)``.
    invitations_capped : bool
        True when ``ceil(r_h / rr)`` exceeded ``N_h``: even inviting every customer of the
        stratum is not expected to yield ``r_h`` respondents at the assumed response rate.
    expected_margin : float
        Half-width of the interval of the stratum's own proportion if ``r_h`` customers answer.
    """

    stratum: str
    population: int
    respondents: int
    invitations: int
    invitations_capped: bool
    expected_margin: float


@dataclass(frozen=True)
class SamplePlan:
    """A campaign's sampling plan, as :func:`plan_sample` computes it.

    Attributes
    ----------
    strata : tuple of StratumPlan
        One entry per stratum, in the order of the input mapping.
    allocation : str
        ``"proportional"``, ``"neyman"`` or ``"equal"``.
    target_margin, confidence, response_rate, deff, proportion : float
        The planner's inputs.
    min_per_stratum : int
        The minimum asked for (the plan never goes below two respondents per stratum that is
        not taken whole, whatever this says).
    cochran_respondents : int
        Cochran's closed-form size for the whole population, for reference.
    expected_margin : float
        Half-width of the overall interval expected with the planned respondents, computed as
        the estimation engine will compute it (see the module's docstring).
    """

    strata: tuple[StratumPlan, ...]
    allocation: str
    target_margin: float
    confidence: float
    response_rate: float
    deff: float
    proportion: float
    min_per_stratum: int
    cochran_respondents: int
    expected_margin: float

    @property
    def population(self) -> int:
        """Customers in the frame, ``N``."""
        return sum(stratum.population for stratum in self.strata)

    @property
    def respondents(self) -> int:
        """Respondents needed over all strata."""
        return sum(stratum.respondents for stratum in self.strata)

    @property
    def invitations(self) -> int:
        """Customers to invite over all strata."""
        return sum(stratum.invitations for stratum in self.strata)

    @property
    def invitations_capped(self) -> bool:
        """True when at least one stratum cannot be expected to reach its respondents."""
        return any(stratum.invitations_capped for stratum in self.strata)

    def to_frame(self) -> pd.DataFrame:
        """One row per stratum, indexed by stratum name."""
        return pd.DataFrame([asdict(stratum) for stratum in self.strata]).set_index("stratum")

    def as_dict(self) -> dict:
        """A JSON-serialisable dictionary, totals included."""
        plan = asdict(self)
        plan["strata"] = [asdict(stratum) for stratum in self.strata]
        plan.update(
            population=self.population,
            respondents=self.respondents,
            invitations=self.invitations,
            invitations_capped=self.invitations_capped,
        )
        return plan


# --------------------------------------------------------------------------------------------
# Checks


def _check_open_unit_interval(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise AnalysisInputError(f"{name} must be a number strictly between 0 and 1, got {value!r}",
                                 "not_a_fraction", name=name, value=value)
    return float(value)


def _check_response_rate(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= 1:
        raise AnalysisInputError(
            f"response_rate must be a number in (0, 1] (0.3 for 30 %), got {value!r}",
            "bad_response_rate", value=value,
        )
    return float(value)


def _check_deff(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise AnalysisInputError(f"deff must be a positive number (1 for none), got {value!r}")
    if not math.isfinite(value):
        raise AnalysisInputError(f"deff must be finite, got {value!r}")
    return float(value)


def _check_count(name: str, value: int, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise AnalysisInputError(f"{name} must be an integer >= {minimum}, got {value!r}",
                                 "count_too_small", name=name, minimum=minimum, value=value)
    return int(value)


def _check_strata_sizes(strata_sizes: Mapping[str, int]) -> tuple[list[str], np.ndarray]:
    if not isinstance(strata_sizes, Mapping) or not strata_sizes:
        raise AnalysisInputError(
            "strata_sizes must be a non-empty mapping of stratum name to population size",
            "no_strata",
        )
    names = [str(name) for name in strata_sizes]
    sizes = [
        _check_count(f"population of stratum {name!r}", size, minimum=1)
        for name, size in strata_sizes.items()
    ]
    return names, np.array(sizes, dtype=np.int64)


def _strata_values(
    name: str, values: Mapping[str, int], strata: list[str], *, minimum: int
) -> np.ndarray:
    missing = [stratum for stratum in strata if stratum not in values]
    if missing:
        raise AnalysisInputError(f"{name} has no value for strata {missing}",
                                 "strata_without_value", name=name, strata=", ".join(missing))
    return np.array(
        [
            _check_count(f"{name}[{stratum!r}]", values[stratum], minimum=minimum)
            for stratum in strata
        ],
        dtype=np.int64,
    )


def _z_quantile(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


# --------------------------------------------------------------------------------------------
# Sizes


def respondents_for_margin(
    margin: float,
    confidence: float = 0.95,
    population: int | None = None,
    proportion: float = 0.5,
    deff: float = 1.0,
) -> int:
    """Respondents needed for a proportion to be known within ``±margin`` (Cochran's formula).

    .. math::

        n_0 = \\frac{z^2\\, p (1 - p)\\, \\mathrm{deff}}{e^2}, \\qquad
        n = \\frac{n_0}{1 + (n_0 - 1) / N}

    with ``z`` the normal quantile of order ``(1 + confidence) / 2``, rounded up, and never more
    than ``N``.

    Parameters
    ----------
    margin : float
        Target half-width ``e`` of the interval, as a proportion (0.03 for ±3 points).
    confidence : float
        Confidence level of the interval.
    population : int, optional
        Population size ``N``; None for an infinite population (no correction).
    proportion : float
        Expected proportion ``p``; 0.5, the default, is the worst case.
    deff : float
        Expected design effect of weighting and calibration.

    Returns
    -------
    int

    References
    ----------
    Cochran (1977), *Sampling Techniques*, 3rd ed., eq. (4.1) and (4.2), §4.4.

    Examples
    --------
    >>> respondents_for_margin(0.05, 0.95, population=1000)
    278
    """
    margin = _check_open_unit_interval("margin", margin)
    confidence = _check_open_unit_interval("confidence", confidence)
    proportion = _check_open_unit_interval("proportion", proportion)
    deff = _check_deff(deff)
    n0 = _z_quantile(confidence) ** 2 * proportion * (1 - proportion) * deff / margin**2
    if population is None:
        return math.ceil(n0 - _CEIL_TOLERANCE)
    population = _check_count("population", population, minimum=1)
    n = n0 / (1 + (n0 - 1) / population)
    return min(math.ceil(n - _CEIL_TOLERANCE), population)


def invitations_for_respondents(respondents: int, response_rate: float) -> int:
    """Invitations needed to expect ``respondents`` answers: ``ceil(respondents / rr)``.

    Parameters
    ----------
    respondents : int
        Respondents needed.
    response_rate : float
        Expected share of invited customers who answer, in (0, 1].

    Returns
    -------
    int
        Not capped by any population size (see :func:`plan_sample` for that).
    """
    respondents = _check_count("respondents", respondents, minimum=0)
    response_rate = _check_response_rate(response_rate)
    return math.ceil(respondents / response_rate - _CEIL_TOLERANCE)


def _stratum_variance_terms(
    respondents: np.ndarray, population: np.ndarray, proportions: np.ndarray
) -> np.ndarray:
    """``W_h² (1 − r_h/N_h) p_h(1 − p_h) / (r_h − 1)``, zero for a stratum taken whole."""
    weights = population / population.sum()
    terms = np.zeros(len(respondents))
    sampled = respondents < population
    terms[sampled] = (
        weights[sampled] ** 2
        * (1 - respondents[sampled] / population[sampled])
        * proportions[sampled]
        * (1 - proportions[sampled])
        / (respondents[sampled] - 1)
    )
    return terms


def _margin_from_variance(variance: float, df: int, confidence: float) -> float:
    if variance == 0:
        return 0.0
    return float(stats.t.ppf(0.5 + confidence / 2, df) * math.sqrt(variance))


def _stratified_margin(
    respondents: np.ndarray,
    population: np.ndarray,
    proportions: np.ndarray,
    confidence: float,
    deff: float,
) -> float:
    variance = deff * _stratum_variance_terms(respondents, population, proportions).sum()
    return _margin_from_variance(variance, int(respondents.sum()) - len(respondents), confidence)


def _check_enough_respondents(strata: list[str], respondents: np.ndarray, population: np.ndarray):
    short = [
        stratum
        for stratum, r, n in zip(strata, respondents, population, strict=True)
        if r < MIN_RESPONDENTS_FOR_VARIANCE and r < n
    ]
    if short:
        raise AnalysisInputError(
            f"strata {short} have fewer than {MIN_RESPONDENTS_FOR_VARIANCE} respondents and are "
            "not taken whole: their variance, hence the margin, is not defined"
        )


def expected_margin(
    respondents: int,
    population: int | None = None,
    proportion: float = 0.5,
    confidence: float = 0.95,
    deff: float = 1.0,
) -> float:
    """Margin of error expected when ``respondents`` customers out of ``population`` answer.

    As the estimation engine computes it for a simple random sample without replacement:

    .. math::

        e = t_{(1 + \\gamma)/2,\\; r - 1}
            \\sqrt{\\mathrm{deff}\\, \\left(1 - \\frac{r}{N}\\right) \\frac{p(1 - p)}{r - 1}}

    (``r/N`` is 0 without a population; ``e`` is 0 when every customer answers).

    Parameters
    ----------
    respondents : int
        Respondents ``r``, at least 2 unless the population is taken whole.
    population : int, optional
        Population size ``N``; None for no finite-population correction.
    proportion : float
        Assumed proportion ``p``, 0.5 by default (the widest interval).
    confidence : float
        Confidence level ``γ``.
    deff : float
        Expected design effect.

    Returns
    -------
    float
    """
    proportion = _check_open_unit_interval("proportion", proportion)
    confidence = _check_open_unit_interval("confidence", confidence)
    deff = _check_deff(deff)
    if population is None:
        respondents = _check_count("respondents", respondents, minimum=MIN_RESPONDENTS_FOR_VARIANCE)
        variance = deff * proportion * (1 - proportion) / (respondents - 1)
        return _margin_from_variance(variance, respondents - 1, confidence)
    population = _check_count("population", population, minimum=1)
    respondents = _check_count("respondents", respondents, minimum=0)
    if respondents > population:
        raise AnalysisInputError(
            f"respondents ({respondents}) cannot exceed the population ({population})"
        )
    if respondents < MIN_RESPONDENTS_FOR_VARIANCE and respondents < population:
        raise AnalysisInputError(
            f"respondents must be at least {MIN_RESPONDENTS_FOR_VARIANCE} unless the whole "
            f"population answers, got {respondents}"
        )
    return _stratified_margin(
        np.array([respondents]), np.array([population]), np.array([proportion]), confidence, deff
    )


def expected_stratified_margin(
    respondents: Mapping[str, int],
    population: Mapping[str, int],
    proportion: float | Mapping[str, float] = 0.5,
    confidence: float = 0.95,
    deff: float = 1.0,
) -> float:
    """Margin of error expected for a stratified proportion, as the estimation engine computes it.

    .. math::

        e = t_{(1 + \\gamma)/2,\\; r - H}
            \\sqrt{\\mathrm{deff} \\sum_h W_h^2 \\left(1 - \\frac{r_h}{N_h}\\right)
                   \\frac{p_h (1 - p_h)}{r_h - 1}},
        \\qquad W_h = N_h / N,\\; r = \\sum_h r_h.

    This is the engine's ``Σ W_h² (1 − r_h/N_h) s_h² / r_h`` with the sample variance
    ``s_h² = r_h p_h(1 − p_h)/(r_h − 1)`` of a stratum whose observed proportion is ``p_h``.

    Parameters
    ----------
    respondents : Mapping[str, int]
        Respondents ``r_h`` per stratum; at least 2 in a stratum not taken whole.
    population : Mapping[str, int]
        Stratum sizes ``N_h``; its keys define the strata.
    proportion : float or Mapping[str, float]
        Assumed proportion, one for all strata or one per stratum.
    confidence : float
        Confidence level ``γ``.
    deff : float
        Expected design effect beyond stratification (weighting, calibration).

    Returns
    -------
    float
    """
    strata, sizes = _check_strata_sizes(population)
    counts = _strata_values("respondents", respondents, strata, minimum=0)
    too_many = [s for s, r, n in zip(strata, counts, sizes, strict=True) if r > n]
    if too_many:
        raise AnalysisInputError(f"strata {too_many} have more respondents than population")
    _check_enough_respondents(strata, counts, sizes)
    proportions = _proportions_per_stratum(proportion, strata)
    confidence = _check_open_unit_interval("confidence", confidence)
    return _stratified_margin(counts, sizes, proportions, confidence, _check_deff(deff))


def _proportions_per_stratum(
    proportion: float | Mapping[str, float], strata: list[str]
) -> np.ndarray:
    if isinstance(proportion, Mapping):
        missing = [stratum for stratum in strata if stratum not in proportion]
        if missing:
            raise AnalysisInputError(f"proportion has no value for strata {missing}")
        return np.array(
            [_check_open_unit_interval(f"proportion[{s!r}]", proportion[s]) for s in strata]
        )
    return np.full(len(strata), _check_open_unit_interval("proportion", proportion))


# --------------------------------------------------------------------------------------------
# Allocation


def allocate(
    total: int,
    strata_sizes: Mapping[str, int],
    method: Allocation = "proportional",
    min_per_stratum: int = 0,
    prior_sd: Mapping[str, float] | None = None,
) -> dict[str, int]:
    """Share ``total`` respondents between strata.

    The real-valued allocation is ``x_h = clip(λ a_h, m_h, N_h)`` with ``λ`` such that
    ``Σ x_h = total``, where the size measure ``a_h`` is

    - ``N_h`` for ``"proportional"`` (Cochran 1977, §5.5),
    - ``N_h S_h`` for ``"neyman"``, ``S_h`` the prior standard deviation (Cochran 1977, §5.9),
    - 1 for ``"equal"``,

    and ``m_h = min(min_per_stratum, N_h)``. Clipping at ``N_h`` and at ``m_h`` and solving
    for ``λ`` again is what "redistribute the excess to the other strata" means: the strata
    that are not at a bound keep sizes proportional to ``a_h``. Integer sizes follow by the
    largest-remainder method (Hamilton): every stratum gets ``floor(x_h)``, and the units left
    go to the largest fractional parts, ties to the stratum listed first. The result sums
    exactly to ``total`` and stays within ``[m_h, N_h]``.

    Parameters
    ----------
    total : int
        Respondents to share, between ``Σ m_h`` and ``N``.
    strata_sizes : Mapping[str, int]
        Population ``N_h`` of each stratum (at least 1).
    method : {"proportional", "neyman", "equal"}
        Allocation rule.
    min_per_stratum : int
        Minimum per stratum; a stratum smaller than it is taken whole.
    prior_sd : Mapping[str, float], optional
        Prior standard deviations for ``"neyman"``, positive; 0.5 for every stratum by default
        (which makes Neyman the same as proportional).

    Returns
    -------
    dict[str, int]
        Respondents per stratum, in the order of ``strata_sizes``.

    Raises
    ------
    AnalysisInputError
        When ``total`` is below ``Σ m_h`` or above ``N``, or an argument is malformed.
    """
    strata, sizes = _check_strata_sizes(strata_sizes)
    total = _check_count("total", total, minimum=0)
    min_per_stratum = _check_count("min_per_stratum", min_per_stratum, minimum=0)
    size_measure = _size_measure(method, strata, sizes, prior_sd)
    lower = np.minimum(min_per_stratum, sizes)
    _check_total_feasible(total, lower, sizes, min_per_stratum)
    sample = _allocate(total, size_measure, lower, sizes)
    return dict(zip(strata, (int(size) for size in sample), strict=True))


def _check_total_feasible(total: int, lower: np.ndarray, upper: np.ndarray, minimum: int):
    if total < lower.sum():
        raise AnalysisInputError(
            f"total {total} is below {lower.sum()}, what a minimum of {minimum} per stratum "
            f"over {len(lower)} strata requires", "total_below_minimum",
            total=total, needed=int(lower.sum()), minimum=minimum, strata=len(lower),
        )
    if total > upper.sum():
        raise AnalysisInputError(f"total {total} exceeds the population size {upper.sum()}",
                                 "total_above_population", total=total,
                                 population=int(upper.sum()))


def _size_measure(
    method: str, strata: list[str], sizes: np.ndarray, prior_sd: Mapping[str, float] | None
) -> np.ndarray:
    if method not in ALLOCATIONS:
        raise AnalysisInputError(f"allocation must be one of {ALLOCATIONS}, got {method!r}",
                                 "unknown_allocation", value=method)
    if prior_sd is not None and method != "neyman":
        raise AnalysisInputError(f"prior_sd is only used by the neyman allocation, not {method!r}",
                                 "prior_sd_not_neyman")
    if method == "proportional":
        return sizes.astype(float)
    if method == "equal":
        return np.ones(len(sizes))
    if prior_sd is None:
        return sizes * WORST_CASE_SD
    missing = [stratum for stratum in strata if stratum not in prior_sd]
    if missing:
        raise AnalysisInputError(f"prior_sd has no value for strata {missing}",
                                 "prior_sd_missing", strata=", ".join(missing))
    deviations = []
    for stratum in strata:
        sd = prior_sd[stratum]
        if isinstance(sd, bool) or not isinstance(sd, numbers.Real) or not 0 < sd < math.inf:
            raise AnalysisInputError(
                f"prior_sd[{stratum!r}] must be a positive finite number, got {sd!r}",
                "prior_sd_not_positive", stratum=stratum, value=sd,
            )
        deviations.append(float(sd))
    return sizes * np.array(deviations)


def _allocate(
    total: int, size_measure: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    shares = _box_constrained_shares(total, size_measure, lower, upper)
    return _largest_remainder(shares, total)


def _box_constrained_shares(
    total: int, size_measure: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """Solve ``Σ clip(λ a_h, m_h, N_h) = total`` for ``λ`` and return the clipped shares.

    The left side is continuous, non-decreasing and linear between the breakpoints ``m_h/a_h``
    and ``N_h/a_h``, where it runs from ``Σ m_h`` to ``N``: interpolating it on the breakpoints
    gives ``λ`` exactly.
    """
    breakpoints = np.unique(np.concatenate([lower / size_measure, upper / size_measure]))
    filled = np.array([np.clip(point * size_measure, lower, upper).sum() for point in breakpoints])
    multiplier = np.interp(total, filled, breakpoints)
    return np.clip(multiplier * size_measure, lower, upper)


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    # The tolerance turns 4.9999999999 into 5 rather than 4 plus a remainder of one unit; the
    # shares are clipped to integer bounds, so floors stay within them.
    floors = np.floor(shares + _CEIL_TOLERANCE).astype(np.int64)
    left = total - int(floors.sum())
    remainders = shares - floors
    # lexsort sorts by the last key first: largest remainder, then the stratum listed first.
    order = np.lexsort((np.arange(len(shares)), -remainders))
    floors[order[:left]] += 1
    return floors


# --------------------------------------------------------------------------------------------
# The planner


def plan_sample(
    strata_sizes: Mapping[str, int],
    margin: float,
    confidence: float,
    response_rate: float,
    allocation: Allocation = "proportional",
    min_per_stratum: int = 0,
    prior_sd: Mapping[str, float] | None = None,
    deff: float = 1.0,
    proportion: float = 0.5,
) -> SamplePlan:
    """Plan a campaign: respondents and invitations per stratum for a target margin of error.

    The plan is the smallest total of respondents ``r`` whose allocation (see :func:`allocate`)
    gives an overall expected margin (see :func:`expected_stratified_margin`, the estimation
    engine's own formula) of at most ``margin``. The search is a bisection between the least
    total the minimum allows and the census, which has no error. Because allocations are
    rounded to integers, the expected margin is not strictly decreasing in ``r``; the bisection
    returns a total that meets the target while one fewer does not.

    Every stratum not taken whole gets at least two respondents, whatever ``min_per_stratum``
    says, because its variance needs two. Invitations are ``ceil(r_h / response_rate)``,
    capped at the stratum's population and flagged when capped.

    Parameters
    ----------
    strata_sizes : Mapping[str, int]
        Customers per stratum in the frame, after exclusions.
    margin : float
        Target half-width of the overall interval (0.03 for ±3 points).
    confidence : float
        Confidence level (0.95).
    response_rate : float
        Expected response rate, in (0, 1].
    allocation : {"proportional", "neyman", "equal"}
        Allocation rule.
    min_per_stratum : int
        Minimum respondents per stratum.
    prior_sd : Mapping[str, float], optional
        Prior standard deviations per stratum for the Neyman allocation (0.5 each by default).
    deff : float
        Expected design effect of weighting and calibration, applied to every variance.
    proportion : float
        Assumed proportion in every stratum; 0.5 (the default) is the worst case.

    Returns
    -------
    SamplePlan
    """
    strata, sizes = _check_strata_sizes(strata_sizes)
    margin = _check_open_unit_interval("margin", margin)
    confidence = _check_open_unit_interval("confidence", confidence)
    response_rate = _check_response_rate(response_rate)
    deff = _check_deff(deff)
    proportion = _check_open_unit_interval("proportion", proportion)
    min_per_stratum = _check_count("min_per_stratum", min_per_stratum, minimum=0)
    size_measure = _size_measure(allocation, strata, sizes, prior_sd)
    lower = np.minimum(max(min_per_stratum, MIN_RESPONDENTS_FOR_VARIANCE), sizes)
    proportions = np.full(len(strata), proportion)

    def allocation_and_margin(total: int) -> tuple[np.ndarray, float]:
        sample = _allocate(total, size_measure, lower, sizes)
        return sample, _stratified_margin(sample, sizes, proportions, confidence, deff)

    smallest, largest = int(lower.sum()), int(sizes.sum())
    sample, achieved = allocation_and_margin(smallest)
    if achieved > margin:
        # Invariant: `smallest` misses the target, `largest` (the census) meets it.
        sample, achieved = allocation_and_margin(largest)
        while largest - smallest > 1:
            middle = (smallest + largest) // 2
            candidate, candidate_margin = allocation_and_margin(middle)
            if candidate_margin <= margin:
                largest, sample, achieved = middle, candidate, candidate_margin
            else:
                smallest = middle

    stratum_plans = []
    for stratum, size, respondents in zip(strata, sizes, sample, strict=True):
        wanted = invitations_for_respondents(int(respondents), response_rate)
        stratum_plans.append(
            StratumPlan(
                stratum=stratum,
                population=int(size),
                respondents=int(respondents),
                invitations=min(wanted, int(size)),
                invitations_capped=bool(wanted > size),
                expected_margin=_stratified_margin(
                    np.array([respondents]), np.array([size]), proportions[:1], confidence, deff
                ),
            )
        )
    return SamplePlan(
        strata=tuple(stratum_plans),
        allocation=allocation,
        target_margin=margin,
        confidence=confidence,
        response_rate=response_rate,
        deff=deff,
        proportion=proportion,
        min_per_stratum=min_per_stratum,
        cochran_respondents=respondents_for_margin(
            margin, confidence, int(sizes.sum()), proportion, deff
        ),
        expected_margin=achieved,
    )
