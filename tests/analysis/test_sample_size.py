"""Sample sizes, allocation and the campaign planner.

Reference values: Krejcie & Morgan (1970), Table 1 (Cochran's formula with a finite-population
correction, 95 %, ±5 %, p = 0.5); Student's t quantiles from R (``qt(0.975, 100)``).
"""

import json
import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.design import AnalysisInputError
from analysis.sample_size import (
    allocate,
    expected_margin,
    expected_stratified_margin,
    invitations_for_respondents,
    plan_sample,
    respondents_for_margin,
)

# R: qt(0.975, 100)
T_975_DF100 = 1.983971519


# --- Cochran's formula -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("population", "expected"),
    # Krejcie & Morgan (1970), Table 1: N = 100 -> 80, N = 1000 -> 278, N = 10000 -> 370.
    [(100, 80), (1000, 278), (10_000, 370)],
)
def test_respondents_match_krejcie_morgan_table(population, expected):
    assert respondents_for_margin(0.05, 0.95, population=population) == expected


def test_respondents_without_population_is_n0_rounded_up():
    # n0 = 1.959964² × 0.25 / 0.05² = 384.146 -> 385
    assert respondents_for_margin(0.05, 0.95) == 385


def test_design_effect_multiplies_n0():
    # n0 = 1.959964² × 0.25 × 2 / 0.05² = 768.29 -> 769
    assert respondents_for_margin(0.05, 0.95, deff=2.0) == 769


def test_known_proportion_needs_fewer_respondents():
    # n0 = 1.959964² × 0.2 × 0.8 / 0.05² = 245.85 -> 246
    assert respondents_for_margin(0.05, 0.95, proportion=0.2) == 246


def test_respondents_never_exceed_population():
    assert respondents_for_margin(0.001, 0.99, population=50) == 50


@pytest.mark.parametrize("margin", [0, 1, -0.1, "0.03", True, math.nan])
def test_margin_must_lie_strictly_between_0_and_1(margin):
    with pytest.raises(AnalysisInputError, match="margin"):
        respondents_for_margin(margin)


# --- invitations ----------------------------------------------------------------------------


def test_invitations_do_not_suffer_from_binary_rounding():
    # 300 / 0.3 is 1000.0000000000001 in floating point; 1000 invitations are enough.
    assert invitations_for_respondents(300, 0.3) == 1000


def test_invitations_round_up():
    # 301 / 0.3 = 1003.33 -> 1004
    assert invitations_for_respondents(301, 0.3) == 1004


@pytest.mark.parametrize("rate", [0, 1.5, -0.2])
def test_response_rate_must_lie_in_0_1(rate):
    with pytest.raises(AnalysisInputError, match="response_rate"):
        invitations_for_respondents(100, rate)


# --- expected margins -------------------------------------------------------------------------


def test_expected_margin_infinite_population():
    # var = 0.25 / (101 - 1) = 0.0025; e = qt(0.975, 100) × 0.05
    assert expected_margin(101) == pytest.approx(T_975_DF100 * 0.05, rel=1e-7)


def test_expected_margin_with_finite_population_correction():
    # var = (1 - 101/1001) × 0.25 / 100 = 0.0025 × 900/1001
    expected = T_975_DF100 * math.sqrt(0.0025 * 900 / 1001)
    assert expected_margin(101, population=1001) == pytest.approx(expected, rel=1e-7)


def test_census_has_no_margin():
    assert expected_margin(250, population=250) == 0.0


def test_expected_stratified_margin_by_hand():
    # W = (0.4, 0.6), r = (41, 61), N = (400, 600), p = 0.5, df = 102 - 2 = 100
    # a: 0.4² × (1 - 41/400) × 0.25 / 40 = 0.16 × 0.8975 × 0.00625   = 0.0008975
    # b: 0.6² × (1 - 61/600) × 0.25 / 60 = 0.36 × 539/600 × 0.25 / 60 = 0.0013475
    variance = 0.0008975 + 0.0013475
    margin = expected_stratified_margin({"a": 41, "b": 61}, {"a": 400, "b": 600})
    assert margin == pytest.approx(T_975_DF100 * math.sqrt(variance), rel=1e-7)


def test_expected_stratified_margin_with_design_effect_and_proportions():
    # a: 0.16 × 0.8975 × 0.2 × 0.8 / 40 = 0.0005744 ; b: 0.36 × 539/600 × 0.09 / 60 = 0.0004851
    # deff 1.5 multiplies the variance.
    variance = 1.5 * (0.0005744 + 0.0004851)
    margin = expected_stratified_margin(
        {"a": 41, "b": 61}, {"a": 400, "b": 600}, proportion={"a": 0.2, "b": 0.9}, deff=1.5
    )
    assert margin == pytest.approx(T_975_DF100 * math.sqrt(variance), rel=1e-7)


def test_single_respondent_in_a_sampled_stratum_is_refused():
    with pytest.raises(AnalysisInputError, match=r"\['b'\].*fewer than 2 respondents"):
        expected_stratified_margin({"a": 10, "b": 1}, {"a": 100, "b": 100})


def test_respondents_must_cover_every_stratum():
    with pytest.raises(AnalysisInputError, match=r"respondents has no value for strata \['b'\]"):
        expected_stratified_margin({"a": 10}, {"a": 100, "b": 100})


def test_more_respondents_than_population_is_refused():
    with pytest.raises(AnalysisInputError, match="more respondents than population"):
        expected_stratified_margin({"a": 101}, {"a": 100})


# --- allocation ---------------------------------------------------------------------------


def test_proportional_allocation_exact():
    assert allocate(100, {"a": 500, "b": 300, "c": 200}) == {"a": 50, "b": 30, "c": 20}


def test_largest_remainder_method():
    # shares 7 × (0.45, 0.35, 0.20) = 3.15, 2.45, 1.40 -> floors 3, 2, 1 (6); the last unit
    # goes to the largest remainder, b (0.45).
    assert allocate(7, {"a": 4500, "b": 3500, "c": 2000}) == {"a": 3, "b": 3, "c": 1}


def test_largest_remainder_ties_go_to_the_stratum_listed_first():
    # shares 4, 3.5, 2.5 -> floors 4, 3, 2; remainders 0.5 tie between b and c: b wins.
    assert allocate(10, {"a": 40, "b": 35, "c": 25}) == {"a": 4, "b": 4, "c": 2}


def test_equal_allocation_redistributes_the_excess_of_a_small_stratum():
    # 100 / 3 = 33.3 each, but a has 5 customers: 95 left for b and c, 47.5 each, tie -> b.
    assert allocate(100, {"a": 5, "b": 300, "c": 2000}, "equal") == {"a": 5, "b": 48, "c": 47}


def test_neyman_allocation_follows_size_times_standard_deviation():
    # N_h S_h = 1000 × 0.5, 1000 × 0.3 -> shares 5/8 and 3/8 of 80
    sizes = {"a": 1000, "b": 1000}
    assert allocate(80, sizes, "neyman", prior_sd={"a": 0.5, "b": 0.3}) == {"a": 50, "b": 30}


def test_neyman_with_default_deviations_is_proportional():
    sizes = {"a": 1200, "b": 700, "c": 100}
    assert allocate(150, sizes, "neyman") == allocate(150, sizes, "proportional")


def test_minimum_per_stratum_is_honoured_and_the_rest_stays_proportional():
    # proportional: a 2, b 98; a raised to 10, b gets the 90 left.
    assert allocate(100, {"a": 20, "b": 980}, min_per_stratum=10) == {"a": 10, "b": 90}


def test_stratum_smaller_than_the_minimum_is_taken_whole():
    assert allocate(30, {"a": 4, "b": 500}, min_per_stratum=10) == {"a": 4, "b": 26}


def test_total_below_strata_times_minimum_is_refused():
    with pytest.raises(AnalysisInputError, match="total 25 is below 30.*minimum of 10.*3 strata"):
        allocate(25, {"a": 100, "b": 100, "c": 100}, min_per_stratum=10)


def test_total_above_population_is_refused():
    with pytest.raises(AnalysisInputError, match="exceeds the population size 30"):
        allocate(31, {"a": 10, "b": 20})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "optimal"}, "allocation must be one of"),
        ({"method": "neyman", "prior_sd": {"a": 0.5}}, r"prior_sd has no value.*\['b'\]"),
        (
            {"method": "neyman", "prior_sd": {"a": 0.5, "b": 0}},
            r"prior_sd\['b'\] must be a positive",
        ),
        ({"prior_sd": {"a": 0.5, "b": 0.5}}, "only used by the neyman allocation"),
    ],
)
def test_bad_allocation_arguments(kwargs, message):
    with pytest.raises(AnalysisInputError, match=message):
        allocate(10, {"a": 50, "b": 50}, **kwargs)


@pytest.mark.parametrize("sizes", [{}, {"a": 0}, {"a": 10, "b": 2.5}, {"a": -3}])
def test_bad_strata_sizes(sizes):
    with pytest.raises(AnalysisInputError, match="strata_sizes|population of stratum"):
        allocate(1, sizes)


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=8),
    fraction=st.floats(min_value=0, max_value=1),
    minimum=st.integers(min_value=0, max_value=30),
    method=st.sampled_from(["proportional", "neyman", "equal"]),
)
def test_allocation_sums_to_total_within_bounds(sizes, fraction, minimum, method):
    strata = {f"s{position}": size for position, size in enumerate(sizes)}
    floor_total = sum(min(minimum, size) for size in sizes)
    total = floor_total + round(fraction * (sum(sizes) - floor_total))
    sample = allocate(total, strata, method, min_per_stratum=minimum)
    assert sum(sample.values()) == total
    for name, size in strata.items():
        assert min(minimum, size) <= sample[name] <= size


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=8),
    fraction=st.floats(min_value=0, max_value=1),
)
def test_unconstrained_proportional_allocation_is_within_one_of_the_exact_share(sizes, fraction):
    strata = {f"s{position}": size for position, size in enumerate(sizes)}
    total = round(fraction * sum(sizes))
    sample = allocate(total, strata)
    for name, size in strata.items():
        assert abs(sample[name] - total * size / sum(sizes)) < 1


# --- the planner -----------------------------------------------------------------------------

FRAME = {"A": 3359, "B": 6690, "C": 9951}


@pytest.mark.parametrize("allocation", ["proportional", "neyman", "equal"])
def test_plan_is_the_smallest_total_meeting_the_target(allocation):
    plan = plan_sample(
        FRAME, margin=0.03, confidence=0.95, response_rate=0.3, allocation=allocation
    )
    planned = {stratum.stratum: stratum.respondents for stratum in plan.strata}
    assert plan.expected_margin <= 0.03
    assert plan.expected_margin == pytest.approx(expected_stratified_margin(planned, FRAME))
    assert planned == allocate(plan.respondents, FRAME, allocation)
    one_fewer = allocate(plan.respondents - 1, FRAME, allocation)
    assert expected_stratified_margin(one_fewer, FRAME) > 0.03


def test_plan_needs_a_few_more_respondents_than_cochran():
    # t quantile and the n - 1 divisor make the engine's interval a little wider than
    # Cochran's normal approximation, so the plan needs more, but not many more.
    plan = plan_sample(FRAME, margin=0.03, confidence=0.95, response_rate=0.3)
    assert plan.cochran_respondents == respondents_for_margin(0.03, 0.95, population=20_000)
    assert plan.cochran_respondents < plan.respondents <= plan.cochran_respondents + 10


def test_equal_allocation_costs_more_respondents_than_proportional():
    proportional = plan_sample(FRAME, 0.03, 0.95, 0.3)
    equal = plan_sample(FRAME, 0.03, 0.95, 0.3, allocation="equal")
    assert equal.respondents > proportional.respondents


def test_plan_invitations_and_per_stratum_margins():
    plan = plan_sample(FRAME, margin=0.03, confidence=0.95, response_rate=0.3)
    for stratum in plan.strata:
        assert stratum.invitations == math.ceil(stratum.respondents / 0.3 - 1e-9)
        assert not stratum.invitations_capped
        assert stratum.expected_margin == pytest.approx(
            expected_margin(stratum.respondents, population=stratum.population)
        )
    assert plan.invitations == sum(stratum.invitations for stratum in plan.strata)
    assert plan.population == 20_000


def test_plan_caps_invitations_at_the_stratum_population_and_says_so():
    # a: minimum 5 respondents at 30 % would need ceil(5 / 0.3) = 17 invitations, a has 10.
    plan = plan_sample({"a": 10, "b": 5000}, 0.05, 0.95, 0.3, min_per_stratum=5)
    small = plan.strata[0]
    assert (small.respondents, small.invitations, small.invitations_capped) == (5, 10, True)
    assert plan.invitations_capped


def test_plan_keeps_two_respondents_in_every_sampled_stratum():
    # a's proportional share is 0.3 respondents; its variance needs two.
    plan = plan_sample({"a": 20, "b": 20_000}, 0.05, 0.95, 0.5)
    assert plan.strata[0].respondents == 2


def test_plan_neyman_puts_more_where_answers_vary_more():
    plan = plan_sample(
        {"a": 5000, "b": 5000}, 0.04, 0.95, 0.3, allocation="neyman", prior_sd={"a": 0.5, "b": 0.2}
    )
    a, b = plan.strata
    assert a.respondents / b.respondents == pytest.approx(0.5 / 0.2, rel=0.01)


def test_plan_as_dict_is_json_and_frame_has_one_row_per_stratum():
    plan = plan_sample(FRAME, 0.03, 0.95, 0.3)
    document = json.loads(json.dumps(plan.as_dict()))
    assert document["respondents"] == plan.respondents
    assert [row["stratum"] for row in document["strata"]] == ["A", "B", "C"]
    assert list(plan.to_frame().index) == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"margin": 0}, "margin"),
        ({"confidence": 95}, "confidence"),
        ({"response_rate": 0}, "response_rate"),
        ({"deff": -1}, "deff"),
        ({"allocation": "random"}, "allocation must be one of"),
        ({"min_per_stratum": -1}, "min_per_stratum"),
    ],
)
def test_plan_rejects_bad_input(kwargs, message):
    arguments = {"margin": 0.03, "confidence": 0.95, "response_rate": 0.3} | kwargs
    with pytest.raises(AnalysisInputError, match=message):
        plan_sample(FRAME, **arguments)


# --- agreement with the estimation engine ----------------------------------------------------


def test_expected_margin_is_the_engines_wald_half_width():
    # Respondents whose answers have exactly the assumed proportions: 10 of 40 satisfied in A,
    # 30 of 60 in B. The engine's Wald interval must be as wide as the planner expects.
    from analysis import analyze, parse_design

    respondents, population = {"A": 40, "B": 60}, {"A": 400, "B": 900}
    proportions = {"A": 0.25, "B": 0.5}
    rows = []
    for stratum, count in respondents.items():
        satisfied = round(count * proportions[stratum])
        rows += [(stratum, 1)] * satisfied + [(stratum, 0)] * (count - satisfied)
    answers = pd.DataFrame(rows, columns=["stratum", "q"])
    design = parse_design(
        {
            "strata": "stratum",
            "population": population,
            "proportion_ci": "wald",
            "indicators": [{"name": "sat", "kind": "proportion", "item": "q", "values": [1]}],
        }
    )
    (estimate,) = analyze(answers, design).estimates
    expected = expected_stratified_margin(respondents, population, proportions)
    assert estimate.ci_high - estimate.estimate == pytest.approx(expected, rel=1e-9)
    assert estimate.df == 100 - 2
