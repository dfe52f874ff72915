"""The performance criteria of the campaign's year go into the auditor's pack."""

from __future__ import annotations

import csv
import io
import json
import zipfile


def test_the_pack_holds_the_criteria_of_the_year(app, runner, campaigns, tmp_path) -> None:
    out = tmp_path / "pack.zip"
    made = runner.invoke(["audit", "pack", campaigns[2026], "--out", str(out), "--no-pdf"])
    assert made.exit_code == 0, made.output
    with zipfile.ZipFile(out) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(files["manifest.json"])
    assert manifest["sections"]["performance"] == {
        "files": ["performance/criteria.csv", "performance/criteria.json"]}
    rows = list(csv.DictReader(io.StringIO(files["performance/criteria.csv"].decode())))
    assert len(rows) == 24  # two criteria, twelve months of 2026
    march = next(r for r in rows if r["criterion"] == "calls-60s" and r["month"] == "2026-03")
    assert (march["numerator"], march["denominator"], march["met"]) == ("700", "1000", "false")
    document = json.loads(files["performance/criteria.json"])
    assert document["year"] == 2026 and len(document["criteria"]) == 2
    verified = runner.invoke(["audit", "verify-pack", str(out)])
    assert verified.exit_code == 0, verified.output
