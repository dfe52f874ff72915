"""The yearly report and the exports, on a campaign filled with known synthetic answers."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from analysis import analyze, parse_design, read_responses
from analysis.cli import run_analyze
from survey.campaigns.operations import create_campaign
from survey.extensions import db
from survey.models import AuditEvent, Invitation, Report
from survey.reporting.dataset import build_dataset, mask_personal_data, neutralise
from survey.reporting.operations import (
    export_campaign,
    generate_report,
    stored_report_path,
)
from survey.reporting.synthetic import seed_synthetic_responses


@pytest.fixture
def campaigns(app):
    """Last year's closed campaign and this year's, of one programme."""
    with app.app_context():
        made = {}
        for year, shift, n in ((2025, -0.3, 120), (2026, 0.0, 160)):
            campaign = create_campaign(
                db.session, f"barometre-{year}", programme="Baromètre service client",
                year=year, questionnaire_key="nf-relation-client", actor="test",
            )  # fmt: skip
            seed_synthetic_responses(db.session, campaign, rng_seed=year, n_respondents=n,
                                     shift=shift)  # fmt: skip
            campaign.status = "closed"
            made[year] = campaign.slug
        db.session.commit()
        return made


def _campaign(slug):
    from survey.campaigns.operations import get_campaign

    return get_campaign(db.session, slug)


def test_neutralise_and_mask():
    assert neutralise("=SUM(A1)") == "'=SUM(A1)"
    assert neutralise("-2") == "'-2"
    assert neutralise("\tx") == "'\tx"
    assert neutralise("'=x") == "'=x"
    assert neutralise(4.0) == 4.0
    masked = mask_personal_data(
        "écrivez à jean.dupont@example.fr ou au 06 12 34 56 78, +44 20 7946 0958"
    )
    assert "@" not in masked and "06 12" not in masked and "7946" not in masked
    assert mask_personal_data("En 2025, 3 appels.") == "En 2025, 3 appels."


def test_dataset_has_no_personal_data_and_one_row_per_complete(app, campaigns):
    with app.app_context():
        dataset = build_dataset(db.session, _campaign(campaigns[2026]))
        frame = dataset.frame
        assert len(frame) == 160
        assert frame["respondent"].is_unique
        assert {"stratum", "weight", "disposition", "overall", "nps"} <= set(frame.columns)
        assert not any(c in frame.columns for c in ("email", "phone", "name", "customer_id"))
        text = frame.to_csv()
        assert "@example.org" not in text and "06 12 34 56 78" not in text
        design = dataset.design
        assert design["strata"] == "stratum"
        assert design["population"] == _campaign(campaigns[2026]).frame_counts
        assert design["indicators"][0]["item"] == "overall"


def test_csv_export_reproduces_the_report_numbers(app, campaigns, tmp_path):
    out = tmp_path / "export.csv"
    with app.app_context():
        campaign = _campaign(campaigns[2026])
        done = export_campaign(db.session, campaign, fmt="csv", out=out, actor="test")
        dataset = build_dataset(db.session, campaign)
        expected = analyze(dataset.frame, parse_design(dataset.design))
        generated = generate_report(db.session, campaign, lang="en",
                                    instance_path=app.instance_path, actor="test")  # fmt: skip
        db.session.commit()
        assert generated.report.data_sha256 == done.data_sha256
    assert done.design_path == tmp_path / "export.design.json"
    results = tmp_path / "results.json"
    assert run_analyze(out, done.design_path, results) == 0
    reproduced = json.loads(results.read_text())["estimates"]
    assert len(reproduced) == len(expected.estimates)
    for mine, theirs in zip(expected.estimates, reproduced, strict=True):
        assert mine.indicator == theirs["indicator"] and mine.domain == theirs["domain"]
        assert mine.estimate == pytest.approx(theirs["estimate"], rel=1e-12, abs=1e-12)
        assert mine.se == pytest.approx(theirs["se"], rel=1e-9, abs=1e-12)
    # The report prints the engine's headline numbers and the command that reproduces them.
    html = generated.html
    overall = expected.get("overall_satisfied")
    shown = re.search(r'data-indicator="overall_satisfied">([^<]+)<', html).group(1)
    assert shown.strip().startswith(f"{100 * overall.estimate:.1f}")
    index = expected.get("index")
    shown = re.search(r'data-indicator="index">([^<]+)<', html).group(1)
    assert shown.strip() == f"{index.estimate:.1f}"
    assert "barometre analyze barometre-2026.csv --design barometre-2026.design.json" in html
    # Every number the report states in its figures block is the one analyze gives again: the
    # comparison `barometre audit verify-pack` makes.
    from survey.auditpack.verify import estimate_differences

    block = re.search(r'id="report-figures">(.*?)</script>', html, re.DOTALL).group(1)
    figures = json.loads(block)
    assert figures["data_sha256"] == done.data_sha256
    assert estimate_differences(figures["estimates"], reproduced) == []
    assert len(figures["estimates"]) == len(reproduced)


def test_analyze_reads_the_excel_france_export_as_the_utf8_one(app, campaigns, tmp_path):
    with app.app_context():
        campaign = _campaign(campaigns[2026])
        plain = export_campaign(db.session, campaign, fmt="csv", out=tmp_path / "utf8.csv",
                                actor="test")
        french = export_campaign(db.session, campaign, fmt="csv", out=tmp_path / "fr.csv",
                                 actor="test", excel_france=True)
    raw = (tmp_path / "fr.csv").read_bytes()
    assert b";" in raw.splitlines()[0]
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # accented answers in Windows-1252: what broke `analyze`
    results = {}
    for name, done in (("utf8", plain), ("fr", french)):
        assert run_analyze(done.data_path, done.design_path, tmp_path / f"{name}.json") == 0
        results[name] = json.loads((tmp_path / f"{name}.json").read_text())["estimates"]
    assert len(results["fr"]) == len(results["utf8"])
    for theirs, mine in zip(results["utf8"], results["fr"], strict=True):
        assert (mine["indicator"], mine["domain"], mine["n"]) == \
            (theirs["indicator"], theirs["domain"], theirs["n"])
        assert mine["estimate"] == pytest.approx(theirs["estimate"], rel=1e-12, abs=1e-12)
        assert mine["se"] == pytest.approx(theirs["se"], rel=1e-9, abs=1e-12)


def test_report_is_stored_complete_and_audited(app, campaigns):
    with app.app_context():
        campaign = _campaign(campaigns[2026])
        generated = generate_report(db.session, campaign, lang="fr",
                                    instance_path=app.instance_path, actor="test")  # fmt: skip
        db.session.commit()
        report = db.session.get(Report, generated.report.id)
        path = stored_report_path(report, app.instance_path)
        assert path.name == f"{report.id}.html"
        assert path.read_text(encoding="utf-8") == generated.html
        event = db.session.query(AuditEvent).filter_by(action="report.generate").one()
        assert event.object_id == str(report.id)
    html = generated.html
    for section in ("summary", "method", "results", "domains", "trend", "drivers",
                    "reliability", "follow-ups", "verbatims", "annex"):  # fmt: skip
        assert f'<section id="{section}">' in html
    assert html.count("<script>") == 1 + html.count("Plotly.newPlot")  # one library, charts
    assert "<link" not in html and '<img src="http' not in html
    assert "Évolution depuis 2025" in html  # last year's campaign is compared
    assert "RR1" in html and "COOP1" in html and "CON1" in html
    assert "α de Cronbach" in html
    assert "jane.doe@example.org" not in html
    assert "&lt;" not in html or "<script>alert" not in html


def test_the_report_prints_the_audit_trails_head(app, campaigns):
    from survey.audit import seal_pending_events, sealed_head

    with app.app_context():
        seal_pending_events(db.session, key=app.config["AUDIT_KEY"],
                            instance_path=app.config["INSTANCE_PATH"])
        head = sealed_head(db.session)
        generated = generate_report(db.session, _campaign(campaigns[2026]), lang="en",
                                    instance_path=app.instance_path, actor="test")
        db.session.commit()
    assert head is not None
    assert f"barometre audit verify --head {head.hash}</pre>" in generated.html
    assert f"its head (last hash) is {head.hash}" in generated.html


def test_xlsx_and_sav_exports(app, campaigns, tmp_path):
    with app.app_context():
        campaign = _campaign(campaigns[2026])
        export_campaign(db.session, campaign, fmt="xlsx", out=tmp_path / "d.xlsx", actor="t")
        export_campaign(db.session, campaign, fmt="sav", out=tmp_path / "d.sav", actor="t")
        export_campaign(db.session, campaign, fmt="csv", out=tmp_path / "fr.csv", actor="t",
                        excel_france=True)  # fmt: skip
    workbook = load_workbook(tmp_path / "d.xlsx", read_only=True)
    assert workbook.sheetnames == ["data", "dictionary"]
    rows = list(workbook["data"].values)
    assert len(rows) == 161 and rows[0][0] == "respondent"
    comments = [row[rows[0].index("comment")] for row in rows[1:] if row[rows[0].index("comment")]]
    assert all(not str(c).startswith(("=", "+", "-", "@")) for c in comments)
    frame, meta = pyreadstat.read_sav(tmp_path / "d.sav")
    assert len(frame) == 160
    assert meta.column_names_to_labels["overall"].startswith("Dans l’ensemble")
    assert meta.variable_value_labels["overall"][5.0] == "Très satisfait"
    french = (tmp_path / "fr.csv").read_bytes().decode("cp1252")
    assert french.splitlines()[0].startswith("respondent;stratum;")


def test_cli_export_and_report(app, runner, campaigns, tmp_path):
    result = runner.invoke(["export", campaigns[2026], "--format", "csv",
                            "--out", str(tmp_path / "x.csv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "design file:" in result.output
    frame = read_responses(tmp_path / "x.csv", ["stratum"])
    assert len(frame) == 160
    result = runner.invoke(["report", campaigns[2026], "--out", str(tmp_path / "r.html"),
                            "--lang", "en"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Annual customer-satisfaction report" in (tmp_path / "r.html").read_text()
    result = runner.invoke(["report", "no-such-campaign", "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2


def test_report_opens_offline_in_chromium(app, campaigns, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed")
    with app.app_context():
        generated = generate_report(db.session, _campaign(campaigns[2026]), lang="fr",
                                    instance_path=app.instance_path, actor="test")  # fmt: skip
        db.session.commit()
    requested = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        page = browser.new_page()

        def block(route):
            if not route.request.url.startswith("file://"):
                requested.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        page.route("**/*", block)
        page.goto(generated.path.resolve().as_uri())
        page.wait_for_selector("#chart-drivers .main-svg", timeout=20000)
        rendered = page.locator(".plot-container").count()
        browser.close()
    assert requested == []
    assert rendered >= 4


def test_pdf_is_printed_offline(app, campaigns, tmp_path):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed")
    from survey.reporting.operations import html_to_pdf

    with app.app_context():
        generated = generate_report(db.session, _campaign(campaigns[2026]), lang="en",
                                    instance_path=app.instance_path, actor="test")  # fmt: skip
        db.session.commit()
    pdf = html_to_pdf(generated.path, tmp_path / "r.pdf")
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF") and len(content) > 50_000


def test_read_back_csv_keeps_formula_text_neutral(app, campaigns, tmp_path):
    with app.app_context():
        export_campaign(db.session, _campaign(campaigns[2026]), fmt="csv",
                        out=tmp_path / "x.csv", actor="t")  # fmt: skip
    frame = pd.read_csv(io.BytesIO((tmp_path / "x.csv").read_bytes()), dtype=str)
    cells = frame.fillna("").to_numpy().ravel()
    assert not any(str(c).startswith(("=", "+", "@")) for c in cells)


def test_fast_recorder_agrees_with_the_questionnaire():
    from questionnaires import get_bundled
    from survey.reporting.dataset import AnalysisRecorder
    from survey.reporting.synthetic import synthetic_records

    questionnaire = get_bundled("nf-relation-client")
    recorder = AnalysisRecorder(questionnaire)
    for record in synthetic_records(questionnaire, 300, rng_seed=7):
        assert recorder.record(record.answers) == questionnaire.analysis_record(record.answers)
    hidden = {"channels_used": ["email"], "phone_wait": 2, "complaint": False,
              "complaint_handling": 1}  # fmt: skip
    assert recorder.record(hidden) == questionnaire.analysis_record(hidden)


def _pure_inputs(questionnaire, dataset, population):
    """Report inputs for a dataset alone: no database, every invitation answered."""
    from datetime import UTC, datetime

    from survey.reporting.builder import CampaignFacts, ReportInputs

    return ReportInputs(
        campaign=CampaignFacts(
            slug="pure", programme="P", year=2026, status="closed",
            questionnaire_key=questionnaire.id, questionnaire_version=questionnaire.version,
            questionnaire_sha256="0" * 64, frame_counts=population,
        ),
        dataset=dataset,
        invitations=pd.DataFrame({"stratum": dataset.frame["stratum"], "channel": "email",
                                  "disposition": "complete"}),
        follow_ups=pd.DataFrame(columns=["kind", "status", "created_at", "closed_at", "due_at"]),
        generated_at=datetime.now(UTC),
    )  # fmt: skip


#: The frame of the synthetic data set the pure report tests share.
SYNTHETIC_POPULATION = {"particulier": 14000, "professionnel": 6000}


def _synthetic_report_inputs():
    """1,500 synthetic respondents of the bundled questionnaire over `SYNTHETIC_POPULATION`, and
    their report inputs (`_pure_inputs`): the data set the pure report tests read."""
    from questionnaires import get_bundled
    from survey.reporting.dataset import dataset_from_records
    from survey.reporting.synthetic import synthetic_records

    questionnaire = get_bundled("nf-relation-client")
    dataset = dataset_from_records(
        synthetic_records(questionnaire, 1500, rng_seed=11), questionnaire,
        frame_counts=SYNTHETIC_POPULATION, plan={"margin": 0.03},
    )  # fmt: skip
    return dataset, _pure_inputs(questionnaire, dataset, SYNTHETIC_POPULATION)


def test_domain_differences_marked_only_where_holm_says_so():
    """Pure builder on known synthetic data: the marks are the engine's Holm-corrected tests."""

    from analysis.comparison import domain_versus_rest
    from analysis.estimation import indicator_scores
    from survey.reporting.builder import compute_report
    from survey.reporting.render import render_report

    dataset, inputs = _synthetic_report_inputs()
    population = SYNTHETIC_POPULATION
    data = compute_report(inputs)
    spec = parse_design(dataset.design)
    index = next(i for i in spec.indicators if i.name == "index")
    scored = dataset.frame.assign(score=indicator_scores(dataset.frame, index))
    expected = domain_versus_rest(
        scored, "score", "stratum", strata="stratum", population=population
    )
    stratum = next(d for d in data["domains"] if d["variable"] == "stratum")
    for test in expected:
        level = next(lv for lv in stratum["levels"] if lv["level"] == test.level)
        assert level["contrasts"]["index"]["significant"] == test.significant
        assert level["contrasts"]["index"]["p_adjusted"] == pytest.approx(test.p_adjusted)
    assert any(test.significant for test in expected)  # segments differ by design
    html = render_report(data, "en")
    table = html.split('data-variable="stratum"')[1].split("</table>")[0]
    marks = table.count("▲") + table.count("▼")
    significant = sum(
        contrast["significant"]
        for level in stratum["levels"]
        for contrast in level["contrasts"].values()
    )
    assert marks == significant


def test_report_of_a_campaign_drawn_from_an_imported_base(app, tmp_path):
    """The whole chain: import, plan, draw (survey.frame), answers, report and export."""
    from survey.frame.importing import import_customers
    from survey.frame.sampling import draw_sample, plan_campaign
    from survey.frame.synthetic import synthetic_customer_csv

    with app.app_context():
        import_customers(db.session, synthetic_customer_csv(3000, seed=5), "base.csv",
                         actor="test")  # fmt: skip
        campaign = create_campaign(
            db.session, "drawn-2026", programme="Drawn", year=2026,
            questionnaire_key="nf-relation-client", actor="test",
        )  # fmt: skip
        secret = app.config["SECRET_KEY"]
        plan_campaign(
            db.session, campaign, strata_variables=["segment"], margin=0.08, confidence=0.95,
            response_rate=0.5, secret_key=secret, actor="test",
        )  # fmt: skip
        draw_sample(db.session, campaign, 42, secret_key=secret, actor="test")
        invited = len(db.session.scalars(select(Invitation).where(
            Invitation.campaign_id == campaign.id)).all())  # fmt: skip
        seed_synthetic_responses(db.session, campaign, rng_seed=1, n_respondents=invited // 2)
        db.session.commit()
        dataset = build_dataset(db.session, campaign)
        assert set(dataset.design["population"]) == set(campaign.frame_counts)
        assert "site" in dataset.design["by"]
        generated = generate_report(db.session, campaign, lang="fr",
                                    instance_path=app.instance_path, actor="test")  # fmt: skip
        done = export_campaign(db.session, campaign, fmt="csv", out=tmp_path / "d.csv",
                               actor="test")  # fmt: skip
        frame_sha256 = campaign.frame_sha256
        db.session.commit()
    assert "segment" in generated.html and frame_sha256 in generated.html
    assert "@" not in (tmp_path / "d.csv").read_text(encoding="utf-8").replace(
        "[email masqué / hidden]", ""
    )
    assert run_analyze(done.data_path, done.design_path, tmp_path / "r.json") == 0


def test_domains_under_ten_respondents_are_withheld_from_the_report():
    """Issue #3: the report withholds estimates on fewer than 10 respondents (analyze prints)."""

    from analysis import analyze
    from questionnaires import get_bundled
    from survey.reporting.builder import compute_report
    from survey.reporting.dataset import dataset_from_records
    from survey.reporting.render import render_report
    from survey.reporting.synthetic import synthetic_records

    questionnaire = get_bundled("nf-relation-client")
    population = {"particulier": 14000, "professionnel": 6000}
    dataset = dataset_from_records(
        synthetic_records(questionnaire, 400, rng_seed=5), questionnaire,
        frame_counts=population, plan={"margin": 0.05},
    )  # fmt: skip
    variable = next(v for v in dataset.design["by"] if v != "stratum")
    dataset.frame.loc[dataset.frame.index[:6], variable] = "rare"
    inputs = _pure_inputs(questionnaire, dataset, population)
    data = compute_report(inputs)
    domain = next(d for d in data["domains"] if d["variable"] == variable)
    rare = next(level for level in domain["levels"] if level["level"] == "rare")
    assert rare["estimates"] and all(
        e["withheld"] and e["estimate"] is None and e["ci_low"] is None
        for e in rare["estimates"].values()
    )
    assert rare["contrasts"] == {}
    others = [level for level in domain["levels"] if level["level"] != "rare"]
    assert all(e["estimate"] is not None for lv in others for e in lv["estimates"].values())
    # The engine itself still gives the numbers, flagged as a small base.
    printed = [e for e in analyze(dataset.frame, parse_design(dataset.design)).estimates
               if e.domain == {variable: "rare"}]
    assert printed and all(e.estimate is not None and e.small_base for e in printed)
    html = render_report(data, "en")
    row = html.split('data-variable="' + variable + '"')[1].split("</table>")[0]
    row = row.split(">rare")[1].split("</tr>")[0]
    assert "withheld" in row and "[" in row and "–" in row


def test_p_values_below_a_thousandth_read_as_a_bound():
    from survey.formatting import p_value

    assert p_value(0.00004, locale="fr") == "<\u00a00,001"
    assert p_value(0.00004, locale="en") == "<\u00a00.001"
    assert p_value(0.0, locale="fr") == "<\u00a00,001"
    assert p_value(0.001, locale="fr") == "0,001"  # the bound itself is printed as it is
    assert p_value(0.0423, locale="fr") == "0,042"
    assert p_value(0.0423, locale="en") == "0.042"
    assert p_value(None, locale="fr") == "–"


def _text(html, element_id):
    """The text of the element with `element_id` (tags removed, spaces collapsed)."""
    start = html.index(f'id="{element_id}"')
    fragment = html[start:].split(">", 1)[1]
    end = min(fragment.index(tag) for tag in ("</p>", "</ul>", "</table>") if tag in fragment)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment[:end])).strip()


def test_the_method_states_mode_partials_tests_deviations_and_changes(app, campaigns):
    """ISO 20252's reporting items, from the campaign's own facts, in both languages."""
    with app.app_context():
        campaign = _campaign(campaigns[2026])
        partials = db.session.scalar(
            select(func.count()).select_from(Invitation).where(
                Invitation.campaign_id == campaign.id, Invitation.disposition == "partial",
                Invitation.is_test.is_(False),
            )
        )
        planned = {row["stratum"]: row["respondents"] for row in campaign.plan["strata"]}
        html = {lang: generate_report(db.session, campaign, lang=lang,
                                      instance_path=app.instance_path, actor="test").html
                for lang in ("fr", "en")}  # fmt: skip
    assert partials > 0  # the fixture has break-offs, so the count below means something
    assert f'data-partials="{partials}"' in html["fr"]
    assert _text(html["fr"], "method-partials").startswith(f"{partials} clients ont commencé")
    assert "RR2" in _text(html["fr"], "method-partials")
    assert _text(html["en"], "method-partials").startswith(f"{partials} customers started")
    assert "left out of the estimates" in _text(html["en"], "method-partials")

    assert "auto-administré en ligne" in _text(html["fr"], "method-mode")
    assert "par courriel" in _text(html["fr"], "method-mode")
    assert "invitation by email" in _text(html["en"], "method-mode")

    words = {"fr": ("Welch–Satterthwaite", "contraste linéarisé", "Holm"),
             "en": ("Welch–Satterthwaite", "linearised contrast", "Holm")}
    for lang in ("fr", "en"):
        tests = _text(html[lang], "method-tests")
        assert all(word in tests for word in words[lang]), (lang, tests)

    assert _text(html["fr"], "method-fieldwork-dates") == (
        "Terrain réalisé du 1 mars 2026 au 28 mars 2026.")
    assert _text(html["en"], "method-fieldwork-dates") == (
        "Fieldwork ran from March 1, 2026 to March 28, 2026.")
    deviations = html["en"].split('id="method-deviations"')[1].split("</table>")[0]
    rows = re.findall(r'<th scope="row">([^<]+)</th><td class="num">([^<]+)</td>'
                      r'<td class="num">([^<]+)</td>', deviations)
    assert {stratum: int(plan.replace("\u202f", "")) for stratum, plan, _ in rows} == planned
    with app.app_context():
        achieved = build_dataset(db.session, _campaign(campaigns[2026])).frame["stratum"]
    assert {stratum: int(got) for stratum, _, got in rows} == achieved.value_counts().to_dict()

    # The two fixture campaigns drew frames of different sizes; only that change is stated.
    assert 'data-change="frame_size"' in html["fr"]
    assert "taille de la base de sondage" in _text(html["fr"], "method-comparability")
    assert "frame size" in _text(html["en"], "method-comparability")
    assert 'data-change="questionnaire"' not in html["en"]


def test_comparability_lists_only_what_changed():
    from datetime import date

    from survey.reporting.builder import CampaignFacts, PastCampaign, comparability

    def facts(year, **changes):
        base = {"slug": f"b-{year}", "programme": "P", "year": year, "status": "closed",
                "questionnaire_key": "q", "questionnaire_version": "1",
                "questionnaire_sha256": "a" * 64, "fieldwork_start": date(year, 3, 1),
                "fieldwork_end": date(year, 3, 28), "frame_counts": {"x": 100}}
        return CampaignFacts(**{**base, **changes})

    def inputs(now, before):
        return type("Inputs", (), {"campaign": now, "history": [
            PastCampaign(year=before.year, slug=before.slug, estimates=[], facts=before)]})()

    same = comparability(inputs(facts(2026), facts(2025)))
    assert same == {"year": 2025, "slug": "b-2025", "changes": []}  # same weeks a year apart
    changed = comparability(inputs(
        facts(2026, fieldwork_start=date(2026, 10, 1), fieldwork_end=date(2026, 10, 30),
              questionnaire_version="2", questionnaire_sha256="b" * 64, frame_counts={"x": 90}),
        facts(2025),
    ))  # fmt: skip
    assert [change["kind"] for change in changed["changes"]] == [
        "frame_size", "fieldwork", "questionnaire"]
    assert changed["changes"][0] == {"kind": "frame_size", "before": 100, "now": 90}


def test_p_values_below_a_thousandth_read_as_a_bound_in_the_report():
    """Year on year and domain against the rest: a p below 0.001 reads "< 0,001", not "0,000"."""
    from dataclasses import replace

    from survey.reporting.builder import PastCampaign, compute_report
    from survey.reporting.render import render_report

    _, inputs = _synthetic_report_inputs()
    current = compute_report(inputs)["estimates"]
    # Last year ten standard errors lower on every indicator: a difference no test can miss.
    previous = [{**e, "estimate": e["estimate"] - 10 * e["se"]} for e in current
                if e["domain"] is None and e["estimate"] is not None]
    inputs.history = [PastCampaign(year=2025, slug="pure-2025", estimates=previous)]
    inputs.campaign = replace(inputs.campaign, year=2026)
    data = compute_report(inputs)
    rows = data["year_on_year"]["rows"].values()
    assert rows and all(row["p_adjusted"] < 0.001 for row in rows)
    contrasts = [contrast for domain in data["domains"] for level in domain["levels"]
                 for contrast in level["contrasts"].values()
                 if contrast and contrast["significant"] and contrast["p_adjusted"] < 0.001]
    assert contrasts  # the segments differ by design
    html = {lang: render_report(data, lang) for lang in ("fr", "en")}
    assert html["fr"].count('<td class="num">&lt;\u00a00,001</td>') == len(rows)
    assert html["en"].count('<td class="num">&lt;\u00a00.001</td>') == len(rows)
    assert html["fr"].count('(Holm) &lt;\u00a00,001"') == len(contrasts)
    assert "0,000" not in html["fr"] and "0.000<" not in html["en"]


def test_charts_name_questions_by_their_chart_label_or_their_whole_label():
    """Issue #15: a question's `chart_label` names its bar and its drivers point; a question
    without one keeps its whole label on the bar (wrapped by the chart) and a few of its words
    on the drivers chart."""

    from questionnaires.loader import DEFINITIONS_DIR, load_definition
    from survey.reporting.builder import compute_report
    from survey.reporting.dataset import dataset_from_records
    from survey.reporting.render import render_report
    from survey.reporting.synthetic import synthetic_records

    text = (DEFINITIONS_DIR / "nf-relation-client.yaml").read_text(encoding="utf-8")
    courtesy = text.index("- code: courtesy")
    start = text.index("        chart_label:", courtesy)
    end = text.index("\n", text.index("          en:", start)) + 1
    questionnaire = load_definition((text[:start] + text[end:]).encode())
    assert questionnaire.question("courtesy").chart_label is None
    population = {"particulier": 14000, "professionnel": 6000}
    dataset = dataset_from_records(
        synthetic_records(questionnaire, 600, rng_seed=5), questionnaire,
        frame_counts=population, plan={"margin": 0.03},
    )  # fmt: skip
    html = render_report(compute_report(_pure_inputs(questionnaire, dataset, population)), "en")

    def chart_text(chart_id):
        start = html.index(f'id="{chart_id}"')
        script = html[start:html.index("</script>", start)]
        return script.replace("\\u003cbr\\u003e", " ").replace("<br>", " ")

    distribution = chart_text("chart-distribution-0")
    assert "Ease of reaching us" in distribution and "Professionalism" in distribution
    # The title is the figure's caption, outside the SVG: it wraps at any width (issue #15).
    caption = re.search(r'<figure class="chart-figure" aria-labelledby="chart-distribution-0-'
                        r'title"><figcaption class="chart-title" id="chart-distribution-0-title">'
                        r"([^<]+)</figcaption>", html)
    assert caption and caption.group(1).strip()
    assert f'"title":{{"text":"{caption.group(1)}"' not in distribution
    assert "How satisfied are you with how easy" not in distribution
    assert "courtesy of our advisers?" in distribution  # wrapped on lines, whole
    drivers = chart_text("chart-drivers")
    assert "Professionalism" in drivers and "Courtesy of our advisers" in drivers
    assert "(knowledge, listening)" not in drivers


def test_analyze_report_reproduces_every_figure_of_the_report(app, campaigns, tmp_path):
    """Issue #24: from the export's three files alone, `analyze --report` gives back every
    number the report states in its figures block: estimates, margin, weighted and unweighted
    headline, year-on-year tests, domain contrasts with Holm, AAPOR rates per stratum,
    representativeness, distributions, drivers and Cronbach's alpha."""
    from analysis.report import figure_differences

    out = tmp_path / "barometre-2026.csv"
    with app.app_context():
        campaign = _campaign(campaigns[2026])
        done = export_campaign(db.session, campaign, fmt="csv", out=out, actor="test")
        generated = generate_report(db.session, campaign, lang="fr",
                                    instance_path=app.instance_path, actor="test")  # fmt: skip
        questionnaire_sha256 = campaign.questionnaire_version.sha256
        db.session.commit()
    block = re.search(r'id="report-figures">(.*?)</script>', generated.html, re.DOTALL).group(1)
    stated = json.loads(block)
    results = tmp_path / "figures.json"
    assert run_analyze(out, done.design_path, results, sample_path=done.sample_path,
                       report=True) == 0
    reproduced = json.loads(results.read_text())
    assert stated.pop("questionnaire_sha256") == questionnaire_sha256
    assert figure_differences(stated, reproduced) == []
    # Every part is there to compare, not an empty shell that agrees by being empty.
    assert set(stated["year_on_year"]["rows"]) == {"overall_satisfied", "overall_mean", "nps",
                                                   "index"}
    assert stated["year_on_year"]["year"] == 2025
    assert {c["variable"] for c in stated["domain_contrasts"]} >= {"stratum"}
    rates = stated["response_rates"]
    assert rates["invited"] > stated["respondents"] and 0 < rates["overall"]["rr1"] < 1
    assert sum(row["invited"] for row in rates["per_stratum"]) == rates["invited"]
    assert stated["representativeness"]["r_indicator"]["r"] > 0
    assert len(stated["drivers"]["drivers"]) >= 2
    assert 0 < stated["reliability"]["alpha"] < 1
    assert stated["distributions"] and stated["margin"]["achieved"] > 0
    assert [point["year"] for point in stated["trend"]] == [2025, 2026]
    # A number changed in the report is found, and named.
    stated["year_on_year"]["rows"]["nps"]["p_adjusted"] += 1e-6
    assert figure_differences(stated, reproduced) == [
        "year_on_year.rows.nps.p_adjusted: "
        f"{stated['year_on_year']['rows']['nps']['p_adjusted']!r} in the report, "
        f"{reproduced['year_on_year']['rows']['nps']['p_adjusted']!r} from analyze"]
    # The same figures as readable text.
    text = tmp_path / "figures.txt"
    assert run_analyze(out, done.design_path, text, sample_path=done.sample_path, report=True,
                       text=True) == 0
    readable = text.read_text()
    assert "Year on year (against 2025, barometre-2025)" in readable
    assert "Cronbach's alpha" in readable and "RR1" in readable


def test_one_partial_response_reads_singular():
    """"1 customers started" read wrong: a count of one takes the singular (and 0 too in
    French), in both languages."""
    from survey.reporting.texts import translator

    english, french = translator("en"), translator("fr")
    assert english("m_partials_text", number=1, count="1").startswith("1 customer started")
    assert english("m_partials_text", number=0, count="0").startswith("0 customers started")
    assert english("m_partials_text", number=83, count="83").startswith("83 customers started")
    assert french("m_partials_text", number=1, count="1").startswith("1 client a commencé")
    assert french("m_partials_text", number=0, count="0").startswith("0 client a commencé")
    assert french("m_partials_text", number=2, count="2").startswith("2 clients ont commencé")
    assert english("change_frame_size", number=1, before="1", now="3") == (
        "frame size: 1 customer, then 3")


def test_the_method_states_the_programmes_method_and_defaults_when_blank(app, campaigns):
    """Issue #24: who commissioned and conducted the survey, objectives, incentives,
    subcontracting, validation and cleaning, limitations: the programme's words, or the
    report's default sentence for a blank field."""
    from survey.programmes.operations import update_method
    from survey.reporting.texts import method_default

    with app.app_context():
        campaign = _campaign(campaigns[2026])
        update_method(db.session, campaign.programme, {
            "commissioned_by": "Direction clients", "limitations": "Une saison seulement."},
            actor="test")
        html = generate_report(db.session, campaign, lang="en",
                               instance_path=app.instance_path, actor="test").html
        programme = campaign.programme.name
        db.session.commit()
    commission = re.search(r'<dl id="method-commission">(.*?)</dl>', html, re.DOTALL).group(1)
    assert '<dd class="text" data-field="commissioned_by">Direction clients</dd>' in commission
    for name in ("conducted_by", "objectives", "incentives", "subcontracting"):
        default = method_default(name, "en", programme).replace("’", "&#8217;")
        assert f'data-field="{name}" data-default>' in commission
        assert default in commission or method_default(name, "en", programme) in commission
    assert re.search(r'id="method-limitations" class="text">Une saison seulement\.</p>', html)
    assert method_default("validation", "en", programme) in html


def test_every_count_in_the_reports_words_takes_its_plural():
    """Every count-bearing sentence of the report reads right for 0, 1 and many in both
    languages (0 takes the singular in French, the plural in English), whether the count is
    given as a number or as the report writes it ("1 234", "1,234", "1,5")."""
    import string

    from survey.reporting.texts import PLURAL, TEXTS, translator

    counted = {key for key, pair in TEXTS.items() if any(PLURAL.search(text) for text in pair)}
    assert counted >= {
        "improvement_intro", "summary_reading", "m_population_text", "rep_r_text",
        "m_fieldwork_text", "w_converged", "m_estimation_text", "domains_intro", "alpha_text",
        "alpha_left_out", "m_no_respondents", "loop_summary", "verbatims_intro",
        "verbatims_sampled", "a_audit_text", "a_r_model", "a_margins"}
    assert not any("(s)" in text for pair in TEXTS.values() for text in pair)
    for key in counted:
        for lang in ("fr", "en"):
            t = translator(lang)
            text = TEXTS[key][("fr", "en").index(lang)]
            names = {field for _, field, _, _ in string.Formatter().parse(PLURAL.sub("", text))
                     if field} | {m.group(1) for m in PLURAL.finditer(text)}
            for count in (0, 1, 2, 1234):
                said = t(key, **dict.fromkeys(names, count))
                assert "|" not in said and "{" not in said, (key, lang, said)

    fr, en = translator("fr"), translator("en")
    assert fr("summary_reading", n="1", level="95").startswith("1 client a répondu.")
    assert fr("summary_reading", n="0", level="95").startswith("0 client a répondu.")
    assert fr("summary_reading", n="1\u202f234", level="95").startswith(
        "1\u202f234 clients ont répondu.")
    assert en("summary_reading", n="1", level="95").startswith("1 customer answered.")
    assert en("summary_reading", n="0", level="95").startswith("0 customers answered.")
    assert en("summary_reading", n="1,234", level="95").startswith("1,234 customers answered.")
    intro = fr("improvement_intro", year=2025, done=1, total=4, family=1)
    assert "1 réalisée sur 4" in intro and "sur 1 indicateur que vise le plan" in intro
    intro = fr("improvement_intro", year=2025, done=2, total=4, family=3)
    assert "2 réalisées sur 4" in intro and "sur 3 indicateurs que vise le plan" in intro
    assert "over the 1 indicator the plan" in en("improvement_intro", year=2025, done=1,
                                                  total=1, family=1)
    loop = {"total": "1", "closed": "1", "share": "100 %", "judged": "1"}
    assert fr("loop_summary", contact="1,5", **loop).startswith(
        "1 suivi, dont 1 clos ; 100 % traités dans le délai de service parmi 1 suivi arrivé")
    assert fr("loop_summary", contact="1,5", **loop).endswith("en 1,5 heure (médiane).")
    assert en("loop_summary", contact="1.5", **loop).startswith("1 follow-up, 1 closed")
    assert en("loop_summary", contact="1.5", **loop).endswith("within 1.5 hours (median).")
    assert fr("verbatims_sampled", shown=1, seed=3).startswith(
        "1 commentaire tiré au hasard (graine 3) est reproduit ;")
    assert en("verbatims_sampled", shown=2, seed=3).startswith(
        "2 comments drawn at random (seed 3) are printed;")
    assert "aux 5 items posés à tous" in fr("alpha_text", alpha="0,8", level="95", low="0,7",
                                             high="0,9", n="300", k=5)
    assert "on 1 respondent who answered the 2 items" in en(
        "alpha_text", alpha="0.8", level="95", low="0.7", high="0.9", n="1", k=2)
    assert fr("m_no_respondents", strata="A", count=1) == "Strate sans répondant : A."
    assert en("m_no_respondents", strata="A, B", count=2) == "Strata without respondents: A, B."
    assert en("alpha_left_out", items="x", count=1).startswith("Item asked under a condition")
    assert "Relance aux non-répondants à J+7." in fr(
        "m_fieldwork_text", start="1", end="2", channels="e-mail", reminders="7", days=1)
    assert "Reminders to non-respondents on days 3, 7." in en(
        "m_fieldwork_text", start="1", end="2", channels="email", reminders="3, 7", days=2)
    assert en("w_converged", iterations=1) == "The calibration converged in 1 iteration."
    assert fr("a_audit_text", count="1", hash="h").startswith(
        "Au moment de ce rapport, la piste d’audit compte 1 événement scellé ;")
