"""The design file: what parse_design accepts, and what it refuses with which message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis import AnalysisInputError, DesignSpec, parse_design

REFERENCE = Path(__file__).parent / "reference"
MEAN = {"name": "q1_mean", "kind": "mean", "item": "q1"}


def test_contract_example_is_read_in_full():
    design = parse_design(
        {
            "confidence": 0.9,
            "strata": "stratum",
            "population": {"A": 3359, "B": 6690, "C": 9951},
            "weights": "w",
            "calibration": {
                "method": "rake",
                "margins": {
                    "channel": {"email": 6046, "letter": 3990, "phone": 9964},
                    "segment": {"pro": 10063, "retail": 9937},
                },
            },
            "proportion_ci": "beta",
            "by": ["channel"],
            "indicators": [
                MEAN,
                {"name": "q1_satisfied", "kind": "proportion", "item": "q1", "values": [4, 5]},
                {"name": "nps", "kind": "nps", "item": "nps"},
                {
                    "name": "index",
                    "kind": "index",
                    "items": {"q1": 2, "q2": 1, "q3": 1},
                    "scale": [1, 5],
                },
            ],
        }
    )
    assert isinstance(design, DesignSpec)
    assert design.confidence == 0.9
    assert design.stratum_populations == {"A": 3359, "B": 6690, "C": 9951}
    assert design.population_total == 20000
    assert design.calibration.variables == ("channel", "segment")
    assert design.indicators[1].values == (4, 5)
    assert design.indicators[3].items == (("q1", 2), ("q2", 1), ("q3", 1))
    assert design.indicators[3].columns == ("q1", "q2", "q3")
    assert design.categorical_columns() == ("stratum", "channel", "segment")
    with pytest.raises(AttributeError):
        design.confidence = 0.5  # frozen


def test_defaults():
    design = parse_design({"indicators": [MEAN]})
    assert (design.confidence, design.proportion_ci, design.by) == (0.95, "logit", ())
    assert design.population is None and design.calibration is None


@pytest.mark.parametrize("case", sorted(p.name for p in REFERENCE.iterdir() if p.is_dir()))
def test_a_design_written_back_reads_the_same(case):
    design = parse_design(json.loads((REFERENCE / case / "design.json").read_text()))
    assert parse_design(json.loads(json.dumps(design.to_mapping()))) == design


@pytest.mark.parametrize(
    ("mapping", "fragment"),
    [
        ([MEAN], "must be a JSON object"),
        ({}, "no 'indicators'"),
        ({"indicators": [MEAN], "stratum": "s"}, "unknown key(s) 'stratum'"),
        ({"indicators": [MEAN], "confidence": 95}, "strictly between 0 and 1"),
        ({"indicators": [MEAN], "confidence": "0.95"}, "'confidence' must be a number"),
        ({"indicators": [MEAN], "confidence": True}, "'confidence' must be a number"),
        ({"indicators": [MEAN], "proportion_ci": "exact"}, "'proportion_ci' must be one of"),
        ({"indicators": [MEAN], "by": "channel"}, "'by' must be a list"),
        ({"indicators": [MEAN], "by": ["a", "a"]}, "'by' lists 'a' more than once"),
        ({"indicators": [MEAN], "population": {"A": 10}}, "has no 'strata'"),
        ({"indicators": [MEAN], "strata": "s", "population": 10}, "must map each stratum"),
        (
            {"indicators": [MEAN], "strata": "s", "population": {"A": -3}},
            "'population'['A'] must be positive",
        ),
        ({"indicators": [MEAN], "population": 0}, "'population' must be positive"),
        ({"indicators": [MEAN], "weights": 3}, "'weights' must name a column"),
        (
            {"indicators": [MEAN], "calibration": {"method": "ipf", "margins": {}}},
            "'calibration.method' must be one of",
        ),
        (
            {"indicators": [MEAN], "calibration": {"method": "rake"}},
            "'calibration.margins' must map",
        ),
        (
            {
                "indicators": [MEAN],
                "calibration": {
                    "method": "poststratify",
                    "margins": {"a": {"x": 1}, "b": {"y": 1}},
                },
            },
            "exactly one variable",
        ),
        (
            {
                "indicators": [MEAN],
                "calibration": {"method": "rake", "margins": {"a": {"x": "many"}}},
            },
            "'calibration.margins.a'['x'] must be a number",
        ),
        (
            {
                "indicators": [MEAN],
                "calibration": {"method": "rake", "margins": {"a": {"x": 1}}, "max_iterations": 0},
            },
            "positive integer",
        ),
        ({"indicators": []}, "non-empty list"),
        ({"indicators": [MEAN, MEAN]}, "'q1_mean' used more than once"),
        ({"indicators": [{"kind": "mean", "item": "q"}]}, "indicator #1 needs a 'name'"),
        (
            {"indicators": [{"name": "x", "kind": "median", "item": "q"}]},
            "indicator 'x': 'kind' must be one of mean, proportion, nps, index",
        ),
        (
            {"indicators": [{"name": "x", "kind": "mean", "item": "q", "values": [1]}]},
            "indicator 'x' (kind 'mean') has unknown key(s) 'values'",
        ),
        ({"indicators": [{"name": "x", "kind": "mean"}]}, "indicator 'x' needs an 'item'"),
        (
            {"indicators": [{"name": "x", "kind": "proportion", "item": "q"}]},
            "indicator 'x': 'values' must be a non-empty list",
        ),
        (
            {"indicators": [{"name": "x", "kind": "proportion", "item": "q", "values": [None]}]},
            "indicator 'x': each entry of 'values' must be a number",
        ),
        (
            {"indicators": [{"name": "x", "kind": "index", "items": ["q1"], "scale": [1, 5]}]},
            "indicator 'x': 'items' must map",
        ),
        (
            {"indicators": [{"name": "x", "kind": "index", "items": {"q1": 0}, "scale": [1, 5]}]},
            "weight of item 'q1' must be positive",
        ),
        (
            {"indicators": [{"name": "x", "kind": "index", "items": {"q1": 1}, "scale": [5, 1]}]},
            "minimum 5 must be below maximum 1",
        ),
        (
            {"indicators": [{"name": "x", "kind": "index", "items": {"q1": 1}, "scale": 5}]},
            "'scale' must be [min, max]",
        ),
    ],
)
def test_bad_designs_are_refused_with_a_message(mapping, fragment):
    with pytest.raises(AnalysisInputError) as raised:
        parse_design(mapping)
    assert fragment in str(raised.value)
