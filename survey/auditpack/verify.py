"""Checking an auditor's pack: needs no database, only the zip.

1. Every file against `manifest.json`: a file listed but missing, a file present but not listed,
   and a file whose SHA-256 or size differs are each named.
2. The numbers: `barometre analyze` (`analysis.cli.run_analyze`) runs on the pack's export and
   design file, and every estimate the report states in its figures block (see
   `survey.reporting.builder.stated_figures`) must be found, with the same count and the same
   estimate, standard error and interval (`estimate_differences`, the comparison the report's
   own test makes). The export's SHA-256 must be the one the report was computed from, and the
   questionnaire's canonical definition the one whose hash the report prints.
3. Every other figure the report states (year-on-year and domain tests, response rates,
   drivers, alpha...: `analysis.report`): ``analyze --report`` on the export, its design and
   sample files must give each one again (`analysis.report.figure_differences`). A report made
   before it stated them is compared on its estimates alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.cli import run_analyze
from analysis.report import figure_differences
from survey.auditpack.operations import MANIFEST, PACK_FORMAT

# What "the same number" means between the report and a re-run: both come from the same engine
# on the same data, the export read back from CSV (floats written at full precision), so they
# agree to rounding in the last digits.
RELATIVE = 1e-9
ABSOLUTE = 1e-12
NUMBER_FIELDS = ("estimate", "se", "ci_low", "ci_high")
_FIGURES = re.compile(
    rb'<script type="application/json" id="report-figures">(.*?)</script>', re.DOTALL
)


class NotAPack(ValueError):
    """The file is not an auditor's pack (not a zip, or no manifest of ours)."""


@dataclass
class Verification:
    files: int = 0
    numbers: int = 0
    export: str | None = None
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def _key(estimate: Mapping[str, Any]) -> tuple[str, str]:
    domain = estimate.get("domain")
    return str(estimate["indicator"]), json.dumps(domain, sort_keys=True) if domain else ""


def _describe(key: tuple[str, str]) -> str:
    indicator, domain = key
    if not domain:
        return f"{indicator} (whole sample)"
    levels = ", ".join(f"{name} = {value}" for name, value in json.loads(domain).items())
    return f"{indicator} ({levels})"


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=RELATIVE, abs_tol=ABSOLUTE)


def estimate_differences(
    stated: Iterable[Mapping[str, Any]], reproduced: Iterable[Mapping[str, Any]]
) -> list[str]:
    """Each way the estimates `stated` (by a report) differ from those `reproduced` (by
    `barometre analyze`), matched by indicator and domain: one missing from either side, a
    different count `n`, or a different estimate, standard error or interval bound (relative
    tolerance `RELATIVE`). A stated estimate marked ``withheld`` (a domain under the report's
    threshold) is compared on its count only. Empty when they agree."""
    mine = {_key(e): e for e in stated}
    theirs = {_key(e): e for e in reproduced}
    differences = []
    for key, estimate in mine.items():
        other = theirs.get(key)
        if other is None:
            differences.append(f"{_describe(key)}: stated by the report, not given by analyze")
            continue
        if estimate.get("n") != other.get("n"):
            differences.append(f"{_describe(key)}: n is {estimate.get('n')} in the report, "
                               f"{other.get('n')} from analyze")
        if estimate.get("withheld"):
            continue
        for name in NUMBER_FIELDS:
            if not _same(estimate.get(name), other.get(name)):
                differences.append(f"{_describe(key)}: {name} is {estimate.get(name)!r} in the "
                                   f"report, {other.get(name)!r} from analyze")
    for key in theirs.keys() - mine.keys():
        differences.append(f"{_describe(key)}: given by analyze, not stated by the report")
    return differences


def verify_pack(path: str | Path) -> Verification:
    """Check the pack at `path` (see the module's documentation); raises `NotAPack`."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise NotAPack(f"{path}: no such file") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise NotAPack(f"{path}: not an auditor's pack (not a zip file: {error})") from None
    with archive:
        contents = {info.filename: archive.read(info) for info in archive.infolist()
                    if not info.is_dir()}
    manifest = _manifest(path, contents)
    result = Verification()
    listed = {}
    for entry in manifest["files"]:
        listed[str(entry["path"])] = entry
    for name, entry in sorted(listed.items()):
        content = contents.get(name)
        if content is None:
            result.differences.append(f"{name}: listed in the manifest, missing from the pack")
        elif hashlib.sha256(content).hexdigest() != entry.get("sha256"):
            result.differences.append(f"{name}: altered (its SHA-256 is not the manifest's)")
        elif len(content) != entry.get("size"):
            result.differences.append(f"{name}: altered (its size is not the manifest's)")
    for name in sorted(contents.keys() - listed.keys() - {MANIFEST}):
        result.differences.append(f"{name}: in the pack, not listed in the manifest")
    result.files = len(listed)
    _check_numbers(manifest, contents, result)
    return result


def _manifest(path: Path, contents: Mapping[str, bytes]) -> dict[str, Any]:
    if MANIFEST not in contents:
        raise NotAPack(f"{path}: not an auditor's pack (it has no {MANIFEST})")
    try:
        manifest = json.loads(contents[MANIFEST])
    except (UnicodeDecodeError, ValueError) as error:
        raise NotAPack(f"{path}: {MANIFEST} is not readable JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != PACK_FORMAT:
        raise NotAPack(f"{path}: {MANIFEST} is not the manifest of an auditor's pack "
                       f"(no \"format\": \"{PACK_FORMAT}\")")
    files = manifest.get("files")
    if not isinstance(files, list) or not all(
            isinstance(entry, dict) and "path" in entry for entry in files):
        raise NotAPack(f"{path}: {MANIFEST} has no list of files")
    return manifest


def _check_numbers(manifest: Mapping[str, Any], contents: Mapping[str, bytes],
                   result: Verification) -> None:
    report_name = (manifest.get("report") or {}).get("html")
    export = manifest.get("export") or {}
    data_name, design_name = export.get("data"), export.get("design")
    result.export = data_name
    html = contents.get(report_name or "")
    if html is None:
        result.differences.append(f"{report_name or 'the report'}: no report to compare with")
        return
    match = _FIGURES.search(html)
    try:
        figures = json.loads(match.group(1)) if match else None
    except ValueError:
        figures = None
    if not isinstance(figures, dict) or not isinstance(figures.get("estimates"), list):
        result.differences.append(f"{report_name}: states no readable figures (its block "
                                  "id=\"report-figures\" is missing or broken)")
        return
    data, design = contents.get(data_name or ""), contents.get(design_name or "")
    if data is None or design is None:
        result.differences.append(
            f"{data_name if data is None else design_name}: the export or its design file is "
            "missing: nothing to re-run the analysis on")
        return
    if hashlib.sha256(data).hexdigest() != figures.get("data_sha256"):
        result.differences.append(
            f"{data_name}: its SHA-256 is not that of the data the report was computed from "
            f"({str(figures.get('data_sha256'))[:16]}…)")
    definition = contents.get("questionnaire/definition.json")
    stated_questionnaire = figures.get("questionnaire_sha256")
    if stated_questionnaire and (definition is None or
                                 hashlib.sha256(definition).hexdigest() != stated_questionnaire):
        result.differences.append(
            "questionnaire/definition.json: not the questionnaire version the report names "
            f"({stated_questionnaire[:16]}…)")
    sample = contents.get(export.get("sample") or "")
    reproduced = _analyze(data, design, data_name, design_name, result)
    if reproduced is None:
        return
    result.numbers = len(figures["estimates"])
    result.differences += [f"{report_name}: {difference}" for difference in
                           estimate_differences(figures["estimates"], reproduced["estimates"])]
    others = {key: value for key, value in figures.items()
              if key not in ("estimates", "data_sha256", "questionnaire_sha256")}
    if others:
        everything = _analyze(data, design, data_name, design_name, result, sample=sample,
                              report=True)
        if everything is None:
            return
        result.differences += [
            f"{report_name}: {difference}" for difference in
            figure_differences(others, {key: everything.get(key) for key in others})]


def _analyze(data: bytes, design: bytes, data_name: str, design_name: str,
             result: Verification, *, sample: bytes | None = None,
             report: bool = False) -> dict[str, Any] | None:
    """`barometre analyze` (``--report`` with ``report``) on the pack's export, in a private
    temporary folder."""
    with tempfile.TemporaryDirectory(prefix="barometre-verify-") as folder:
        work = Path(folder)
        (work / "data.csv").write_bytes(data)
        (work / "design.json").write_bytes(design)
        sample_path = None
        if sample is not None:
            sample_path = work / "sample.csv"
            sample_path.write_bytes(sample)
        errors = io.StringIO()
        status = run_analyze(work / "data.csv", work / "design.json", work / "out.json",
                             stdout=io.StringIO(), stderr=errors, sample_path=sample_path,
                             report=report)
        if status != 0:
            message = errors.getvalue().strip().replace(str(work / "data.csv"), data_name)
            message = message.replace(str(work / "design.json"), design_name)
            result.differences.append(f"{data_name}: barometre analyze cannot read it "
                                      f"with {design_name}: {message}")
            return None
        return json.loads((work / "out.json").read_text(encoding="utf-8"))
