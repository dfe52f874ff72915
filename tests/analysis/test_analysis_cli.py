"""`python -m analysis` end to end, in a child process, as an auditor would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import analyze, parse_design, read_responses

ROOT = Path(__file__).resolve().parents[2]
RAKED = Path(__file__).parent / "reference" / "raked"


def _python_m_analysis(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "analysis", *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
    )


def _in_process_estimates() -> list[dict]:
    design = parse_design(json.loads((RAKED / "design.json").read_text()))
    responses = read_responses(RAKED / "responses.csv", design.categorical_columns())
    # Through JSON, as the child process writes them.
    return json.loads(json.dumps(analyze(responses, design).to_dict()["estimates"]))


def test_prints_the_estimates_as_json_on_stdout(tmp_path):
    completed = _python_m_analysis(
        str(RAKED / "responses.csv"), "--design", str(RAKED / "design.json"), cwd=tmp_path
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    document = json.loads(completed.stdout)
    assert list(document) == ["estimates", "weighting"]
    assert document["estimates"] == _in_process_estimates()
    calibration = document["weighting"]["calibration"]
    assert calibration["method"] == "rake" and calibration["converged"]
    for margin in calibration["margins"]:
        for level in margin["levels"]:
            assert level["calibrated_total"] == pytest.approx(level["population"], rel=1e-9)
    expected = json.loads((RAKED / "expected.json").read_text())["estimates"]
    assert document["estimates"][0]["se"] == pytest.approx(expected[0]["se"], rel=1e-6)


def test_writes_the_estimates_to_out(tmp_path):
    out = tmp_path / "results.json"
    completed = _python_m_analysis(
        str(RAKED / "responses.csv"),
        "--design",
        str(RAKED / "design.json"),
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == ""
    assert json.loads(out.read_text())["estimates"] == _in_process_estimates()


def test_bad_design_exits_2_with_the_file_and_line(tmp_path):
    design = tmp_path / "design.json"
    design.write_text('{"indicators": [\n  {"name": "q", "kind": "mean", "item": "q1",}\n]}')
    completed = _python_m_analysis(
        str(RAKED / "responses.csv"), "--design", str(design), cwd=tmp_path
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert f"{design}: line 2" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_missing_design_option_is_a_usage_error(tmp_path):
    completed = _python_m_analysis(str(RAKED / "responses.csv"), cwd=tmp_path)
    assert completed.returncode == 2
    assert "--design" in completed.stderr


def test_analysis_imports_neither_flask_nor_sqlalchemy_nor_survey(tmp_path):
    code = (
        "import sys, analysis, analysis.cli\n"
        "bad = [m for m in ('flask', 'sqlalchemy', 'survey') if m in sys.modules]\n"
        "print(bad)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
