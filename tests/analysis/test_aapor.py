"""AAPOR outcome rates (Standard Definitions, 10th ed., 2023), checked on worked examples.

Every expected value below is the AAPOR formula evaluated by hand on the counts.
"""

import json
import math

import pandas as pd
import pytest

from analysis.aapor import (
    DISPOSITION_TO_AAPOR,
    DISPOSITION_TO_AAPOR_NAMED_PERSONS,
    DISPOSITIONS,
    aapor_counts,
    estimate_e,
    outcome_rates,
    rates_from_dispositions,
)
from analysis.design import AnalysisInputError

# I=400 P=50 R=100 NC=300 O=50 UH=0 UO=100 NE=50
# I+P = 450; known eligible = 450 + 100 + 300 + 50 = 900; U = 100
# e = 900 / (900 + 50) = 18/19, so 900 + eU = 900 + 1800/19 = 18900/19
WORKED = {"I": 400, "P": 50, "R": 100, "NC": 300, "O": 50, "UH": 0, "UO": 100, "NE": 50}


def test_worked_example_response_rates():
    rates = outcome_rates(WORKED)
    assert rates.e == pytest.approx(18 / 19)
    assert rates.rr1 == pytest.approx(400 / 1000)
    assert rates.rr2 == pytest.approx(450 / 1000)
    assert rates.rr3 == pytest.approx(400 * 19 / 18900)  # 0.402116
    assert rates.rr4 == pytest.approx(450 * 19 / 18900)  # 0.452381
    assert rates.rr5 == pytest.approx(400 / 900)
    assert rates.rr6 == pytest.approx(450 / 900)


def test_worked_example_cooperation_refusal_contact_rates():
    rates = outcome_rates(WORKED)
    # cooperation: contacted eligible = (I+P) + R + O = 600; without O: 550
    assert rates.coop1 == pytest.approx(400 / 600)
    assert rates.coop2 == pytest.approx(450 / 600)
    assert rates.coop3 == pytest.approx(400 / 550)
    assert rates.coop4 == pytest.approx(450 / 550)
    # refusal
    assert rates.ref1 == pytest.approx(100 / 1000)
    assert rates.ref2 == pytest.approx(100 * 19 / 18900)
    assert rates.ref3 == pytest.approx(100 / 900)
    # contact: 600 / (600 + NC 300 + U 100), / (900 + eU), / 900
    assert rates.con1 == pytest.approx(600 / 1000)
    assert rates.con2 == pytest.approx(600 * 19 / 18900)
    assert rates.con3 == pytest.approx(600 / 900)


def test_given_e_replaces_the_estimate():
    # RR3 = 400 / (900 + 0.5 × 100) = 400 / 950
    rates = outcome_rates(WORKED, e=0.5)
    assert rates.e == 0.5
    assert rates.rr3 == pytest.approx(400 / 950)


def test_without_unknown_eligibility_rr3_equals_rr1():
    rates = outcome_rates({"I": 30, "P": 5, "R": 10, "NC": 55})
    assert rates.rr1 == rates.rr3 == rates.rr5 == pytest.approx(0.30)
    assert rates.e == 1.0


def test_estimate_e_is_the_eligible_share_of_known_cases():
    # (10 + 0 + 5 + 20 + 0) / (35 + 15)
    assert estimate_e({"I": 10, "R": 5, "NC": 20, "NE": 15, "UO": 99}) == pytest.approx(0.7)


def test_zero_denominator_gives_nan():
    # nobody contacted: cooperation rates are undefined
    rates = outcome_rates({"NC": 10})
    assert math.isnan(rates.coop1)
    assert rates.rr1 == 0.0
    assert json.loads(json.dumps(rates.as_dict()))["coop1"] is None


def test_default_mapping_counts_unreached_customers_as_eligible_non_contacts():
    # 5 complete, 1 partial, 2 opted out, 7 unreached (3 delivered, 2 sent, 1 bounced,
    # 1 failed), 1 ineligible.
    # I=5 P=1 R=2 NC=7 NE=1 -> denominator (I+P)+(R+NC+O) = 15
    dispositions = (
        ["complete"] * 5
        + ["partial"]
        + ["opted_out"] * 2
        + ["delivered"] * 3
        + ["sent"] * 2
        + ["bounced", "failed", "ineligible"]
    )
    rates = rates_from_dispositions(dispositions)
    assert (rates.complete, rates.partial, rates.refusal, rates.non_contact) == (5, 1, 2, 7)
    assert (rates.unknown_other, rates.not_eligible) == (0, 1)
    assert rates.rr1 == pytest.approx(5 / 15)
    assert rates.rr2 == pytest.approx(6 / 15)
    assert rates.rr3 == rates.rr1
    assert rates.coop1 == pytest.approx(5 / 8)  # I / ((I+P) + R + O)
    assert rates.con1 == pytest.approx(8 / 15)


def test_named_persons_mapping_puts_unreached_customers_in_unknown_eligibility():
    # Same cases: UO = 7; e = (5+1+2) / (8+1) = 8/9; eU = 56/9
    # RR3 = 5 / (8 + 56/9) = 45/128; CON2 = 8 / (8 + 56/9) = 72/128; CON3 = 8/8
    dispositions = (
        ["complete"] * 5
        + ["partial"]
        + ["opted_out"] * 2
        + ["delivered"] * 3
        + ["sent"] * 2
        + ["bounced", "failed", "ineligible"]
    )
    rates = rates_from_dispositions(dispositions, mapping=DISPOSITION_TO_AAPOR_NAMED_PERSONS)
    assert rates.unknown_other == 7
    assert rates.e == pytest.approx(8 / 9)
    assert rates.rr1 == pytest.approx(5 / 15)
    assert rates.rr3 == pytest.approx(45 / 128)
    assert rates.con2 == pytest.approx(72 / 128)
    assert rates.con3 == 1.0


def test_every_barometre_disposition_is_mapped():
    assert set(DISPOSITION_TO_AAPOR) == set(DISPOSITIONS)
    assert set(DISPOSITION_TO_AAPOR_NAMED_PERSONS) == set(DISPOSITIONS)


def test_counts_from_a_series_with_string_dtype():
    dispositions = pd.Series(["complete", "pending", "complete"], dtype="string")
    assert aapor_counts(dispositions) == {
        "I": 2, "P": 0, "R": 0, "NC": 1, "O": 0, "UH": 0, "UO": 0, "NE": 0
    }  # fmt: skip


def test_unknown_disposition_names_its_position():
    with pytest.raises(AnalysisInputError, match=r"disposition at 1 is 'answered'"):
        rates_from_dispositions(["complete", "answered"])


def test_missing_disposition_names_its_index_label():
    series = pd.Series(["complete", None], index=["inv-1", "inv-2"])
    with pytest.raises(AnalysisInputError, match=r"disposition at 'inv-2' is missing"):
        rates_from_dispositions(series)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"I": 3, "X": 1}, r"unknown AAPOR codes \['X'\]"),
        ({"I": -1}, "count of I must be an integer >= 0"),
        ({"I": 2.5}, "count of I must be an integer"),
        ({}, "no cases"),
    ],
)
def test_bad_counts(counts, message):
    with pytest.raises(AnalysisInputError, match=message):
        outcome_rates(counts)


def test_e_must_be_a_proportion():
    with pytest.raises(AnalysisInputError, match=r"e must be a number in \[0, 1\]"):
        outcome_rates(WORKED, e=1.2)


def test_e_cannot_be_estimated_without_known_eligibility():
    with pytest.raises(AnalysisInputError, match="cannot estimate e"):
        outcome_rates({"UO": 10})
