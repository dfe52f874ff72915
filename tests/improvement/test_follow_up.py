"""The next campaign's report follows last year's actions with the report's own year-on-year
test, and the auditor's pack carries the plan and its follow-up."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from analysis.comparison import compare_to_previous
from survey.campaigns.operations import get_campaign
from survey.extensions import db
from survey.improvement import operations as ops
from survey.improvement.pack import improvement_files
from survey.models import ImprovementAction
from survey.reporting.builder import compute_report
from survey.reporting.operations import generate_report, report_inputs
from tests.improvement.test_operations import values


def test_the_report_follows_last_years_actions(app, plan) -> None:
    with app.app_context():
        previous = get_campaign(db.session, plan.previous)
        current = get_campaign(db.session, plan.current)
        wait = ops.create_action(db.session, previous, values(plan), actor="test")
        ops.change_status(db.session, wait, "done", today=date(2026, 2, 1), actor="test")
        index = ops.create_action(db.session, previous, values(
            plan, title="Formation à l'accueil", item=None, commitment="Accueil courtois",
            indicator="index", target=95.0), actor="test")
        ops.create_action(db.session, previous, values(
            plan, title="Affichage des horaires", indicator=None, target=None), actor="test")
        ops.create_action(db.session, current, values(plan, title="Décidée cette année"),
                          actor="test")
        db.session.commit()
        data = compute_report(report_inputs(db.session, current))
        plan_data = data["improvement"]
        assert plan_data["previous"] == {"slug": previous.slug, "year": 2025}
        assert [row["title"] for row in plan_data["decided"]] == ["Décidée cette année"]
        rows = {row["id"]: row for row in plan_data["rows"]}
        assert plan_data["counts"]["done"] == 1 and len(rows) == 3
        # The same test as the year-on-year comparison, over the plan's indicators as a family.
        past = {e["indicator"]: e for e in data["trend"][0]["estimates"].values()}
        expected = compare_to_previous(
            [data["overall"]["phone_wait_satisfied"], data["overall"]["index"]],
            [past["phone_wait_satisfied"], past["index"]], confidence=0.95, alpha=0.05)
        assert plan_data["family"] == ["phone_wait_satisfied", "index"]
        for test, action in zip(expected, (wait, index), strict=True):
            comparison = rows[action.id]["comparison"]
            assert comparison["difference"] == test.difference.estimate
            assert comparison["ci_low"] == test.difference.ci_low
            assert comparison["p_adjusted"] == test.p_adjusted
            assert rows[action.id]["previous_estimate"]["estimate"] == test.previous
        current_share = data["overall"]["phone_wait_satisfied"]["estimate"]
        assert rows[wait.id]["reached"] is (current_share >= 0.8)
        html = generate_report(db.session, current, lang="fr", instance_path=app.instance_path,
                               actor="test").html
        assert 'id="improvement"' in html and "Plan d’amélioration" in html
        assert "Rappel sous 24 h" in html and "Réalisée le 1 février 2026" in html
        assert "Engagement : Accueil courtois" in html and "aucun indicateur visé" in html
        english = generate_report(db.session, current, lang="en",
                                  instance_path=app.instance_path, actor="test").html
        assert "Improvement plan" in english and "Done on February 1, 2026" in english


def test_a_changed_question_is_not_tested(app, plan) -> None:
    with app.app_context():
        previous = get_campaign(db.session, plan.previous)
        current = get_campaign(db.session, plan.current)
        ops.create_action(db.session, previous, values(plan), actor="test")
        current.trend_check = {"previous_campaign": previous.slug,
                               "breaks": [{"code": "phone_wait", "reason": "changed",
                                           "fields": ["label"]}]}
        db.session.commit()
        data = compute_report(report_inputs(db.session, current))
        row = data["improvement"]["rows"][0]
        assert row["trend_broken"] and row["comparison"] is None
        assert data["improvement"]["family"] == []


def test_a_report_without_actions_says_so(app, plan) -> None:
    with app.app_context():
        current = get_campaign(db.session, plan.current)
        data = compute_report(report_inputs(db.session, current))
        assert data["improvement"] is None
        html = generate_report(db.session, current, lang="fr", instance_path=app.instance_path,
                               actor="test").html
        assert "Aucune action d’amélioration n’est enregistrée" in html


def test_the_pack_holds_the_plan_its_follow_up_and_its_history(app, plan) -> None:
    with app.app_context():
        previous = get_campaign(db.session, plan.previous)
        current = get_campaign(db.session, plan.current)
        wait = ops.create_action(db.session, previous, values(plan, title="=HYPERLINK(1)"),
                                 actor="test")
        ops.change_status(db.session, wait, "in_progress", actor="test")
        ops.create_action(db.session, current, values(plan, title="Cette année"), actor="test")
        db.session.commit()
        files = improvement_files(db.session, current)
        decided = list(csv.DictReader(io.StringIO(files["plan.csv"].decode())))
        assert [row["title"] for row in decided] == ["Cette année"]
        assert decided[0]["owner"] == "manager@plan.example"
        followed = list(csv.DictReader(io.StringIO(files["follow-up.csv"].decode())))
        assert followed[0]["title"] == "'=HYPERLINK(1)" and followed[0]["status"] == "in_progress"
        data = compute_report(report_inputs(db.session, current))
        stated = data["improvement"]["rows"][0]["comparison"]
        assert float(followed[0]["difference"]) == stated["difference"]
        assert float(followed[0]["p_holm"]) == stated["p_adjusted"]
        history = list(csv.DictReader(io.StringIO(files["history.csv"].decode())))
        assert {(row["kind"], row["field"]) for row in history} >= {
            ("created", "title"), ("status", "status")}
        status = next(row for row in history if row["kind"] == "status")
        assert (status["before"], status["after"]) == ('"planned"', '"in_progress"')


def test_every_pack_has_the_improvement_section(app) -> None:
    from survey.auditpack.registry import registered_sections

    assert "improvement" in {section.name for section in registered_sections()}


def test_analyze_follows_the_plan_up_from_the_export_and_a_pack_keeps_up_with_it(
        app, plan, runner, tmp_path) -> None:
    """Issue #24: the design file carries the actions decided from last year (no owner), and
    ``analyze --report`` on the export gives back the report's follow-up; an action changed
    after the report makes the pack take a new report, which its export reproduces."""
    import json
    import zipfile

    from analysis.cli import run_analyze
    from analysis.report import figure_differences
    from survey.reporting.operations import export_campaign

    with app.app_context():
        previous = get_campaign(db.session, plan.previous)
        current = get_campaign(db.session, plan.current)
        wait = ops.create_action(db.session, previous, values(plan), actor="test")
        ops.create_action(db.session, previous, values(
            plan, title="Indice", item=None, commitment="Accueil", indicator="index",
            target=99.0), actor="test")
        db.session.commit()
        stated = generate_report(db.session, current, lang="fr", instance_path=app.instance_path,
                                 actor="test")
        done = export_campaign(db.session, current, fmt="csv", out=tmp_path / "e.csv",
                               actor="test")
        wait_id, report_id = wait.id, stated.report.id
        db.session.commit()
    design = json.loads(done.design_path.read_text())
    actions = design["report"]["improvement"]["actions"]
    assert [a["title"] for a in actions] == ["Rappel sous 24 h", "Indice"]
    assert "owner_id" not in actions[0] and "owner" not in actions[0]
    assert design["report"]["improvement"]["previous"] == {"slug": plan.previous, "year": 2025}
    assert run_analyze(done.data_path, done.design_path, tmp_path / "f.json",
                       sample_path=done.sample_path, report=True) == 0
    reproduced = json.loads((tmp_path / "f.json").read_text())["improvement"]
    figures = json.loads(re.search(r'id="report-figures">(.*?)</script>', stated.html,
                                   re.DOTALL).group(1))["improvement"]
    assert figure_differences(figures, reproduced) == []
    assert figures["family"] == ["phone_wait_satisfied", "index"]
    assert [row["reached"] for row in figures["rows"]] == [
        figures["rows"][0]["current_estimate"]["estimate"] >= 0.8, False]
    assert figures["rows"][1]["comparison"]["p_adjusted"] >= figures["rows"][1][
        "comparison"]["p_value"]

    # The action is done after the report: the stored report no longer goes with the export's
    # design file, so the pack makes a new one, and it verifies.
    with app.app_context():
        action = db.session.get(ImprovementAction, wait_id)
        ops.change_status(db.session, action, "done", today=date(2026, 3, 1), actor="test")
        db.session.commit()
    result = runner.invoke(["audit", "pack", plan.current, "--out", str(tmp_path / "p.zip"),
                            "--no-pdf"])
    assert result.exit_code == 0, result.output
    assert f"report {report_id} " not in result.output
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
        packed = archive.read(manifest["report"]["html"]).decode()
    rows = json.loads(re.search(r'id="report-figures">(.*?)</script>', packed,
                                re.DOTALL).group(1))["improvement"]["rows"]
    assert rows[0]["status"] == "done" and rows[0]["done_on"] == "2026-03-01"
    verified = runner.invoke(["audit", "verify-pack", str(tmp_path / "p.zip")])
    assert verified.exit_code == 0, verified.output
