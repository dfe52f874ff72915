"""Reading the respondents CSV, the final weights, and Kish's weight diagnostics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import (
    AnalysisInputError,
    final_weights,
    parse_design,
    read_responses,
    weight_diagnostics,
)


def test_only_blank_cells_are_missing(tmp_path):
    path = tmp_path / "responses.csv"
    path.write_text(
        "id,site,q1,q2,flag,comment\n"
        "R1,01,4,NA,True,fine\n"
        "R2,02,,3,False,\n"
        "R3,01,5,nan,True,NULL\n",
        encoding="utf-8",
    )
    frame = read_responses(path, text_columns=["site"])
    assert frame["site"].tolist() == ["01", "02", "01"]  # codes kept as written
    assert frame["q1"].dtype == np.float64
    assert frame["q1"].isna().tolist() == [False, True, False]
    assert frame["q2"].tolist() == ["NA", "3", "nan"]  # not silently missing
    assert frame["flag"].tolist() == ["True", "False", "True"]
    assert frame["comment"].tolist()[0] == "fine"
    assert pd.isna(frame["comment"].iloc[1])
    assert frame["comment"].iloc[2] == "NULL"


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    path = tmp_path / "responses.csv"
    path.write_bytes("q1,q2\n1,2\n".encode("utf-8-sig"))
    assert list(read_responses(path).columns) == ["q1", "q2"]


def test_integers_are_read_as_floats(tmp_path):
    path = tmp_path / "responses.csv"
    path.write_text("q\n1\n2\n")
    assert read_responses(path)["q"].dtype == np.float64


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("", "empty"), ("q,q\n1,2\n", "repeats column name(s) 'q'")],
)
def test_unreadable_files(tmp_path, content, fragment):
    path = tmp_path / "responses.csv"
    path.write_text(content)
    with pytest.raises(AnalysisInputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        read_responses(path)


def _stratified_frame():
    return pd.DataFrame(
        {
            "stratum": ["A"] * 4 + ["B"] * 5,
            "channel": ["email", "phone"] * 4 + ["email"],
            "q": np.arange(9, dtype=float),
        },
        index=[f"r{i}" for i in range(9)],
    )


def test_final_weights_of_a_stratified_design_are_n_h_over_r_h():
    design = parse_design(
        {
            "strata": "stratum",
            "population": {"A": 100, "B": 40},
            "indicators": [{"name": "q", "kind": "mean", "item": "q"}],
        }
    )
    weights = final_weights(_stratified_frame(), design)
    assert weights.index.tolist() == _stratified_frame().index.tolist()
    assert weights.tolist() == pytest.approx([25.0] * 4 + [8.0] * 5)


def test_final_weights_after_post_stratification_meet_the_cell_counts():
    frame = _stratified_frame()
    design = parse_design(
        {
            "strata": "stratum",
            "population": {"A": 100, "B": 40},
            "calibration": {
                "method": "poststratify",
                "margins": {"channel": {"email": 90, "phone": 50}},
            },
            "indicators": [{"name": "q", "kind": "mean", "item": "q"}],
        }
    )
    weights = final_weights(frame, design)
    assert weights.groupby(frame["channel"]).sum().to_dict() == pytest.approx(
        {"email": 90, "phone": 50}
    )
    # Within a cell the base weights' ratios are kept: A's are 25/8 times B's.
    email = frame["channel"] == "email"
    ratio = (
        weights[email & (frame["stratum"] == "A")].iloc[0]
        / weights[email & (frame["stratum"] == "B")].iloc[0]
    )
    assert ratio == pytest.approx(25 / 8)


def test_weight_diagnostics_by_hand():
    # w = 1, 1, 2, 4: sum 8, sum of squares 22, n_eff = 64/22, deff = 4 * 22/64 = 1.375;
    # mean 2, variance (1+1+0+4)/4 = 1.5, cv^2 = 0.375 (Kish 1965: deff = 1 + cv^2).
    diagnostics = weight_diagnostics([1, 1, 2, 4])
    assert (diagnostics.n, diagnostics.sum, diagnostics.min, diagnostics.max) == (4, 8, 1, 4)
    assert diagnostics.kish_effective_n == pytest.approx(64 / 22)
    assert diagnostics.deff_weighting == pytest.approx(1.375)
    assert diagnostics.cv == pytest.approx(np.sqrt(0.375))


@given(st.lists(st.floats(0.01, 1e4), min_size=1, max_size=200), st.floats(0.001, 1000))
def test_weight_diagnostics_properties(weights, factor):
    diagnostics = weight_diagnostics(weights)
    assert diagnostics.deff_weighting == pytest.approx(1 + diagnostics.cv**2, rel=1e-9)
    assert diagnostics.kish_effective_n <= len(weights) * (1 + 1e-12)
    scaled = weight_diagnostics(np.array(weights) * factor)
    assert scaled.kish_effective_n == pytest.approx(diagnostics.kish_effective_n, rel=1e-9)


@pytest.mark.parametrize("weights", [[], [1.0, 0.0], [1.0, np.nan], [2.0, -1.0]])
def test_weight_diagnostics_refuse_non_positive_weights(weights):
    with pytest.raises(AnalysisInputError, match="weight"):
        weight_diagnostics(weights)


def test_analysis_result_carries_the_weight_diagnostics():
    from analysis import analyze

    design = parse_design(
        {
            "strata": "stratum",
            "population": {"A": 100, "B": 40},
            "indicators": [{"name": "q", "kind": "mean", "item": "q"}],
        }
    )
    result = analyze(_stratified_frame(), design)
    assert result.weighting.sum == pytest.approx(140)
    assert result.weighting.n == 9


def test_a_population_without_strata_gives_everyone_n_over_r():
    frame = _stratified_frame().assign(w=[5.0] * 9)
    design = parse_design(
        {
            "population": 90,
            "weights": "w",
            "indicators": [{"name": "q", "kind": "mean", "item": "q"}],
        }
    )
    # The weights column is for designs without a population: N / r wins.
    assert final_weights(frame, design).tolist() == pytest.approx([10.0] * 9)


def test_category_codes_sort_numbers_as_numbers_and_merge_equal_labels():
    from analysis.responses import categories

    numeric = categories(pd.Series([10.0, 2.0, np.nan, 2.5, 10.0]))
    assert numeric.labels == ("2", "2.5", "10")
    assert numeric.values == (2, 2.5, 10)
    assert numeric.codes.tolist() == [2, 0, -1, 1, 2]
    # Built in memory, a column may mix 2 and "2": one level, named as a design names it.
    mixed = categories(pd.Series([2, "2", "b", None], dtype=object))
    assert mixed.labels == ("2", "b")
    assert mixed.codes.tolist() == [0, 0, 1, -1]
