"""Key drivers: weighted correlations and satisfied shares, checked by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.design import AnalysisInputError
from analysis.drivers import OVERKILL, PRIORITY, SECONDARY, STRENGTH, key_drivers, quadrant

# overall = 1..5; a = 2, 1, 4, 3, 5
# deviations (means 3): overall -2, -1, 0, 1, 2; a -1, -2, 1, 0, 2
# Σ = 2 + 2 + 0 + 0 + 4 = 8; Σa² = Σoverall² = 10; r = 8 / 10 = 0.8
FIVE = pd.DataFrame({"overall": [1, 2, 3, 4, 5], "a": [2, 1, 4, 3, 5], "b": [5, 4, 3, 2, 1]})


def test_unweighted_importance_and_performance_by_hand():
    result = key_drivers(FIVE, ["a", "b"], "overall", satisfied=[4, 5])
    a, b = result.drivers
    assert a.importance == pytest.approx(0.8)
    assert b.importance == pytest.approx(-1.0)
    # a: answers 4 and 5 among five -> 2/5; b: 5 and 4 -> 2/5
    assert (a.performance, b.performance) == (pytest.approx(0.4), pytest.approx(0.4))
    assert (a.n_importance, a.n_performance) == (5, 5)


def test_integer_weights_act_as_replicated_respondents():
    weights = [2, 1, 3, 1, 1]
    result = key_drivers(FIVE.assign(w=weights), ["a", "b"], "overall", [4, 5], weights="w")
    replicated = FIVE.loc[FIVE.index.repeat(weights)]
    expected = np.corrcoef(replicated["a"], replicated["overall"])[0, 1]
    assert result.drivers[0].importance == pytest.approx(expected)
    # satisfied with a: rows 3 (weight 3) and 5 (weight 1) -> 4 / 8
    assert result.drivers[0].performance == pytest.approx(4 / 8)


def test_pairwise_complete_cases():
    # a missing for row 5 and overall missing for row 1 -> pairs rows 2, 3, 4:
    # overall 2, 3, 4; a 1, 4, 3 -> deviations (-1, 0, 1) and (-1.67, 1.33, 0.33):
    # Σ = 1.67 + 0.33 = 2; Σx² = 2; Σa² = 2.78 + 1.78 + 0.11 = 4.67; r = 2 / sqrt(9.33)
    data = FIVE.astype(float)
    data.loc[4, "a"] = None
    data.loc[0, "overall"] = None
    a = key_drivers(data, ["a", "b"], "overall", [4, 5]).drivers[0]
    assert a.importance == pytest.approx(2 / math.sqrt(2 * 14 / 3))
    assert a.n_importance == 3
    # performance uses every answer to a: 2, 1, 4, 3 -> one satisfied of four
    assert (a.performance, a.n_performance) == (pytest.approx(0.25), 4)


def test_quadrants_split_at_the_medians():
    # importance: wait 1.0; courtesy 0.970; web 0.189; hours -1/sqrt(48) = -0.144 (by hand:
    # hours mean 4.6, Σ dev×dev = -1.0, Σ dev² = 20 and 2.4) -> median (0.189 + 0.970)/2
    # performance with [4, 5]: wait 4/10, courtesy 6/10, hours 10/10, web 0/10 -> median 0.5
    overall = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]
    data = pd.DataFrame(
        {
            "overall": overall,
            "wait": overall,
            "courtesy": [min(value + 1, 5) for value in overall],
            "hours": [5, 5, 4, 5, 4, 4, 5, 5, 4, 5],
            "web": [1, 3, 2, 1, 2, 2, 1, 1, 3, 2],
        }
    )
    result = key_drivers(data, ["wait", "courtesy", "hours", "web"], "overall", [4, 5])
    by_item = {driver.item: driver for driver in result.drivers}
    assert by_item["hours"].importance == pytest.approx(-1 / math.sqrt(48))
    assert result.performance_median == pytest.approx(0.5)
    assert result.importance_median == pytest.approx(
        (by_item["web"].importance + by_item["courtesy"].importance) / 2
    )
    assert {item: driver.quadrant for item, driver in by_item.items()} == {
        "wait": PRIORITY,
        "courtesy": STRENGTH,
        "hours": OVERKILL,
        "web": SECONDARY,
    }
    assert list(result.to_frame().index) == ["wait", "courtesy", "hours", "web"]


def test_satisfied_values_per_item():
    result = key_drivers(FIVE, ["a", "b"], "overall", satisfied={"a": [5], "b": [1, 2]})
    assert [driver.performance for driver in result.drivers] == pytest.approx([0.2, 0.4])


def test_a_tie_at_the_median_counts_as_high():
    assert quadrant(0.5, 0.5, 0.5, 0.5) == STRENGTH
    assert quadrant(0.5, 0.4, 0.5, 0.5) == PRIORITY


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"items": ["a"]}, "at least two items"),
        ({"items": "a"}, "list of column names"),
        ({"items": ["a", "overall"]}, "cannot also be a driver"),
        ({"items": ["a", "zz"]}, "item 'zz' is not a column"),
        ({"overall": "nope"}, "overall item 'nope' is not a column"),
        ({"satisfied": {"a": [4, 5]}}, r"no satisfied values for items \['b'\]"),
        ({"satisfied": []}, "must be a non-empty list"),
        ({"weights": "w"}, "weights column 'w' is not a column"),
    ],
)
def test_bad_input(kwargs, message):
    arguments = {"items": ["a", "b"], "overall": "overall", "satisfied": [4, 5]} | kwargs
    with pytest.raises(AnalysisInputError, match=message):
        key_drivers(FIVE, **arguments)


def test_non_positive_weight_names_the_row():
    data = FIVE.assign(w=[1, 1, 0, 1, 1])
    with pytest.raises(AnalysisInputError, match=r"must be positive, got 0.0 at row 2"):
        key_drivers(data, ["a", "b"], "overall", [4, 5], weights="w")


def test_constant_item_is_refused_with_its_name():
    with pytest.raises(AnalysisInputError, match="same answer to 'b'.*leave it out"):
        key_drivers(FIVE.assign(b=4), ["a", "b"], "overall", [4, 5])


def test_non_numeric_answer_names_the_row():
    data = FIVE.astype(object)
    data.loc[1, "a"] = "good"
    with pytest.raises(
        AnalysisInputError, match=r"item 'a' holds a non-numeric value 'good' at row 1"
    ):
        key_drivers(data, ["a", "b"], "overall", [4, 5])
