"""Cronbach's alpha and Feldt's interval, checked by hand.

F quantiles are those of printed tables (e.g. Abramowitz & Stegun, table 26.9):
F(0.975; 4, 8) = 5.0526 and F(0.975; 8, 4) = 8.9796, so F(0.025; 4, 8) = 1 / 8.9796.
"""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.design import AnalysisInputError
from analysis.reliability import cronbach_alpha

# Five respondents, three items.
#            q1 q2 q3  total
#   r1        1  2  2      5
#   r2        2  2  3      7
#   r3        3  4  3     10
#   r4        4  4  5     13
#   r5        5  3  4     12
# q1: mean 3,   SS 4+1+0+1+4                = 10,   s² = 2.5
# q2: mean 3,   SS 1+1+1+1+0                = 4,    s² = 1.0
# q3: mean 3.4, SS 1.96+0.16+0.16+2.56+0.36 = 5.2,  s² = 1.3
# total: mean 9.4, SS 19.36+5.76+0.36+12.96+6.76 = 45.2, s² = 11.3
# alpha = 3/2 × (1 - 4.8/11.3) = 9.75/11.3 = 0.862832
ITEMS = pd.DataFrame({"q1": [1, 2, 3, 4, 5], "q2": [2, 2, 4, 4, 3], "q3": [2, 3, 3, 5, 4]})
ALPHA = 9.75 / 11.3


def test_alpha_by_hand():
    result = cronbach_alpha(ITEMS, ["q1", "q2", "q3"])
    assert result.alpha == pytest.approx(ALPHA)
    assert (result.n, result.k) == (5, 3)


def test_feldt_interval_from_printed_f_quantiles():
    # df = n - 1 = 4 and (n - 1)(k - 1) = 8
    # low  = 1 - (1 - 0.862832) × 5.0526       = 0.30694
    # high = 1 - (1 - 0.862832) × (1 / 8.9796) = 0.98472
    result = cronbach_alpha(ITEMS, ["q1", "q2", "q3"], confidence=0.95)
    assert result.ci_low == pytest.approx(1 - (1 - ALPHA) * 5.0526, rel=1e-4)
    assert result.ci_high == pytest.approx(1 - (1 - ALPHA) / 8.9796, rel=1e-5)


def test_alpha_if_item_deleted_by_hand():
    # Without q1: q2 s² = 1, q3 s² = 1.3; totals 4, 5, 7, 9, 7: mean 6.4,
    # SS = 5.76+1.96+0.36+6.76+0.36 = 15.2, s² = 3.8; alpha = 2 × (1 - 2.3/3.8) = 0.789474
    result = cronbach_alpha(ITEMS, ["q1", "q2", "q3"])
    deleted = dict(result.alpha_if_deleted)
    assert list(deleted) == ["q1", "q2", "q3"]
    assert deleted["q1"] == pytest.approx(2 * (1 - 2.3 / 3.8))


def test_incomplete_respondents_are_left_out():
    with_gaps = pd.concat(
        [ITEMS, pd.DataFrame({"q1": [5, None], "q2": [None, 1], "q3": [1, 1]})], ignore_index=True
    )
    result = cronbach_alpha(with_gaps, ["q1", "q2", "q3"])
    assert result.n == 5
    assert result.alpha == pytest.approx(ALPHA)


def test_identical_items_have_alpha_one():
    data = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 2, 3, 4]})
    result = cronbach_alpha(data, ["a", "b"])
    assert result.alpha == pytest.approx(1.0)
    assert result.ci_low == pytest.approx(1.0)
    assert result.alpha_if_deleted == ()


def test_two_items_alpha_is_four_covariances_over_total_variance():
    # k = 2: alpha = 2 (1 - (s1² + s2²)/s_T²) = 4 cov(a, b) / s_T²
    rng = np.random.default_rng(7)
    a = rng.integers(1, 6, 50)
    b = np.clip(a + rng.integers(-1, 2, 50), 1, 5)
    data = pd.DataFrame({"a": a, "b": b})
    expected = 4 * np.cov(a, b, ddof=1)[0, 1] / np.var(a + b, ddof=1)
    assert cronbach_alpha(data, ["a", "b"]).alpha == pytest.approx(expected)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["q1"], "at least two items"),
        ("q1", "list of column names"),
        (["q1", "q9"], r"items \['q9'\] are not columns"),
        (["q1", "q1"], "listed twice"),
    ],
)
def test_bad_items(items, message):
    with pytest.raises(AnalysisInputError, match=message):
        cronbach_alpha(ITEMS, items)


def test_non_numeric_answer_names_item_and_row():
    data = ITEMS.astype(object)
    data.loc[3, "q2"] = "four"
    with pytest.raises(
        AnalysisInputError, match=r"item 'q2' holds a non-numeric answer 'four' at row 3"
    ):
        cronbach_alpha(data, ["q1", "q2"])


def test_too_few_complete_respondents():
    data = pd.DataFrame({"a": [1, 2, None], "b": [2, 3, 4]})
    with pytest.raises(AnalysisInputError, match="at least 3 respondents.*found 2"):
        cronbach_alpha(data, ["a", "b"])


def test_constant_totals():
    data = pd.DataFrame({"a": [1, 2, 3], "b": [3, 2, 1]})
    with pytest.raises(AnalysisInputError, match="same total"):
        cronbach_alpha(data, ["a", "b"])


def test_confidence_must_be_a_level():
    with pytest.raises(AnalysisInputError, match="confidence"):
        cronbach_alpha(ITEMS, ["q1", "q2"], confidence=95)


def test_result_is_frozen():
    result = cronbach_alpha(ITEMS, ["q1", "q2", "q3"])
    with pytest.raises(AttributeError):
        result.alpha = math.nan
