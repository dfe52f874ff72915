"""Issue #24, "Done when": `analyze` on the demo's exports reproduces every number of this
year's report, checked against the report's own data.

The demo is seeded once for the module as `barometre demo` seeds it (`seed_demo`, the default
customer base). This year's campaign is exported the auditor's way, as the auditor's pack
(`barometre audit pack`, the real export and report code); then, with nothing but the pack's
files, `barometre analyze --report` runs on its export, design and sample files, and every
key of the report's own figures block (the ``report-figures`` JSON of the rendered report in
the pack) must be given again to a relative 1e-9, the improvement plan's follow-up included.
"""

from __future__ import annotations

import copy
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from analysis.report import figure_differences
from survey import create_app
from survey.cli import main
from survey.extensions import db
from tests.conftest import empty_all_tables

SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"


@dataclass(frozen=True)
class DemoPack:
    slug: str
    year: int
    pack: Path
    files: dict[str, bytes]
    folder: Path  # the pack, unzipped, as an auditor reads it

    @property
    def manifest(self) -> dict:
        return json.loads(self.files["manifest.json"])

    def path(self, name: str) -> Path:
        return self.folder / name


def _figures(html: bytes | str) -> dict:
    text = html.decode("utf-8") if isinstance(html, bytes) else html
    block = re.search(r'<script type="application/json" id="report-figures">(.*?)</script>',
                      text, re.DOTALL)
    assert block, "the report states its figures"
    return json.loads(block.group(1))


@pytest.fixture(scope="module")
def demo(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoPack]:
    from survey.demo import seed_demo
    from survey.models import Campaign

    instance = tmp_path_factory.mktemp("demo-instance")
    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": SECRET_KEY, "WTF_CSRF_ENABLED": False,
        "BASE_URL": "http://127.0.0.1:5000",
    })
    with app.app_context():
        empty_all_tables()
        seed_demo()  # as `barometre demo` (`make demo`) does
        this_year = db.session.scalars(select(Campaign).where(Campaign.status == "open")).one()
        slug, year = this_year.slug, this_year.year
    folder = tmp_path_factory.mktemp("demo-pack")
    pack = folder / "pack.zip"
    packed = CliRunner().invoke(main, ["audit", "pack", slug, "--out", str(pack), "--no-pdf"],
                                obj={"app": app})
    assert packed.exit_code == 0, packed.output
    # Last year's export, as `barometre export` writes it: its estimates are the ones this
    # year's design file compares with.
    exported = CliRunner().invoke(main, [
        "export", f"barometre-{year - 1}", "--format", "csv",
        "--out", str(folder / "last-year.csv")], obj={"app": app})
    assert exported.exit_code == 0, exported.output
    with zipfile.ZipFile(pack) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
        archive.extractall(folder / "files")
    yield DemoPack(slug=slug, year=year, pack=pack, files=files, folder=folder / "files")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _analyze_report(demo: DemoPack, out: Path) -> dict:
    """`barometre analyze --report` on the pack's export, as an auditor runs it: no database,
    no application, only the three files."""
    export = demo.manifest["export"]
    result = CliRunner().invoke(main, [
        "analyze", str(demo.path(export["data"])), "--design", str(demo.path(export["design"])),
        "--sample", str(demo.path(export["sample"])), "--report", "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


def test_analyze_on_the_demos_export_reproduces_every_figure_of_its_report(demo, tmp_path):
    import hashlib

    stated = _figures(demo.files[demo.manifest["report"]["html"]])
    reproduced = _analyze_report(demo, tmp_path / "figures.json")
    assert stated.pop("questionnaire_sha256") == hashlib.sha256(
        demo.files["questionnaire/definition.json"]).hexdigest()
    assert set(stated) == set(reproduced)
    assert figure_differences(stated, reproduced) == []

    # Each part holds the demo's numbers, not an empty shell that agrees by being empty.
    assert stated["respondents"] > 300
    assert stated["data_sha256"] == hashlib.sha256(
        demo.files[demo.manifest["export"]["data"]]).hexdigest()
    yoy = stated["year_on_year"]
    assert yoy["year"] == demo.year - 1 and len(yoy["rows"]) == 4
    assert [point["year"] for point in stated["trend"]] == [demo.year - 1, demo.year]
    assert {c["variable"] for c in stated["domain_contrasts"]} >= {"stratum"}
    rates = stated["response_rates"]
    assert rates["invited"] > stated["respondents"] and 0 < rates["overall"]["rr1"] < 1
    assert rates["partials"] > 0
    assert stated["weighting"]["calibration"]
    assert [row["stratum"] for row in stated["plan_vs_achieved"]]
    assert stated["representativeness"]["r_indicator"]["r"] > 0
    assert len(stated["drivers"]["drivers"]) >= 5
    assert 0 < stated["reliability"]["alpha"] < 1
    assert stated["margin"]["achieved"] > 0 and stated["margin"]["target"] == 0.04
    # Last year's improvement plan followed: each action's indicator both years with its
    # interval, their difference, Holm's p within the plan's family, the target met or not.
    plan = stated["improvement"]
    assert plan["previous"]["year"] == demo.year - 1
    assert plan["counts"] == {"planned": 1, "in_progress": 1, "done": 1, "abandoned": 1}
    compared = [row for row in plan["rows"] if row["comparison"]]
    assert len(compared) == len(plan["family"]) >= 2
    for row in compared:
        assert row["previous_estimate"]["ci_low"] < row["previous_estimate"]["ci_high"]
        assert row["comparison"]["p_adjusted"] >= row["comparison"]["p_value"]
        assert row["reached"] is (row["current_estimate"]["estimate"] >= row["target"])
    # The item reworded this year is not compared.
    assert any(row["trend_broken"] and not row["comparison"] for row in plan["rows"])

    # The same follow-up as readable text.
    text = CliRunner().invoke(main, [
        "analyze", str(demo.path(demo.manifest["export"]["data"])),
        "--design", str(demo.path(demo.manifest["export"]["design"])), "--report",
        "--format", "text"])
    assert text.exit_code == 0, text.output
    assert f"Improvement plan decided from {demo.year - 1}" in text.output
    assert "question changed, not compared" in text.output

    # A number changed anywhere in the report is caught, and named.
    for path, change in (
        (("estimates", 0, "se"), lambda v: v * (1 + 1e-8)),
        (("year_on_year", "rows", "nps", "p_adjusted"), lambda v: v + 1e-7),
        (("response_rates", "overall", "rr2"), lambda v: v * 1.001),
        (("drivers", "drivers", 0, "importance"), lambda v: v + 1e-6),
        (("improvement", "rows", _compared(stated), "comparison", "p_adjusted"),
         lambda v: v * (1 + 1e-6)),
        (("improvement", "rows", _compared(stated), "previous_estimate", "ci_high"),
         lambda v: v - 1e-5),
    ):
        altered = copy.deepcopy(stated)
        *parents, last = path
        target = altered
        for key in parents:
            target = target[key]
        target[last] = change(target[last])
        named = "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path)
        assert figure_differences(altered, reproduced) == [
            f"{named.lstrip('.')}: {target[last]!r} in the report, "
            f"{_at(reproduced, path)!r} from analyze"]


def _compared(figures) -> int:
    """The position of the first followed action whose indicator is compared."""
    return next(position for position, row in enumerate(figures["improvement"]["rows"])
                if row["comparison"])


def _at(document, path):
    for key in path:
        document = document[key]
    return document


def test_last_years_estimates_in_the_design_file_are_analyze_on_last_years_export(demo):
    """The year-on-year tests and the plan's follow-up compare with the previous campaign's
    estimates the design file carries: `analyze` on last year's own export gives them."""
    result = CliRunner().invoke(main, [
        "analyze", str(demo.folder.parent / "last-year.csv"),
        "--design", str(demo.folder.parent / "last-year.design.json")])
    assert result.exit_code == 0, result.output
    whole = {e["indicator"]: e for e in json.loads(result.output)["estimates"]
             if e["domain"] is None}
    design = json.loads(demo.files[demo.manifest["export"]["design"]])
    [previous] = design["report"]["previous"]
    assert previous["year"] == demo.year - 1 and len(previous["estimates"]) == len(whole)
    assert figure_differences(
        previous["estimates"],
        [{key: whole[e["indicator"]][key] for key in e} for e in previous["estimates"]]) == []


def test_verify_pack_checks_the_demos_pack_and_refuses_a_changed_number(demo, tmp_path):
    runner = CliRunner()
    checked = runner.invoke(main, ["audit", "verify-pack", str(demo.pack)])
    assert checked.exit_code == 0, checked.output
    assert "pack intact" in checked.output

    # The report's figures block with one number of the plan's follow-up changed, the
    # manifest rewritten too, so that only the numbers can tell.
    import hashlib

    report_name = demo.manifest["report"]["html"]
    html = demo.files[report_name].decode("utf-8")
    figures = _figures(html)
    figures["improvement"]["rows"][_compared(figures)]["comparison"]["difference"] += 1e-6
    altered_html = re.sub(
        r'(<script type="application/json" id="report-figures">)(.*?)(</script>)',
        lambda m: m.group(1) + json.dumps(figures) + m.group(3), html, flags=re.DOTALL,
    ).encode("utf-8")
    manifest = demo.manifest
    for entry in manifest["files"]:
        if entry["path"] == report_name:
            entry["sha256"] = hashlib.sha256(altered_html).hexdigest()
            entry["size"] = len(altered_html)
    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(altered, "w") as archive:
        for name, content in demo.files.items():
            if name == report_name:
                content = altered_html
            elif name == "manifest.json":
                content = json.dumps(manifest).encode("utf-8")
            archive.writestr(name, content)
    refused = runner.invoke(main, ["audit", "verify-pack", str(altered)])
    assert refused.exit_code == 2
    assert f"improvement.rows[{_compared(figures)}].comparison.difference" in refused.output
