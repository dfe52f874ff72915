"""Designs the R reference does not cover, against formulas computed independently here.

Each expected value is computed by a plain loop over respondents implementing the
textbook formula named next to it, not by the engine's vectorised code.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import analyze, parse_design

STRATUM_SIZES = {"north": 40, "south": 55, "east": 25}
STRATUM_POPULATIONS = {"north": 900, "south": 2400, "east": 310}


def _survey(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for stratum, size in STRATUM_SIZES.items():
        for _ in range(size):
            rows.append(
                {
                    "stratum": stratum,
                    "region": str(rng.choice(["city", "rural"], p=[0.6, 0.4])),
                    "channel": str(rng.choice(["email", "phone", "sms"])),
                    "q": float(rng.integers(1, 6)) if rng.random() > 0.1 else np.nan,
                }
            )
    return pd.DataFrame(rows)


def _textbook_domain_mean(frame, populations, domain_column=None, level=None):
    """Stratified ratio mean of a domain and its variance, Cochran (1977) §5A.14.

    ``var = sum_h N_h^2 (1 - r_h/N_h) s_{u,h}^2 / r_h / Nhat_d^2`` with
    ``u_i = y_i - ybar_d`` for a respondent of the domain who answered, 0 otherwise, and
    ``s_{u,h}^2`` the sample variance of ``u`` over all ``r_h`` respondents of stratum h.
    """

    def counts(row):
        in_domain = domain_column is None or row[domain_column] == level
        return in_domain and not math.isnan(row["q"])

    rows = frame.to_dict("records")
    sizes = {h: sum(1 for row in rows if row["stratum"] == h) for h in populations}
    weighted_total = weighted_count = 0.0
    for row in rows:
        if counts(row):
            weight = populations[row["stratum"]] / sizes[row["stratum"]]
            weighted_total += weight * row["q"]
            weighted_count += weight
    mean = weighted_total / weighted_count
    variance = 0.0
    for h, population in populations.items():
        u = [row["q"] - mean if counts(row) else 0.0 for row in rows if row["stratum"] == h]
        variance += population**2 * (1 - sizes[h] / population) * statistics.variance(u) / sizes[h]
    variance /= weighted_count**2
    answered = [row for row in rows if counts(row)]
    df = len(answered) - len({row["stratum"] for row in answered})
    return mean, math.sqrt(variance), df, len(answered)


def _stratified_design(by=()):
    return parse_design(
        {
            "strata": "stratum",
            "population": STRATUM_POPULATIONS,
            "by": list(by),
            "indicators": [{"name": "q_mean", "kind": "mean", "item": "q"}],
        }
    )


def test_stratified_mean_matches_the_textbook_loop():
    frame = _survey()
    mean, se, df, n = _textbook_domain_mean(frame, STRATUM_POPULATIONS)
    estimate = analyze(frame, _stratified_design()).get("q_mean")
    assert estimate.estimate == pytest.approx(mean, rel=1e-12)
    assert estimate.se == pytest.approx(se, rel=1e-10)
    assert (estimate.df, estimate.n) == (df, n)
    half_width = stats.t.ppf(0.975, df) * se
    assert estimate.ci_low == pytest.approx(mean - half_width, rel=1e-10)


@pytest.mark.parametrize("level", ["city", "rural"])
def test_stratified_domain_mean_matches_the_textbook_loop(level):
    frame = _survey()
    mean, se, df, n = _textbook_domain_mean(frame, STRATUM_POPULATIONS, "region", level)
    estimate = analyze(frame, _stratified_design(by=["region"])).get("q_mean", {"region": level})
    assert estimate.estimate == pytest.approx(mean, rel=1e-12)
    assert estimate.se == pytest.approx(se, rel=1e-10)
    assert (estimate.df, estimate.n) == (df, n)


def test_df_counts_only_strata_present_among_the_domain_respondents():
    frame = _survey()
    # Nobody in "east" answered in the city: the city domain spans two strata.
    frame.loc[(frame["stratum"] == "east") & (frame["region"] == "city"), "q"] = np.nan
    estimate = analyze(frame, _stratified_design(by=["region"])).get("q_mean", {"region": "city"})
    city = frame[(frame["region"] == "city") & frame["q"].notna()]
    assert estimate.n == len(city)
    assert estimate.df == len(city) - 2


def _textbook_poststratified_mean(frame, population, cell_counts):
    """Post-stratified mean under SRS without replacement and its residual variance.

    Särndal, Swensson & Wretman (1992) §7.6: ``ybar_ps = sum_c W_c ybar_c`` and
    ``V = (1 - f) n / (n - 1) sum_c W_c^2 / n_c^2 sum_{i in c} (y_i - ybar_c)^2``
    (the variance of the g-weighted residuals), ``W_c = N_c / N``.
    """
    rows = [row for row in frame.to_dict("records") if not math.isnan(row["q"])]
    n, everyone = len(rows), len(frame)
    mean = variance = 0.0
    for cell, count in cell_counts.items():
        answers = [row["q"] for row in rows if row["channel"] == cell]
        share = count / population
        cell_mean = sum(answers) / len(answers)
        mean += share * cell_mean
        squares = sum((answer - cell_mean) ** 2 for answer in answers)
        variance += share**2 / len(answers) ** 2 * squares
    variance *= (1 - everyone / population) * everyone / (everyone - 1)
    return mean, math.sqrt(variance), n


def test_poststratified_mean_matches_the_textbook_formula():
    frame = _survey().dropna(subset=["q"]).reset_index(drop=True)
    cell_counts = {"email": 1500, "phone": 1300, "sms": 810}
    population = sum(cell_counts.values())
    design = parse_design(
        {
            "population": population,
            "calibration": {"method": "poststratify", "margins": {"channel": cell_counts}},
            "indicators": [{"name": "q_mean", "kind": "mean", "item": "q"}],
        }
    )
    mean, se, n = _textbook_poststratified_mean(frame, population, cell_counts)
    estimate = analyze(frame, design).get("q_mean")
    assert estimate.estimate == pytest.approx(mean, rel=1e-12)
    assert estimate.se == pytest.approx(se, rel=1e-10)
    assert estimate.n == n


def test_raking_on_one_margin_is_poststratification():
    # With equal base weights the weighted and plain cell means of the two projections agree.
    frame = _survey()
    margins = {"channel": {"email": 1500, "phone": 1300, "sms": 810}}
    common = {
        "population": 3610,
        "by": ["region"],
        "indicators": [{"name": "q_mean", "kind": "mean", "item": "q"}],
    }
    raked = analyze(
        frame, parse_design({**common, "calibration": {"method": "rake", "margins": margins}})
    )
    poststratified = analyze(
        frame,
        parse_design({**common, "calibration": {"method": "poststratify", "margins": margins}}),
    )
    for left, right in zip(raked.estimates, poststratified.estimates, strict=True):
        assert left.estimate == pytest.approx(right.estimate, rel=1e-12)
        assert left.se == pytest.approx(right.se, rel=1e-9)


def test_nps_is_share_of_promoters_minus_share_of_detractors():
    # Reichheld (2003): promoters 9-10, passives 7-8, detractors 0-6.
    answers = [10, 9, 9, 8, 7, 6, 0, 3, 10, 5, np.nan]
    frame = pd.DataFrame({"nps": answers})
    estimate = analyze(
        frame, parse_design({"indicators": [{"name": "nps", "kind": "nps", "item": "nps"}]})
    ).get("nps")
    promoters, detractors = 4 / 10, 4 / 10
    assert estimate.estimate == pytest.approx(100 * (promoters - detractors))
    assert estimate.n == 10


def test_index_averages_the_answered_items_with_their_weights():
    frame = pd.DataFrame(
        {
            "q1": [5, 1, np.nan, 3],
            "q2": [3, np.nan, np.nan, 4],
        }
    )
    design = parse_design(
        {
            "indicators": [
                {"name": "index", "kind": "index", "items": {"q1": 3, "q2": 1}, "scale": [1, 5]}
            ]
        }
    )
    estimate = analyze(frame, design).get("index")
    # Respondent scores: (3*100 + 1*50)/4 = 87.5; q1 only: 0; none answered: left out;
    # (3*50 + 1*75)/4 = 56.25.
    assert estimate.estimate == pytest.approx((87.5 + 0 + 56.25) / 3)
    assert estimate.n == 3


def test_text_values_of_a_proportion_compare_as_text():
    frame = pd.DataFrame({"answer": ["Yes", "No", "yes", "Yes", None, "Maybe"]})
    design = parse_design(
        {"indicators": [{"name": "yes", "kind": "proportion", "item": "answer", "values": ["Yes"]}]}
    )
    estimate = analyze(frame, design).get("yes")
    assert estimate.estimate == pytest.approx(2 / 5)
    assert estimate.n == 5


def test_numeric_values_compare_as_numbers_even_in_a_text_column():
    frame = pd.DataFrame({"answer": ["4", "5.0", "2", "n/a", None]})
    design = parse_design(
        {"indicators": [{"name": "top2", "kind": "proportion", "item": "answer", "values": [4, 5]}]}
    )
    estimate = analyze(frame, design).get("top2")
    # "n/a" is an answer that is not a success; the blank is not answered.
    assert estimate.estimate == pytest.approx(2 / 4)


def test_wald_interval_is_p_plus_minus_t_se():
    frame = pd.DataFrame({"q": [1, 0, 0, 1, 1, 1, 0, 1, 1, 1] * 4})
    design = parse_design(
        {
            "proportion_ci": "wald",
            "indicators": [{"name": "p", "kind": "proportion", "item": "q", "values": [1]}],
        }
    )
    estimate = analyze(frame, design).get("p")
    p, n = 0.7, 40
    se = math.sqrt(p * (1 - p) / (n - 1))  # SRS with replacement: s^2 / n
    t = stats.t.ppf(0.975, n - 1)
    assert estimate.se == pytest.approx(se, rel=1e-12)
    assert (estimate.ci_low, estimate.ci_high) == pytest.approx((p - t * se, p + t * se))


@pytest.mark.parametrize("method", ["logit", "beta"])
def test_proportion_of_zero_gets_the_clopper_pearson_interval_with_a_note(method):
    n = 25
    frame = pd.DataFrame({"q": [1.0] * n})
    design = parse_design(
        {
            "proportion_ci": method,
            "indicators": [{"name": "bad", "kind": "proportion", "item": "q", "values": [4, 5]}],
        }
    )
    estimate = analyze(frame, design).get("bad")
    assert estimate.estimate == 0
    assert estimate.ci_low == 0
    # Clopper & Pearson (1934) with 0 successes out of n: upper = 1 - (a/2)^(1/n).
    assert estimate.ci_high == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-9)
    assert "effective sample size" in estimate.note
    if method == "logit":
        assert "logit" in estimate.note and "beta" in estimate.note
    assert estimate.small_base is True


def test_proportion_of_one_with_logit_falls_back_to_beta():
    frame = pd.DataFrame({"q": [5.0] * 40})
    design = parse_design(
        {"indicators": [{"name": "top", "kind": "proportion", "item": "q", "values": [5]}]}
    )
    estimate = analyze(frame, design).get("top")
    assert estimate.estimate == 1
    assert estimate.ci_high == 1
    assert estimate.ci_low == pytest.approx(0.025 ** (1 / 40), rel=1e-9)
    assert "Korn-Graubard (beta)" in estimate.note
    assert estimate.small_base is False


def test_small_bases_and_empty_domains_are_flagged_not_dropped():
    frame = pd.DataFrame(
        {
            "site": ["a"] * 40 + ["b"] * 5 + ["c"] * 3,
            "q": [4.0] * 20 + [2.0] * 20 + [3.0, 5.0, 4.0, 1.0, 2.0] + [np.nan] * 3,
        }
    )
    result = analyze(
        frame,
        parse_design({"by": ["site"], "indicators": [{"name": "q", "kind": "mean", "item": "q"}]}),
    )
    assert result.get("q", {"site": "a"}).small_base is False
    small = result.get("q", {"site": "b"})
    assert small.small_base is True and small.n == 5 and small.estimate == pytest.approx(3.0)
    empty = result.get("q", {"site": "c"})
    assert empty.n == 0 and empty.estimate is None and "no respondent" in empty.note


def test_numeric_domain_values_come_back_as_numbers():
    frame = pd.DataFrame({"site": [1.0, 1.0, 2.0, 2.0], "q": [1.0, 2.0, 3.0, 5.0]})
    result = analyze(
        frame,
        parse_design({"by": ["site"], "indicators": [{"name": "q", "kind": "mean", "item": "q"}]}),
    )
    domains = [estimate.domain for estimate in result.estimates]
    assert domains == [None, {"site": 1}, {"site": 2}]
    assert result.get("q", {"site": 2}).estimate == pytest.approx(4.0)


def test_design_effect_compares_with_simple_random_sampling_of_the_same_size():
    # Kish (1965): deff = var / var_SRS. Weights alternating 1 and 3 with y uncorrelated
    # to them inflate the variance by Kish's 1 + cv^2 = n sum w^2 / (sum w)^2 = 1.25.
    frame = pd.DataFrame({"w": [1.0, 3.0] * 200, "q": [1.0, 1.0, 0.0, 0.0] * 100})
    estimate = analyze(
        frame,
        parse_design({"weights": "w", "indicators": [{"name": "q", "kind": "mean", "item": "q"}]}),
    ).get("q")
    assert estimate.deff == pytest.approx(1.25, rel=1e-9)
