"""Properties every design-based estimate must have, checked on generated surveys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import analyze, final_weights, parse_design

INDICATORS = [
    {"name": "mean", "kind": "mean", "item": "q1"},
    {"name": "top2", "kind": "proportion", "item": "q1", "values": [4, 5]},
    {"name": "nps", "kind": "nps", "item": "nps"},
    {"name": "index", "kind": "index", "items": {"q1": 2, "q2": 1}, "scale": [1, 5]},
]


@st.composite
def surveys(draw, min_size=12, max_size=60):
    n = draw(st.integers(min_size, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            # Two respondents at least per stratum and in every channel x segment cell.
            "stratum": np.resize(["A", "A", "B", "B", "C", "C"], n),
            "channel": np.resize(["email", "phone"], n),
            "segment": np.resize(["pro", "pro", "retail", "retail"], n),
            "w": rng.uniform(1, 20, n).round(3),
            "q1": rng.integers(1, 6, n).astype(float),
            "q2": rng.integers(1, 6, n).astype(float),
            "nps": rng.integers(0, 11, n).astype(float),
        }
    )
    for column in ("q1", "q2", "nps"):
        frame.loc[rng.random(n) < 0.1, column] = np.nan
    frame.loc[0, "q1"] = 5.0  # every indicator has an answer
    frame.loc[1, "q1"] = 1.0
    frame.loc[0, "nps"] = 9.0
    return frame


RAKED = parse_design(
    {
        "strata": "stratum",
        "population": {"A": 500, "B": 800, "C": 700},
        "calibration": {
            "method": "rake",
            "margins": {
                "channel": {"email": 1200, "phone": 800},
                "segment": {"pro": 900, "retail": 1100},
            },
        },
        "by": ["channel"],
        "indicators": INDICATORS,
    }
)
WEIGHTED = parse_design(
    {
        "weights": "w",
        "strata": "stratum",
        "by": ["segment"],
        "proportion_ci": "beta",
        "indicators": INDICATORS,
    }
)
SIMPLE = parse_design({"indicators": INDICATORS})

_settings = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _numbers(result):
    # None (no interval when df is 0) as NaN, compared with nan_ok.
    return [
        np.nan if value is None else value
        for e in result.estimates
        for value in (e.estimate, e.se, e.ci_low, e.ci_high, e.df, e.n)
    ]


@_settings
@given(surveys(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(frame, random):
    order = list(range(len(frame)))
    random.shuffle(order)
    shuffled = frame.iloc[order].reset_index(drop=True)
    for design in (RAKED, WEIGHTED):
        assert _numbers(analyze(shuffled, design)) == pytest.approx(
            _numbers(analyze(frame, design)), rel=1e-9, nan_ok=True
        )


@_settings
@given(surveys(), st.floats(0.01, 1000))
def test_scaling_the_weights_changes_nothing(frame, factor):
    scaled = frame.assign(w=frame["w"] * factor)
    assert _numbers(analyze(scaled, WEIGHTED)) == pytest.approx(
        _numbers(analyze(frame, WEIGHTED)), rel=1e-9, nan_ok=True
    )


@_settings
@given(surveys())
def test_raked_weights_meet_every_margin(frame):
    weights = final_weights(frame, RAKED)
    assert weights.groupby(frame["channel"]).sum().to_dict() == pytest.approx(
        {"email": 1200, "phone": 800}, rel=1e-9
    )
    assert weights.groupby(frame["segment"]).sum().to_dict() == pytest.approx(
        {"pro": 900, "retail": 1100}, rel=1e-9
    )


@_settings
@given(surveys())
def test_simple_random_sample_has_design_effect_one(frame):
    # Among the r respondents, the n_d who answered are a domain: the design variance
    # r/(r-1) sum (y - ybar)^2 / n_d^2 exceeds s^2/n_d by r (n_d - 1) / ((r - 1) n_d),
    # which is 1 when everyone answered.
    respondents = len(frame)
    for estimate in analyze(frame, SIMPLE).estimates:
        answered = estimate.n
        expected = respondents * (answered - 1) / ((respondents - 1) * answered)
        assert estimate.deff == pytest.approx(expected, rel=1e-9)


@_settings
@given(surveys())
def test_intervals_contain_the_estimate_and_proportions_stay_in_0_1(frame):
    for design in (RAKED, WEIGHTED, SIMPLE):
        for estimate in analyze(frame, design).estimates:
            if estimate.df == 0:
                assert estimate.ci_low is None and "degrees of freedom" in estimate.note
                continue
            assert estimate.ci_low <= estimate.estimate <= estimate.ci_high
            if estimate.indicator == "top2":
                assert estimate.ci_low >= 0 and estimate.ci_high <= 1


@_settings
@given(surveys())
def test_domains_partition_the_respondents(frame):
    result = analyze(frame, WEIGHTED)
    for indicator in ("mean", "nps"):
        whole = result.get(indicator)
        parts = [result.get(indicator, {"segment": s}) for s in ("pro", "retail")]
        assert sum(part.n for part in parts) == whole.n
