"""Every estimate of the reference cases, against R's survey package.

The cases (tests/analysis/reference/<case>/) were computed by R 4 with survey 4.1.1
(Lumley) from tests/analysis/reference/make_cases.R; `api_strat` is R's own `apistrat` example.
The contract asks for `estimate`, `se`, `ci_low`, `ci_high` to a relative 1e-6 and `df`, `n`
exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis import analyze, parse_design, read_responses

REFERENCE = Path(__file__).parent / "reference"
CASES = sorted(path.name for path in REFERENCE.iterdir() if (path / "expected.json").exists())


def _load(case: str):
    design = parse_design(json.loads((REFERENCE / case / "design.json").read_text()))
    responses = read_responses(REFERENCE / case / "responses.csv", design.categorical_columns())
    expected = json.loads((REFERENCE / case / "expected.json").read_text())["estimates"]
    return responses, design, expected


_RESULTS: dict[str, object] = {}


def _result(case: str):
    # One analysis per case, shared by its parametrised estimates.
    if case not in _RESULTS:
        responses, design, _ = _load(case)
        _RESULTS[case] = analyze(responses, design)
    return _RESULTS[case]


def _expected_estimates():
    for case in CASES:
        _, _, expected = _load(case)
        for row in expected:
            domain = "whole" if row["domain"] is None else json.dumps(row["domain"])
            yield pytest.param(case, row, id=f"{case}-{row['indicator']}-{domain}")


def test_every_case_is_there():
    assert CASES == [
        "api_strat",
        "poststratified",
        "raked",
        "srs_fpc",
        "stratified",
        "weights_only",
    ]


@pytest.mark.parametrize(("case", "expected"), list(_expected_estimates()))
def test_estimate_matches_r(case, expected):
    estimate = _result(case).get(expected["indicator"], expected["domain"])
    for key in ("estimate", "se", "ci_low", "ci_high"):
        assert getattr(estimate, key) == pytest.approx(expected[key], rel=1e-6), key
    assert estimate.df == expected["df"]
    assert estimate.n == expected["n"]


@pytest.mark.parametrize("case", CASES)
def test_same_estimates_in_the_same_order_as_r(case):
    _, _, expected = _load(case)
    produced = _result(case).to_dict()["estimates"]
    assert [(e["indicator"], e["domain"]) for e in produced] == [
        (e["indicator"], e["domain"]) for e in expected
    ]
    contract_keys = {"indicator", "domain", "estimate", "se", "ci_low", "ci_high", "df", "n"}
    assert all(contract_keys <= set(e) for e in produced)


def test_api_strat_matches_the_published_example():
    # Lumley (2010), Complex Surveys, §2.3 / R's ?svydesign: svymean(~api00, dstrat)
    # gives 662.29, SE 9.4089.
    estimate = _result("api_strat").get("api00_mean")
    assert estimate.estimate == pytest.approx(662.29, abs=0.005)
    assert estimate.se == pytest.approx(9.4089, abs=0.00005)
