"""``barometre analyze`` / ``python -m analysis``: estimates from a CSV and a design file.

Exit status: 0 done; 2 bad input, with one message on stderr naming the file and what is
wrong (never a traceback); 1 an unexpected failure (a bug: the traceback is printed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

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
) -> int:
    """Analyse ``responses_path`` under ``design_path``; print or write the JSON estimates.

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
            result = analyze(responses, design)
        except AnalysisInputError as error:
            raise AnalysisInputError(f"{responses_path} (design {design_path}): {error}") from error
        except OSError as error:
            raise AnalysisInputError(f"{responses_path}: {error.strerror or error}") from error
        output = result.to_dict()
        if sample_path is not None:
            output["representativeness"] = representativeness_of(sample_path, design)
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


def representativeness_of(sample_path: PathLike, design: DesignSpec) -> dict[str, Any]:
    """Response rates by level and the R-indicator of the sample file (see ``run_analyze``)."""
    from analysis.representativeness import RESPONDED, r_indicator, response_rates

    try:
        sample = pd.read_csv(sample_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise AnalysisInputError(f"{sample_path}: cannot read the sample: {error}") from error
    variables = [c for c in sample.columns if c not in (design.strata, RESPONDED)]
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
    try:
        return parse_design(mapping)
    except AnalysisInputError as error:
        raise AnalysisInputError(f"{path}: {error}") from error


def _json_safe(value: Any) -> Any:
    """Replace NaN and infinities (not JSON) by null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
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
        help="CSV of every sampled unit (strata column, responded 0/1, frame variables): "
        "adds response rates by level and the R-indicator",
    )
    arguments = parser.parse_args(argv)
    return run_analyze(
        arguments.responses, arguments.design, arguments.out, sample_path=arguments.sample
    )
