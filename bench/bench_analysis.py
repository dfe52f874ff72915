"""Benchmark of ``barometre analyze`` on a large synthetic survey.

Builds a CSV of respondents (8 strata with finite populations, 5 indicators: a mean, two
proportions, an NPS and an index; 2 ``by`` variables of 3 and 4 levels; raking on 2
margins), then times ``python -m analysis`` on it in a child process (wall time) and
reports the child's peak memory. Target: 1,000,000 respondents in < 10 s and < 4 GB.

If ``Rscript`` with the ``survey`` package is installed, the same work runs in R on
100,000 respondents and the ratio of times is printed.

    python bench/bench_analysis.py [--rows N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
STRATA = [f"S{h}" for h in range(1, 9)]
CHANNELS = ["email", "letter", "phone"]
REGIONS = ["east", "north", "south", "west"]
TARGET_SECONDS = 10.0
TARGET_GB = 4.0
R_ROWS = 100_000


def build_survey(rows: int, seed: int = 2024) -> tuple[pd.DataFrame, dict]:
    """Synthetic respondents and their design (vectorised; a few seconds for 10^6 rows)."""
    rng = np.random.default_rng(seed)
    stratum = rng.choice(len(STRATA), rows, p=np.arange(1, 9) / 36)
    channel = rng.choice(len(CHANNELS), rows, p=[0.5, 0.2, 0.3])
    region = rng.choice(len(REGIONS), rows, p=[0.3, 0.3, 0.2, 0.2])
    shift = np.array([0.0, -0.4, 0.3])[channel] + 0.05 * stratum

    def likert() -> np.ndarray:
        latent = 3.6 + shift + rng.normal(0, 1.1, rows)
        return np.clip(np.rint(latent), 1, 5)

    q1, q2, q3 = likert(), likert(), likert()
    nps = np.clip(np.rint(2 * q1 - 1 + rng.normal(0, 1.5, rows)), 0, 10)
    for answers, share in ((q1, 0.02), (q2, 0.06), (q3, 0.06), (nps, 0.06)):
        answers[rng.random(rows) < share] = np.nan
    frame = pd.DataFrame(
        {
            "respondent": np.char.add("R", np.arange(1, rows + 1).astype(str)),
            "stratum": np.array(STRATA)[stratum],
            "channel": np.array(CHANNELS)[channel],
            "region": np.array(REGIONS)[region],
            "q1": q1,
            "q2": q2,
            "q3": q3,
            "nps": nps,
        }
    )
    # Populations: each stratum sampled at its own rate; margins add up to the same total.
    respondents_per_stratum = np.bincount(stratum, minlength=len(STRATA))
    populations = np.ceil(respondents_per_stratum / np.linspace(0.05, 0.4, len(STRATA)))
    total = populations.sum()
    channel_counts = _apportion(total, [0.45, 0.25, 0.30])
    region_counts = _apportion(total, [0.25, 0.30, 0.25, 0.20])
    design = {
        "confidence": 0.95,
        "strata": "stratum",
        "population": dict(zip(STRATA, populations.tolist(), strict=True)),
        "calibration": {
            "method": "rake",
            "margins": {
                "channel": dict(zip(CHANNELS, channel_counts, strict=True)),
                "region": dict(zip(REGIONS, region_counts, strict=True)),
            },
        },
        "proportion_ci": "logit",
        "by": ["channel", "region"],
        "indicators": [
            {"name": "q1_mean", "kind": "mean", "item": "q1"},
            {"name": "q1_satisfied", "kind": "proportion", "item": "q1", "values": [4, 5]},
            {"name": "nps", "kind": "nps", "item": "nps"},
            {
                "name": "index",
                "kind": "index",
                "items": {"q1": 2, "q2": 1, "q3": 1},
                "scale": [1, 5],
            },
            {"name": "q3_dissatisfied", "kind": "proportion", "item": "q3", "values": [1, 2]},
        ],
    }
    return frame, design


def _apportion(total: float, shares: list[float]) -> list[float]:
    counts = [float(np.floor(total * share)) for share in shares]
    counts[0] += total - sum(counts)
    return counts


def run_python(responses: Path, design: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of ``python -m analysis`` in a child process."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            str(responses),
            "--design",
            str(design),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        sys.exit(f"python -m analysis failed ({completed.returncode}):\n{completed.stderr}")
    # ru_maxrss of waited-for children is in kilobytes on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_bytes = peak if sys.platform == "darwin" else peak * 1024
    return seconds, peak_bytes / 1e9


R_SCRIPT = r"""
suppressPackageStartupMessages({library(survey); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], na.strings = "", stringsAsFactors = FALSE)
g <- fromJSON(args[2])
d$N <- unlist(g$population)[d$stratum]
d$.q1_sat <- ifelse(is.na(d$q1), NA, as.numeric(d$q1 %in% c(4, 5)))
d$.q3_dis <- ifelse(is.na(d$q3), NA, as.numeric(d$q3 %in% c(1, 2)))
d$.nps <- ifelse(is.na(d$nps), NA, ifelse(d$nps >= 9, 100, ifelse(d$nps <= 6, -100, 0)))
w <- c(q1 = 2, q2 = 1, q3 = 1); num <- 0; den <- 0
for (v in names(w)) { ok <- !is.na(d[[v]])
  num <- num + ifelse(ok, w[[v]] * (d[[v]] - 1) / 4 * 100, 0); den <- den + ifelse(ok, w[[v]], 0) }
d$.index <- ifelse(den > 0, num / den, NA)
des <- svydesign(ids = ~1, strata = ~stratum, fpc = ~N, data = d)
m <- g$calibration$margins
des <- rake(des, list(~channel, ~region),
            list(data.frame(channel = names(m$channel), Freq = unlist(m$channel)),
                 data.frame(region = names(m$region), Freq = unlist(m$region))),
            control = list(maxit = 100, epsilon = 1e-10))
vars <- c(q1 = "q1_mean", .q1_sat = "q1_satisfied", .nps = "nps", .index = "index",
          .q3_dis = "q3_dissatisfied")
rows <- list()
for (v in names(vars)) {
  sub <- subset(des, !is.na(des$variables[[v]]))
  # Rows outside a subset of a calibrated design stay with weight 0 and their NA: na.rm.
  whole <- svymean(as.formula(paste0("~", v)), sub, na.rm = TRUE)
  rows[[length(rows) + 1]] <- list(indicator = vars[[v]], by = "", level = "",
                                   estimate = unname(coef(whole)), se = unname(SE(whole))[1])
  for (b in c("channel", "region")) {
    by <- svyby(as.formula(paste0("~", v)), as.formula(paste0("~", b)), sub, svymean,
                na.rm = TRUE)
    for (i in seq_len(nrow(by))) rows[[length(rows) + 1]] <- list(
      indicator = vars[[v]], by = b, level = as.character(by[[b]][i]),
      estimate = unname(coef(by)[i]), se = unname(SE(by)[i]))
  }
}
writeLines(toJSON(rows, auto_unbox = TRUE, digits = NA), args[3])
"""


def r_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "library(survey); library(jsonlite)"], capture_output=True, check=False
    )
    return probe.returncode == 0


def run_r(responses: Path, design: Path, workdir: Path, out: Path) -> float:
    script = workdir / "bench.R"
    script.write_text(R_SCRIPT)
    start = time.perf_counter()
    subprocess.run(
        ["Rscript", str(script), str(responses), str(design), str(out)],
        check=True, capture_output=True,
    )
    return time.perf_counter() - start


def largest_difference_from_r(r_results: Path, python_results: Path) -> float:
    """The largest relative difference between R's and barometre's estimates and SEs.

    Timing R is only fair if it did the same work: the benchmark checks that it also found
    the same numbers.
    """
    ours = {}
    for estimate in json.loads(python_results.read_text())["estimates"]:
        domain = estimate["domain"] or {}
        (by, level), = domain.items() if domain else (("", ""),)
        ours[(estimate["indicator"], by, level)] = estimate
    worst = 0.0
    for row in json.loads(r_results.read_text()):
        mine = ours[(row["indicator"], row["by"], row["level"])]
        for key in ("estimate", "se"):
            worst = max(worst, abs(mine[key] - row[key]) / max(abs(row[key]), 1e-12))
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="respondents (1,000,000)")
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    parser.add_argument("--quick", action="store_true", help="100,000 respondents")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.rows = 100_000
    workdir = arguments.keep or Path(tempfile.mkdtemp(prefix="bench_analysis_"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        frame, design = build_survey(arguments.rows)
        responses, design_path = workdir / "responses.csv", workdir / "design.json"
        frame.to_csv(responses, index=False, na_rep="")
        design_path.write_text(json.dumps(design, indent=2))
        del frame
        seconds, peak_gb = run_python(responses, design_path, workdir / "results.json")
        verdict = "ok" if seconds < TARGET_SECONDS and peak_gb < TARGET_GB else "OVER TARGET"
        print(
            f"analysis: {arguments.rows} respondents  {seconds:.1f} s  peak {peak_gb:.1f} GB"
            f"  (target < {TARGET_SECONDS:g} s, < {TARGET_GB:g} GB: {verdict})"
        )
        estimates = json.loads((workdir / "results.json").read_text())["estimates"]
        print(f"analysis: {len(estimates)} estimates")
        if not r_available():
            print("R: Rscript with the survey package is absent; comparison with R skipped")
            return 0
        r_rows = min(R_ROWS, arguments.rows)
        small, small_design = build_survey(r_rows)
        small_path = workdir / "responses_r.csv"
        small.to_csv(small_path, index=False, na_rep="")
        design_small_path = workdir / "design_r.json"
        design_small_path.write_text(json.dumps(small_design))
        r_seconds = run_r(small_path, design_small_path, workdir, workdir / "r.json")
        python_seconds, _ = run_python(small_path, design_small_path, workdir / "results_r.json")
        difference = largest_difference_from_r(workdir / "r.json", workdir / "results_r.json")
        print(
            f"R survey: {r_rows} respondents  {r_seconds:.1f} s; python {python_seconds:.1f} s"
            f"  (R / python = {r_seconds / python_seconds:.1f}; target >= 20)"
        )
        print(f"R survey: largest relative difference of estimates and SEs {difference:.1e}")
        if difference > 1e-6:
            print("R survey: the numbers differ from R's: the comparison is not valid")
            return 1
    finally:
        if arguments.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
