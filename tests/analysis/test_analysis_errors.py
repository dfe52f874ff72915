"""Bad input: each problem gives exit status 2 and a message saying what and where."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from analysis import AnalysisInputError, analyze, parse_design
from analysis.cli import run_analyze

INDICATORS = [{"name": "q_mean", "kind": "mean", "item": "q"}]


def _responses(**overrides) -> pd.DataFrame:
    columns = {
        "respondent": [f"R{i:03d}" for i in range(1, 9)],
        "stratum": ["A", "A", "A", "B", "B", "B", "C", "C"],
        "channel": ["email", "phone", "email", "phone", "email", "phone", "email", "phone"],
        "segment": ["pro", "pro", "retail", "retail", "pro", "retail", "pro", "retail"],
        "q": [1, 2, 3, 4, 5, 4, 3, 2],
    }
    columns.update(overrides)
    return pd.DataFrame(columns)


def _run(tmp_path: Path, responses: pd.DataFrame, design: dict | str) -> tuple[int, str, str]:
    responses_path = tmp_path / "responses.csv"
    design_path = tmp_path / "design.json"
    responses.to_csv(responses_path, index=False, na_rep="")
    text = design if isinstance(design, str) else json.dumps(design, indent=2)
    design_path.write_text(text)
    stdout, stderr = io.StringIO(), io.StringIO()
    status = run_analyze(responses_path, design_path, stdout=stdout, stderr=stderr)
    return status, stdout.getvalue(), stderr.getvalue()


def _assert_bad_input(tmp_path, responses, design, *fragments):
    status, stdout, stderr = _run(tmp_path, responses, design)
    assert status == 2
    assert stdout == ""
    assert "Traceback" not in stderr
    assert stderr.startswith("error: ")
    for fragment in fragments:
        assert fragment in stderr
    return stderr


def test_missing_column(tmp_path):
    design = {"by": ["site"], "indicators": INDICATORS}
    _assert_bad_input(tmp_path, _responses(), design, "responses.csv", "no column 'site' (by)")


def test_stratum_with_a_single_respondent(tmp_path):
    responses = _responses(stratum=["A", "A", "A", "B", "B", "C", "C", "D"])
    design = {"strata": "stratum", "indicators": INDICATORS}
    _assert_bad_input(tmp_path, responses, design, "stratum 'D'", "single respondent")


def test_stratum_absent_from_population(tmp_path):
    design = {"strata": "stratum", "population": {"A": 100, "B": 100}, "indicators": INDICATORS}
    _assert_bad_input(tmp_path, _responses(), design, "stratum 'C'", "not in 'population'")


def test_margins_that_do_not_cover_the_data(tmp_path):
    design = {
        "calibration": {
            "method": "poststratify",
            "margins": {"channel": {"email": 50, "letter": 50}},
        },
        "indicators": INDICATORS,
    }
    _assert_bad_input(tmp_path, _responses(), design, "margin 'channel'", "'phone'")


def test_margins_whose_totals_disagree(tmp_path):
    design = {
        "calibration": {
            "method": "rake",
            "margins": {
                "channel": {"email": 50, "phone": 50},
                "segment": {"pro": 60, "retail": 60},
            },
        },
        "indicators": INDICATORS,
    }
    _assert_bad_input(
        tmp_path, _responses(), design, "'channel' adds up to 100", "'segment' adds up to 120"
    )


def test_margins_that_disagree_with_the_population(tmp_path):
    design = {
        "population": 200,
        "calibration": {
            "method": "poststratify",
            "margins": {"channel": {"email": 50, "phone": 50}},
        },
        "indicators": INDICATORS,
    }
    _assert_bad_input(
        tmp_path, _responses(), design, "'channel' adds up to 100", "'population' adds up to 200"
    )


def test_raking_that_does_not_converge(tmp_path):
    # email respondents are all "pro", phone all "retail": both margins cannot hold.
    responses = _responses(segment=["pro", "retail"] * 4)
    responses["channel"] = ["email", "phone"] * 4
    design = {
        "calibration": {
            "method": "rake",
            "max_iterations": 30,
            "margins": {
                "channel": {"email": 50, "phone": 50},
                "segment": {"pro": 80, "retail": 20},
            },
        },
        "indicators": INDICATORS,
    }
    _assert_bad_input(tmp_path, responses, design, "did not converge after 30 iterations")


def test_non_numeric_answer_to_a_numeric_item(tmp_path):
    responses = _responses(q=["1", "2", "3", "4", "five", "4", "N/A", "2"])
    design = {"id": "respondent", "indicators": INDICATORS}
    _assert_bad_input(
        tmp_path,
        responses,
        design,
        "column 'q'",
        "row 5 (line 6",
        "respondent 'R005'",
        "'five' is not a number",
        "1 other row",
    )


def test_non_numeric_answer_without_id_names_the_row(tmp_path):
    responses = _responses(q=["1", "NA", "3", "4", "5", "4", "3", "2"])
    _assert_bad_input(
        tmp_path,
        responses,
        {"indicators": INDICATORS},
        "column 'q', row 2 (line 3",
        "'NA' is not a number",
    )


def test_malformed_json_design(tmp_path):
    design = '{\n  "indicators": [\n    {"name": "q", "kind": "mean" "item": "q"}\n  ]\n}\n'
    _assert_bad_input(tmp_path, _responses(), design, "design.json: line 3", "malformed JSON")


def test_design_with_an_unknown_kind_names_the_indicator(tmp_path):
    design = {"indicators": [{"name": "csat", "kind": "median", "item": "q"}]}
    _assert_bad_input(tmp_path, _responses(), design, "design.json", "indicator 'csat'", "'median'")


def test_missing_responses_file(tmp_path):
    design_path = tmp_path / "design.json"
    design_path.write_text(json.dumps({"indicators": INDICATORS}))
    stderr = io.StringIO()
    status = run_analyze(tmp_path / "absent.csv", design_path, stderr=stderr)
    assert status == 2
    assert "absent.csv" in stderr.getvalue()


def test_nps_answer_out_of_range(tmp_path):
    responses = _responses(q=[1, 2, 3, 11, 5, 4, 3, 2])
    design = {"indicators": [{"name": "nps", "kind": "nps", "item": "q"}]}
    _assert_bad_input(
        tmp_path, responses, design, "indicator 'nps'", "row 4", "answer 11", "0 to 10"
    )


def test_index_answer_outside_its_scale(tmp_path):
    design = {"indicators": [{"name": "idx", "kind": "index", "items": {"q": 1}, "scale": [1, 4]}]}
    _assert_bad_input(tmp_path, _responses(), design, "indicator 'idx'", "answer 5", "scale")


def test_blank_weight(tmp_path):
    responses = _responses(w=[1, 2, None, 1, 1, 1, 1, 1])
    design = {"weights": "w", "indicators": INDICATORS}
    _assert_bad_input(
        tmp_path, responses, design, "column 'w' (weights)", "row 3", "weight is blank"
    )


def test_text_values_for_a_numeric_item(tmp_path):
    design = {"indicators": [{"name": "yes", "kind": "proportion", "item": "q", "values": ["Yes"]}]}
    _assert_bad_input(tmp_path, _responses(), design, "indicator 'yes'", "holds numbers")


def test_unexpected_failure_returns_1(tmp_path, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("analysis.cli.analyze", broken)
    status, _, stderr = _run(tmp_path, _responses(), {"indicators": INDICATORS})
    assert status == 1
    assert "unexpected" in stderr and "boom" in stderr


def test_analyze_raises_the_same_error_without_the_command_line():
    with pytest.raises(AnalysisInputError, match="stratum 'C' .* not in 'population'"):
        analyze(
            _responses(),
            parse_design(
                {"strata": "stratum", "population": {"A": 10, "B": 10}, "indicators": INDICATORS}
            ),
        )


@pytest.mark.parametrize(("plan", "fragment"), [
    ([], "'report.improvement' must be a JSON object"),
    ({"actions": [{"id": 1, "title": "x", "status": "finished"}]},
     "'report.improvement.actions[0]': 'status' is one of planned"),
    ({"actions": [{"id": 1, "title": "x", "status": "done", "target": "high"}]},
     "'report.improvement.actions[0]': 'target' must be a number"),
    ({"previous": {"slug": "b"}}, "'report.improvement.previous' needs 'slug' and 'year'"),
    ({"owner": "someone"}, "'report.improvement' has unknown key(s) 'owner'"),
])
def test_a_bad_improvement_plan_names_its_key(tmp_path, plan, fragment):
    """Issue #24: the plan followed up by `analyze --report` is read from the design file."""
    responses_path, design_path = tmp_path / "responses.csv", tmp_path / "design.json"
    _responses().to_csv(responses_path, index=False)
    design_path.write_text(json.dumps({"indicators": INDICATORS,
                                       "report": {"improvement": plan}}))
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run_analyze(responses_path, design_path, stdout=stdout, stderr=stderr,
                       report=True) == 2
    assert "design.json" in stderr.getvalue() and fragment in stderr.getvalue()
    assert "Traceback" not in stderr.getvalue()
