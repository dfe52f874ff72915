"""Year-on-year and domain-versus-rest comparisons, Holm's correction.

Expected values are worked by hand below each test; Student and normal tail probabilities are
the only numbers taken from a library (scipy), since they are not what is under test.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.comparison import (
    Difference,
    compare_independent,
    compare_to_previous,
    difference_test,
    domain_versus_rest,
    holm,
    welch_satterthwaite_df,
)
from analysis.design import AnalysisInputError

# --- independent samples -----------------------------------------------------------------


def test_year_on_year_with_normal_reference():
    # d = 0.80 - 0.75 = 0.05; se = sqrt(0.02² + 0.025²) = sqrt(0.001025) = 0.0320156
    # z = 1.561738; p = 2 (1 - Φ(1.561738)); interval 0.05 ± 1.959964 × 0.0320156
    result = compare_independent(0.80, 0.02, 0.75, 0.025)
    assert result.estimate == pytest.approx(0.05)
    assert result.se == pytest.approx(math.sqrt(0.001025))
    assert result.df is None
    assert result.statistic == pytest.approx(1.561738, rel=1e-6)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(1.561738), rel=1e-5)
    assert result.ci_low == pytest.approx(0.05 - 1.959964 * 0.0320156, rel=1e-5)
    assert result.ci_high == pytest.approx(0.05 + 1.959964 * 0.0320156, rel=1e-5)


def test_year_on_year_with_satterthwaite_degrees_of_freedom():
    # ν = 0.001025² / (0.02⁴/300 + 0.025⁴/250)
    #   = 1.050625e-6 / (5.333333e-10 + 1.5625e-9) = 501.2922
    result = compare_independent(0.80, 0.02, 0.75, 0.025, df_a=300, df_b=250)
    assert result.df == pytest.approx(501.2922, rel=1e-6)
    assert result.p_value == pytest.approx(2 * stats.t.sf(1.561738, 501.2922), rel=1e-5)


def test_satterthwaite_with_equal_variances_and_df_adds_the_df():
    # (2 s²)² / (2 s⁴ / ν) = 2ν
    assert welch_satterthwaite_df(0.1, 40, 0.1, 40) == pytest.approx(80)


def test_two_censuses_give_an_exact_difference():
    result = compare_independent(0.8, 0.0, 0.7, 0.0)
    assert (result.p_value, result.ci_low, result.ci_high) == (
        0.0,
        pytest.approx(0.1),
        pytest.approx(0.1),
    )


def test_equal_censuses_are_not_different():
    result = difference_test(0.0, 0.0)
    assert result.p_value == 1.0


def test_degrees_of_freedom_for_both_or_neither():
    with pytest.raises(AnalysisInputError, match="both estimates, or of neither"):
        compare_independent(0.8, 0.02, 0.7, 0.02, df_a=100)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"se_a": -0.1}, "se_a must not be negative"),
        ({"estimate_b": math.nan}, "estimate_b must be a finite number"),
        ({"confidence": 1.0}, "confidence must be a number in"),
    ],
)
def test_bad_independent_input(kwargs, message):
    arguments = {"estimate_a": 0.8, "se_a": 0.02, "estimate_b": 0.7, "se_b": 0.02} | kwargs
    with pytest.raises(AnalysisInputError, match=message):
        compare_independent(**arguments)


# --- Holm -------------------------------------------------------------------------------------


def _with_p(p_value: float) -> Difference:
    return Difference(0.1, 0.05, None, 2.0, p_value, 0.0, 0.2, 0.95)


def test_holm_adjustment_by_hand():
    # p = (0.01, 0.04, 0.03, 0.005); sorted 0.005, 0.01, 0.03, 0.04
    # adjusted: 4 × 0.005 = 0.02; 3 × 0.01 = 0.03; 2 × 0.03 = 0.06; max(0.06, 1 × 0.04) = 0.06
    family = {"q1": _with_p(0.01), "q2": _with_p(0.04), "q3": _with_p(0.03), "q4": _with_p(0.005)}
    corrected = holm(family, alpha=0.05)
    assert [c.label for c in corrected] == ["q1", "q2", "q3", "q4"]
    assert [c.p_adjusted for c in corrected] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert [c.significant for c in corrected] == [True, False, False, True]


def test_holm_of_nothing_is_nothing():
    assert holm({}) == ()


def test_compare_to_previous_matches_indicator_and_domain():
    # q1 overall: d = 0.05 with se 0.0320156 (see above); q1 phone: no counterpart; nps
    # email: d = 10, se = sqrt(3² + 4²) = 5, z = 2, p = 0.0455; Holm over 2: 0.0910, 0.2367
    current = [
        {"indicator": "q1", "domain": None, "estimate": 0.80, "se": 0.02, "df": None},
        {
            "indicator": "q1",
            "domain": {"channel": "phone"},
            "estimate": 0.8,
            "se": 0.03,
            "df": None,
        },
        {
            "indicator": "nps",
            "domain": {"channel": "email"},
            "estimate": 30.0,
            "se": 3.0,
            "df": None,
        },
    ]
    previous = [
        {
            "indicator": "nps",
            "domain": {"channel": "email"},
            "estimate": 20.0,
            "se": 4.0,
            "df": None,
        },
        {"indicator": "q1", "domain": None, "estimate": 0.75, "se": 0.025, "df": None},
    ]
    compared = compare_to_previous(current, previous)
    assert [(c.indicator, c.domain) for c in compared] == [
        ("q1", None),
        ("nps", {"channel": "email"}),
    ]
    q1, nps = compared
    assert (nps.current, nps.previous) == (30.0, 20.0)
    assert nps.difference.se == pytest.approx(5.0)
    p_nps = 2 * stats.norm.sf(2.0)  # 0.04550
    p_q1 = 2 * stats.norm.sf(1.561738)  # 0.11835
    assert nps.p_adjusted == pytest.approx(2 * p_nps)
    assert q1.p_adjusted == pytest.approx(max(p_q1, 2 * p_nps))
    assert not nps.significant


def test_compare_to_previous_refuses_duplicates():
    twice = [{"indicator": "q1", "domain": None, "estimate": 0.7, "se": 0.02, "df": 100}] * 2
    with pytest.raises(AnalysisInputError, match="twice"):
        compare_to_previous(twice, twice)


# --- domain against the rest --------------------------------------------------------------

# Two strata of three respondents, weights 1:
#   S1: (A, 2) (A, 4) (B, 3)      S2: (A, 5) (B, 1) (B, 2)
# ȳ_A = 11/3, Σw_A = 3; ȳ_B = 2, Σw_B = 3.
# z = (y - 11/3)/3 for A, -(y - 2)/3 for B:
#   S1: -5/9, 1/9, -3/9 (mean -7/27)  deviations -8/27, 10/27, -2/27  SS = 168/729
#   S2:  4/9, 3/9,   0  (mean  7/27)  deviations  5/27,  2/27, -7/27  SS =  78/729
# V = r/(r-1) ΣSS = 3/2 × 246/729 = 369/729; df = 6 - 2 strata = 4.
# The domain alone: z_A = (-5/9, 1/9, 0 | 4/9, 0, 0); SS = 186/729 + 96/729; V_A = 423/729.
SMALL = pd.DataFrame(
    {
        "stratum": ["S1", "S1", "S1", "S2", "S2", "S2"],
        "group": ["A", "A", "B", "A", "B", "B"],
        "y": [2, 4, 3, 5, 1, 2],
    }
)


def test_domain_versus_rest_by_hand():
    a, b = domain_versus_rest(SMALL, "y", "group", strata="stratum")
    assert a.level == "A"
    assert (a.estimate, a.rest_estimate) == (pytest.approx(11 / 3), pytest.approx(2.0))
    assert a.se == pytest.approx(math.sqrt(423 / 729))
    assert a.difference.estimate == pytest.approx(5 / 3)
    assert a.difference.se == pytest.approx(math.sqrt(369 / 729))
    assert a.difference.df == 4
    t = (5 / 3) / math.sqrt(369 / 729)  # 2.342606
    assert a.difference.p_value == pytest.approx(2 * stats.t.sf(t, 4))
    assert (a.n, a.rest_n) == (3, 3)
    # with two levels, B against the rest is the same comparison, sign reversed
    assert b.difference.estimate == pytest.approx(-5 / 3)
    assert b.difference.se == pytest.approx(a.difference.se)
    # one test, not a family of two: no correction
    assert a.p_adjusted == b.p_adjusted == pytest.approx(a.difference.p_value)


def test_covariance_matters_the_independent_approximation_differs():
    a, _ = domain_versus_rest(SMALL, "y", "group", strata="stratum")
    assert a.difference.se != pytest.approx(math.hypot(a.se, a.rest_se), rel=0.01)


def test_without_strata_the_domains_are_uncorrelated():
    # One stratum: z̄ = 0 and the covariance of disjoint domains vanishes, so
    # V = 6/5 × Σ z² = 6/5 × (25 + 1 + 16 + 9 + 9 + 0)/81 = 6/5 × 60/81
    a, _ = domain_versus_rest(SMALL, "y", "group")
    assert a.difference.se == pytest.approx(math.sqrt(6 / 5 * 60 / 81))
    assert a.difference.se == pytest.approx(math.hypot(a.se, a.rest_se))
    assert a.difference.df == 5


def test_population_brings_the_finite_population_correction():
    # N_h = 6: weights 2 everywhere leave the means and z unchanged; 1 - 3/6 = 0.5
    a, _ = domain_versus_rest(SMALL, "y", "group", strata="stratum", population={"S1": 6, "S2": 6})
    assert a.difference.se == pytest.approx(math.sqrt(0.5 * 369 / 729))


def test_unanswered_rows_stay_in_their_stratum():
    # A seventh respondent in S1 without an answer: z = 0 for it, r_S1 = 4.
    # S1 z: -5/9, 1/9, -3/9, 0 (mean -7/36); SS = Σz² - 4 × (7/36)² = 35/81 - 49/324 = 91/324
    # S2 unchanged: SS = 78/729, factor 3/2.  V = 4/3 × 91/324 + 3/2 × 78/729
    with_blank = pd.concat(
        [SMALL, pd.DataFrame({"stratum": ["S1"], "group": ["A"], "y": [None]})], ignore_index=True
    )
    a, _ = domain_versus_rest(with_blank, "y", "group", strata="stratum")
    assert a.difference.se == pytest.approx(math.sqrt(4 / 3 * 91 / 324 + 3 / 2 * 78 / 729))
    assert a.n == 3
    assert a.difference.df == 4


def test_holm_over_levels():
    data = pd.DataFrame({"g": list("aaaabbbbcccc"), "y": [5, 5, 4, 5, 1, 2, 1, 2, 3, 4, 3, 3]})
    contrasts = domain_versus_rest(data, "y", "g")
    p = sorted(contrast.difference.p_value for contrast in contrasts)
    expected = sorted([min(1, 3 * p[0]), max(3 * p[0], 2 * p[1]), max(3 * p[0], 2 * p[1], p[2])])
    assert sorted(contrast.p_adjusted for contrast in contrasts) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"value": "missing"}, "value column 'missing' is not in the data"),
        ({"domain": "nope"}, "domain column 'nope' is not in the data"),
        ({"strata": "stratum", "population": {"S1": 6}}, r"no size for strata \['S2'\]"),
        (
            {"strata": "stratum", "population": {"S1": 2, "S2": 6}},
            "more respondents than population",
        ),
        ({"strata": "stratum", "population": 12}, "population must map each stratum"),
    ],
)
def test_domain_versus_rest_bad_input(kwargs, message):
    arguments = {"value": "y", "domain": "group"} | kwargs
    with pytest.raises(AnalysisInputError, match=message):
        domain_versus_rest(SMALL, **arguments)


def test_non_numeric_value_names_the_row():
    data = SMALL.assign(y=["2", "4", "x", "5", "1", "2"])
    with pytest.raises(AnalysisInputError, match=r"non-numeric value 'x' at row 2"):
        domain_versus_rest(data, "y", "group")


def test_a_single_level_cannot_be_compared():
    with pytest.raises(AnalysisInputError, match="at least two levels"):
        domain_versus_rest(SMALL.assign(group="A"), "y", "group")


def test_each_side_agrees_with_the_estimation_engine():
    # The engine's domain estimates (R survey's svyby, see the reference cases) of a level and
    # of its complement must be the two sides of the contrast.
    from analysis import analyze, parse_design

    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {
            "stratum": rng.choice(["S1", "S2", "S3"], 60),
            "group": rng.choice(["a", "b", "c"], 60),
            "y": rng.integers(1, 6, 60).astype(float),
        }
    )
    data.loc[[3, 7, 11], "y"] = np.nan
    data["side"] = np.where(data["group"] == "a", "a", "rest")
    population = {"S1": 500, "S2": 800, "S3": 300}
    design = parse_design(
        {
            "strata": "stratum",
            "population": population,
            "by": ["side"],
            "indicators": [{"name": "m", "kind": "mean", "item": "y"}],
        }
    )
    engine = {
        estimate.domain["side"]: estimate
        for estimate in analyze(data, design).estimates
        if estimate.domain is not None
    }
    contrast = domain_versus_rest(data, "y", "group", strata="stratum", population=population)[0]
    assert contrast.level == "a"
    assert contrast.estimate == pytest.approx(engine["a"].estimate, rel=1e-12)
    assert contrast.se == pytest.approx(engine["a"].se, rel=1e-12)
    assert contrast.rest_estimate == pytest.approx(engine["rest"].estimate, rel=1e-12)
    assert contrast.rest_se == pytest.approx(engine["rest"].se, rel=1e-12)
