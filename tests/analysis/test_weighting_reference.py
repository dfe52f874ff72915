"""Representativeness and two points of R-equality, against values computed by R.

`weighting_reference/expected.json` was written by `weighting_reference/make_weighting_cases.R`
(R 4, survey 4.1.1): the R-indicator and partial R-indicators of `sample.csv` from R's `glm`,
response rates by level from `svyciprop`, Korn-Graubard intervals in the domains of a raked
design, and a certainty stratum.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis import analyze, parse_design, read_responses
from analysis.estimation import proportion_interval
from analysis.representativeness import r_indicator, response_rates

HERE = Path(__file__).parent / "weighting_reference"
EXPECTED = json.loads((HERE / "expected.json").read_text())
POPULATION = {"V": 1000, "O": 20000}
RAKED = {
    "confidence": 0.95,
    "strata": "stratum",
    "population": {"A": 3359, "B": 6690, "C": 9951},
    "calibration": {
        "method": "rake",
        "margins": {
            "channel": {"email": 6046, "letter": 3990, "phone": 9964},
            "segment": {"pro": 10063, "retail": 9937},
        },
    },
    "proportion_ci": "beta",
    "by": ["channel"],
    "indicators": [{"name": "sat", "kind": "proportion", "item": "q1", "values": [4, 5]}],
}


def _sample() -> pd.DataFrame:
    return pd.read_csv(HERE / "sample.csv", dtype={"stratum": str, "segment": str, "channel": str})


@pytest.fixture(scope="module")
def indicator():
    return r_indicator(
        _sample(), ["segment", "channel"], strata="stratum", population=POPULATION,
        replicates=50,
    )  # fmt: skip


def test_r_indicator_matches_r(indicator):
    expected = EXPECTED["r_indicator"]
    assert indicator.r == pytest.approx(expected["r"], rel=1e-7)
    assert indicator.mean_propensity == pytest.approx(expected["mean_propensity"], rel=1e-7)
    assert indicator.sd_propensity == pytest.approx(expected["sd_propensity"], rel=1e-7)
    assert indicator.cv == pytest.approx(expected["cv"], rel=1e-7)
    for name, value in expected["model"].items():
        assert indicator.model[name] == pytest.approx(value, rel=1e-6)


def test_partial_r_indicators_match_r(indicator):
    for partial, expected in zip(
        indicator.partial, EXPECTED["r_indicator"]["partial"], strict=True
    ):
        assert partial.variable == expected["variable"]
        assert partial.unconditional == pytest.approx(expected["unconditional"], rel=1e-7)
        assert partial.conditional == pytest.approx(expected["conditional"], rel=1e-7)
        for level, wanted in zip(partial.levels, expected["levels"], strict=True):
            assert level["level"] == wanted["level"]
            assert level["unconditional"] == pytest.approx(wanted["unconditional"], rel=1e-7)
            assert level["conditional"] == pytest.approx(wanted["conditional"], rel=1e-7)


def test_r_indicator_standard_error_is_a_reproducible_bootstrap(indicator):
    again = r_indicator(
        _sample(), ["segment", "channel"], strata="stratum", population=POPULATION,
        replicates=50,
    )  # fmt: skip
    assert again.se == indicator.se
    assert 0 < indicator.se < 0.1
    assert indicator.ci_low < indicator.r < indicator.ci_high
    other_seed = r_indicator(
        _sample(), ["segment", "channel"], strata="stratum", population=POPULATION,
        replicates=50, seed=1,
    )  # fmt: skip
    assert other_seed.se != indicator.se
    assert other_seed.se == pytest.approx(indicator.se, rel=0.5)


def test_a_response_independent_of_the_variables_has_r_near_one():
    sample = _sample()
    sample["responded"] = (sample.index % 3 == 0).astype(int)
    result = r_indicator(sample, ["segment", "channel"], replicates=0)
    assert result.r > 0.95
    assert result.se is None


def test_response_rates_by_level_match_r():
    rates = response_rates(
        _sample(), ["segment", "channel"], strata="stratum", population=POPULATION
    )
    assert rates[0].variable == "" and rates[0].sampled == 3000
    by_level = {(rate.variable, rate.level): rate for rate in rates[1:]}
    for expected in EXPECTED["response_rates"]:
        rate = by_level[(expected["variable"], expected["level"])]
        for field in ("rate", "se", "ci_low", "ci_high"):
            assert getattr(rate, field) == pytest.approx(expected[field], rel=1e-7), field


def test_beta_interval_in_a_domain_of_a_calibrated_design_is_barometre_s_choice():
    """R's svyciprop counts every row of the calibrated design (zero-weight rows of a subset
    included) in Korn and Graubard's degrees-of-freedom ratio; barometre counts the domain's
    respondents who answered. Estimates, standard errors and df agree; the bounds differ, and
    putting R's count into barometre's formula gives R's bounds."""
    design = parse_design(RAKED)
    responses = read_responses(HERE / "raked_responses.csv", design.categorical_columns())
    estimates = {e.domain["channel"]: e for e in analyze(responses, design).estimates if e.domain}
    for expected in EXPECTED["beta_raked_domains"]:
        ours = estimates[expected["channel"]]
        assert ours.estimate == pytest.approx(expected["estimate"], rel=1e-9)
        assert ours.se == pytest.approx(expected["se"], rel=1e-6)
        assert ours.df == expected["df"]
        assert ours.n == expected["n"] < expected["rows"]
        assert ours.ci_low != pytest.approx(expected["ci_low"], rel=1e-4)
        low, high, _ = proportion_interval(
            ours.estimate, ours.se, ours.df, expected["rows"], 0.95, "beta"
        )
        assert low == pytest.approx(expected["ci_low"], rel=1e-6)
        assert high == pytest.approx(expected["ci_high"], rel=1e-6)


def test_a_certainty_stratum_has_zero_variance_as_in_r():
    responses = pd.DataFrame(
        {"stratum": ["A", "A", "A", "B", "B", "B", "Z"], "y": [3, 4, 5, 2, 4, 5, 1]}
    )
    design = parse_design(
        {
            "strata": "stratum",
            "population": {"A": 10, "B": 20, "Z": 1},
            "indicators": [{"name": "y", "kind": "mean", "item": "y"}],
        }
    )
    (estimate,) = analyze(responses, design).estimates
    expected = EXPECTED["certainty"]
    assert estimate.estimate == pytest.approx(expected["estimate"], rel=1e-9)
    assert estimate.se == pytest.approx(expected["se"], rel=1e-9)
    assert estimate.df == expected["df"]


def test_a_single_respondent_in_a_stratum_larger_than_one_is_still_refused():
    responses = pd.DataFrame({"stratum": ["A", "A", "Z"], "y": [3, 4, 1]})
    design = parse_design(
        {
            "strata": "stratum",
            "population": {"A": 10, "Z": 2},
            "indicators": [{"name": "y", "kind": "mean", "item": "y"}],
        }
    )
    with pytest.raises(Exception, match="single respondent"):
        analyze(responses, design)


def test_analyze_with_the_sample_file_adds_representativeness(tmp_path):
    from analysis.cli import run_analyze

    design = tmp_path / "design.json"
    design.write_text(
        json.dumps(
            {
                "strata": "stratum",
                "population": POPULATION,
                "indicators": [{"name": "resp", "kind": "mean", "item": "responded"}],
            }
        )
    )
    out = tmp_path / "results.json"
    status = run_analyze(HERE / "sample.csv", design, out, sample_path=HERE / "sample.csv")
    assert status == 0
    document = json.loads(out.read_text())
    indicator = document["representativeness"]["r_indicator"]
    assert indicator["variables"] == ["segment", "channel"]
    assert indicator["r"] == pytest.approx(EXPECTED["r_indicator"]["r"], rel=1e-7)
    rates = document["representativeness"]["response_rates"]
    assert rates[1]["variable"] == "segment"
