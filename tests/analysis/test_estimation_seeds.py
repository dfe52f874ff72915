"""The engine against R on cases made with other seeds (see reference_seeds/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis import analyze, parse_design, read_responses

SEEDS = Path(__file__).parent / "reference_seeds"
CASES = sorted(path.name for path in SEEDS.iterdir() if (path / "expected.json").exists())
NUMBERS = ("estimate", "se", "ci_low", "ci_high")


def test_fifteen_cases_from_three_seeds() -> None:
    assert len(CASES) == 15


@pytest.mark.parametrize("case", CASES)
def test_every_estimate_matches_r(case: str) -> None:
    folder = SEEDS / case
    design = parse_design(json.loads((folder / "design.json").read_text()))
    responses = read_responses(folder / "responses.csv", design.categorical_columns())
    found = {
        (estimate.indicator, json.dumps(estimate.domain, sort_keys=True)): estimate
        for estimate in analyze(responses, design).estimates
    }
    expected = json.loads((folder / "expected.json").read_text())["estimates"]
    assert len(found) == len(expected)
    for row in expected:
        estimate = found[(row["indicator"], json.dumps(row["domain"], sort_keys=True))]
        where = f"{case}: {row['indicator']} {row['domain']}"
        for key in NUMBERS:
            assert getattr(estimate, key) == pytest.approx(row[key], rel=1e-6), f"{where} {key}"
        assert (estimate.df, estimate.n) == (row["df"], row["n"]), where
