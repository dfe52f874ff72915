"""``barometre analyze`` / ``python -m analysis``: estimates from a CSV and a design file.

Exit status: 0 done; 2 bad input, with one message on stderr naming the file and what is
wrong (never a traceback); 1 an unexpected failure (a bug: the traceback is printed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from analysis.design import AnalysisInputError, DesignSpec, parse_design
from analysis.estimation import analyze
from analysis.responses import read_responses

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

PathLike = str | os.PathLike[str]


def run_analyze(
    responses_path: PathLike,
    design_path: PathLike,
    out_path: PathLike | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    sample_path: PathLike | None = None,
    report: bool = False,
    text: bool = False,
) -> int:
    """Analyse ``responses_path`` under ``design_path``; print or write the JSON estimates.

    With ``report``, the document is every figure of the yearly report instead
    (`analysis.report.report_figures`, the structure of the report's own figures block), read
    from the design file's ``report`` key and the sample file; ``text`` writes it as readable
    text rather than JSON.

    With ``sample_path`` (the export's sample file: one row per sampled unit, the design's
    strata column, ``responded`` 0/1, and every other column a frame variable), the document
    also holds ``representativeness``: response rates by level and the R-indicator
    (:mod:`analysis.representativeness`).

    Returns the exit status (0, 1 or 2, see the module docstring).
    """
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    try:
        design = load_design(design_path)
        try:
            responses = read_responses(responses_path, design.categorical_columns())
            if not report:
                result = analyze(responses, design)
        except AnalysisInputError as error:
            raise AnalysisInputError(f"{responses_path} (design {design_path}): {error}") from error
        except OSError as error:
            raise AnalysisInputError(f"{responses_path}: {error.strerror or error}") from error
        if report:
            output = report_document(responses_path, responses, design, design_path,
                                     sample_path)
        else:
            output = result.to_dict()
            if sample_path is not None:
                output["representativeness"] = representativeness_of(sample_path, design)
        if text:
            from analysis.report import figures_text

            document = figures_text(_json_safe(output)) if report else _estimates_text(output)
        else:
            document = json.dumps(_json_safe(output), indent=2, allow_nan=False) + "\n"
        if out_path is None:
            stdout.write(document)
        else:
            try:
                Path(out_path).write_text(document, encoding="utf-8")
            except OSError as error:
                raise AnalysisInputError(
                    f"{out_path}: cannot write the results: {error.strerror or error}"
                ) from error
    except AnalysisInputError as error:
        print(f"error: {error}", file=stderr)
        return EXIT_BAD_INPUT
    except Exception:  # the last resort of a command: report the bug, do not crash
        print("error: unexpected failure of the analysis (please report it):", file=stderr)
        traceback.print_exc(file=stderr)
        return EXIT_FAILURE
    return EXIT_OK


def report_document(
    responses_path: PathLike,
    responses: pd.DataFrame,
    design: DesignSpec,
    design_path: PathLike,
    sample_path: PathLike | None,
) -> dict[str, Any]:
    """Every figure of the report (`analysis.report.report_figures`), with the SHA-256 of the
    responses file the report names (``data_sha256``)."""
    from analysis.report import parse_report_spec, report_figures

    try:
        spec = parse_report_spec(load_design_mapping(design_path).get("report"))  # an object
    except AnalysisInputError as error:
        raise AnalysisInputError(f"{design_path}: {error}") from error
    sample = read_sample(sample_path) if sample_path is not None else None
    try:
        figures = report_figures(responses, design, spec, sample)
    except AnalysisInputError as error:
        raise AnalysisInputError(f"{responses_path} (design {design_path}): {error}") from error
    try:
        digest = hashlib.sha256(Path(responses_path).read_bytes()).hexdigest()
    except OSError as error:
        raise AnalysisInputError(f"{responses_path}: {error.strerror or error}") from error
    return {"data_sha256": digest, **figures.to_dict()}


def read_sample(sample_path: PathLike) -> pd.DataFrame:
    """The export's sample file, every cell as text."""
    try:
        return pd.read_csv(sample_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise AnalysisInputError(f"{sample_path}: cannot read the sample: {error}") from error


def _estimates_text(output: dict[str, Any]) -> str:
    from analysis.report import estimates_text

    return estimates_text(_json_safe(output["estimates"]))


def representativeness_of(sample_path: PathLike, design: DesignSpec) -> dict[str, Any]:
    """Response rates by level and the R-indicator of the sample file (see ``run_analyze``)."""
    from analysis.representativeness import RESPONDED, r_indicator, response_rates

    sample = read_sample(sample_path)
    # The disposition is each customer's outcome, not a frame variable.
    variables = [c for c in sample.columns if c not in (design.strata, RESPONDED, "disposition")]
    population = design.stratum_populations or None
    try:
        rates = response_rates(
            sample, variables, strata=design.strata, population=population,
            confidence=design.confidence,
        )  # fmt: skip
        indicator = r_indicator(
            sample, variables, strata=design.strata, population=population,
            confidence=design.confidence,
        )  # fmt: skip
    except AnalysisInputError as error:
        raise AnalysisInputError(f"{sample_path}: {error}") from error
    return {
        "response_rates": [rate.to_dict() for rate in rates],
        "r_indicator": indicator.to_dict(),
    }


def load_design(path: PathLike) -> DesignSpec:
    """Read and validate a JSON design file; errors name the file (and the line)."""
    mapping = load_design_mapping(path)
    try:
        return parse_design(mapping)
    except AnalysisInputError as error:
        raise AnalysisInputError(f"{path}: {error}") from error


def load_design_mapping(path: PathLike) -> Any:
    """The JSON object of a design file, unvalidated; errors name the file (and the line)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise AnalysisInputError(f"{path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise AnalysisInputError(f"{path}: not UTF-8 text ({error.reason})") from error
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as error:
        raise AnalysisInputError(
            f"{path}: line {error.lineno}, column {error.colno}: malformed JSON ({error.msg})"
        ) from error
    return mapping


def _json_safe(value: Any) -> Any:
    """Replace NaN and infinities (not JSON) by null, numpy scalars by Python numbers."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m analysis RESPONSES.csv --design DESIGN.json [--out FILE]``."""
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Design-based estimates of satisfaction indicators (JSON on stdout).",
    )
    parser.add_argument("responses", help="CSV file, one row per respondent (blank = not answered)")
    parser.add_argument("--design", required=True, help="JSON design file")
    parser.add_argument("--out", help="write the JSON results to this file instead of stdout")
    parser.add_argument(
        "--sample",
        help="CSV of every sampled unit (strata column, responded 0/1, disposition, frame "
        "variables): adds response rates by level and the R-indicator",
    )
    parser.add_argument(
        "--report", action="store_true",
        help="every figure of the yearly report (tests, response rates, drivers, alpha...) "
        "from the design file's 'report' key and the sample file",
    )
    parser.add_argument("--format", choices=("json", "text"), default="json",
                        help="JSON (default) or readable text")
    arguments = parser.parse_args(argv)
    return run_analyze(
        arguments.responses, arguments.design, arguments.out, sample_path=arguments.sample,
        report=arguments.report, text=arguments.format == "text",
    )
