"""Weighting and representativeness of a campaign, on both databases.

A campaign raked on two frame variables: the report's numbers equal `barometre analyze` on its
export and R's `rake` on the same data (`r_rake/expected.json`, written by
`r_rake/make_expected.R` from the export this test writes); the margins stored at the draw are
unchanged by a later import; the plan refuses a calibration that cannot converge, naming the
cell.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cli import run_analyze
from survey.campaigns.operations import create_campaign, get_campaign
from survey.extensions import db
from survey.frame.sampling import SamplingError, draw_sample, plan_campaign
from survey.models import AuditEvent, Customer
from survey.reporting.builder import compute_report
from survey.reporting.operations import export_campaign, report_inputs
from survey.reporting.synthetic import seed_synthetic_responses
from survey.weighting.operations import CalibrationError, choose_calibration

HERE = Path(__file__).parent
SECRET = "test-secret-key-that-is-long-enough-0123456789"
SEGMENTS = ("particulier", "professionnel")
CANALS = ("telephone", "email", "courrier")


def _customers(n: int = 900, seed: int = 20) -> None:
    rng = np.random.default_rng(seed)
    segments = rng.choice(SEGMENTS, size=n, p=[0.7, 0.3])
    canals = rng.choice(CANALS, size=n, p=[0.5, 0.35, 0.15])
    for i in range(n):
        db.session.add(
            Customer(
                external_id=f"C{i:05d}",
                email=f"client{i}@example.org",
                language="fr",
                attributes={"segment": str(segments[i]), "canal": str(canals[i])},
            )
        )
    db.session.flush()


def _raked_campaign(slug: str = "barometre-2026") -> str:
    campaign = create_campaign(
        db.session, slug, programme="Baromètre", year=2026,
        questionnaire_key="nf-relation-client", actor="test",
    )  # fmt: skip
    plan_campaign(
        db.session, campaign, strata_variables=["segment"], margin=0.06, confidence=0.95,
        response_rate=0.5, calibration=("rake", ["segment", "canal"]), secret_key=SECRET,
        actor="test",
    )  # fmt: skip
    draw_sample(db.session, campaign, 11, secret_key=SECRET, actor="test")
    seed_synthetic_responses(db.session, campaign, rng_seed=5, n_respondents=150)
    campaign.status = "closed"
    db.session.commit()
    return campaign.slug


@pytest.fixture
def raked(app):
    with app.app_context():
        _customers()
        db.session.commit()
        return _raked_campaign()


def test_the_plan_states_each_cell_and_the_draw_stores_the_margins(app, raked):
    with app.app_context():
        campaign = get_campaign(db.session, raked)
        calibration = campaign.plan["calibration"]
        assert calibration["method"] == "rake" and calibration["source"] == "frame"
        cells = {(c["variable"], c["level"]): c for c in calibration["cells"]}
        assert set(cells) == {("segment", s) for s in SEGMENTS} | {("canal", c) for c in CANALS}
        frame_size = campaign.plan["frame_size"]
        assert sum(c["population"] for k, c in cells.items() if k[0] == "canal") == frame_size
        for cell in cells.values():
            assert cell["expected_respondents"] == pytest.approx(cell["expected_sampled"] * 0.5)
        margins = campaign.frame_margins
        assert set(margins) >= {"segment", "canal"}
        assert sum(margins["canal"].values()) == sum(campaign.frame_counts.values())
        events = db.session.query(AuditEvent).filter_by(action="campaign.plan").all()
        assert events[-1].summary["calibration"] == "rake:segment,canal"


def test_report_equals_analyze_on_the_export_and_r_rake(app, raked, tmp_path):
    with app.app_context():
        campaign = get_campaign(db.session, raked)
        done = export_campaign(db.session, campaign, fmt="csv", out=tmp_path / "e.csv", actor="t")
        data = compute_report(report_inputs(db.session, campaign))
        db.session.commit()
    design = json.loads(done.design_path.read_text())
    assert design["calibration"]["method"] == "rake"
    assert set(design["calibration"]["margins"]) == {"segment", "canal"}
    results = tmp_path / "results.json"
    assert run_analyze(done.data_path, done.design_path, results, sample_path=done.sample_path) == 0
    document = json.loads(results.read_text())
    ours = {(e["indicator"], json.dumps(e["domain"])): e for e in document["estimates"]}
    for estimate in data["estimates"]:
        theirs = ours[(estimate["indicator"], json.dumps(estimate["domain"]))]
        for field in ("estimate", "se", "ci_low", "ci_high"):
            assert estimate[field] == pytest.approx(theirs[field], rel=1e-12, abs=1e-12)
    # R's rake on the same export (survey 4.1.1): the values stored beside the test, computed
    # from the export stored there too, which this campaign's export must equal.
    stored = HERE / "r_rake"
    assert done.data_path.read_bytes() == (stored / "export.csv").read_bytes()
    # The design R reads; its `report` key (what `analyze --report` adds) is not R's.
    assert "report" in design
    assert {key: value for key, value in design.items() if key != "report"} == json.loads(
        (stored / "export.design.json").read_text())
    expected = json.loads((stored / "expected.json").read_text())
    for row in expected["estimates"]:
        estimate = ours[(row["indicator"], "null")]
        assert estimate["n"] == row["n"] and estimate["df"] == row["df"]
        for field in ("estimate", "se", "ci_low", "ci_high"):
            assert estimate[field] == pytest.approx(row[field], rel=1e-6), row["indicator"]
    # The weighting summary and the representativeness are the report's too.
    assert document["weighting"]["final"] == pytest.approx(data["weighting"]["summary"]["final"])
    calibration = document["weighting"]["calibration"]
    for margin in calibration["margins"]:
        for level in margin["levels"]:
            assert level["calibrated_total"] == pytest.approx(level["population"], rel=1e-9)
    reported = data["representativeness"]["r_indicator"]
    assert document["representativeness"]["r_indicator"]["r"] == pytest.approx(reported["r"])
    assert document["representativeness"]["r_indicator"]["se"] == pytest.approx(reported["se"])
    sample = pd.read_csv(done.sample_path)
    assert list(sample.columns[:2]) == ["stratum", "responded"]
    assert {"segment", "canal"} <= set(sample.columns)
    assert int(sample["responded"].sum()) == len(pd.read_csv(done.data_path))


def test_the_report_shows_weighting_and_representativeness(app, raked):
    from survey.reporting.render import render_report

    with app.app_context():
        data = compute_report(report_inputs(db.session, get_campaign(db.session, raked)))
    html = render_report(data, "en")
    for anchor in ('id="weighted-unweighted"', 'id="r-indicator"', 'id="response-rates"',
                   'id="calibration-margins"', 'id="weights-by-stratum"',
                   'id="reproduce-representativeness"'):  # fmt: skip
        assert anchor in html
    assert "raked (iterative proportional fitting)" in html
    french = render_report(data, "fr")
    assert "Indicateur R" in french and "calés par raking" in french


def test_margins_stored_at_the_draw_survive_a_later_import(app, raked):
    with app.app_context():
        campaign = get_campaign(db.session, raked)
        before = json.loads(json.dumps(campaign.frame_margins))
        design_before = json.loads(json.dumps(campaign.plan["calibration"]))
        for i in range(200):  # a later import: new customers, another segment, changed ones
            db.session.add(
                Customer(external_id=f"N{i:05d}", email=f"new{i}@example.org", language="en",
                         attributes={"segment": "vip", "canal": "email"})
            )  # fmt: skip
        for customer in db.session.query(Customer).filter(Customer.external_id < "C00050"):
            customer.attributes = {"segment": "professionnel", "canal": "courrier"}
        db.session.commit()
        db.session.expire_all()
        campaign = get_campaign(db.session, raked)
        assert campaign.frame_margins == before
        assert campaign.plan["calibration"] == design_before
        from survey.reporting.dataset import build_dataset

        design = build_dataset(db.session, campaign).design
        assert design["calibration"]["margins"]["segment"] == before["segment"]


def test_the_plan_refuses_a_calibration_that_cannot_converge_naming_the_cell(app):
    with app.app_context():
        _customers(400)
        for i in range(3):  # a level held by 3 customers of 403: no respondent expected
            db.session.add(
                Customer(external_id=f"R{i}", email=f"rare{i}@example.org", language="fr",
                         attributes={"segment": "particulier", "canal": "fax"})
            )  # fmt: skip
        db.session.flush()
        campaign = create_campaign(
            db.session, "cc", programme="P", year=2026, questionnaire_key="nf-relation-client",
            actor="test",
        )  # fmt: skip
        with pytest.raises(SamplingError, match=r"cannot converge: cell canal = 'fax'"):
            plan_campaign(
                db.session, campaign, strata_variables=["segment"], margin=0.1,
                confidence=0.95, response_rate=0.3, calibration=("rake", ["segment", "canal"]),
                secret_key=SECRET, actor="test",
            )  # fmt: skip
        with pytest.raises(SamplingError, match="no variable 'region'"):
            plan_campaign(
                db.session, campaign, strata_variables=["segment"], margin=0.1,
                confidence=0.95, response_rate=0.3, calibration=("poststratify", ["region"]),
                secret_key=SECRET, actor="test",
            )  # fmt: skip


def test_margins_entered_by_hand_must_add_up_to_the_frame(app):
    with app.app_context():
        _customers(300)
        campaign = create_campaign(
            db.session, "mm", programme="P", year=2026, questionnaire_key="nf-relation-client",
            actor="test",
        )  # fmt: skip
        common = {
            "strata_variables": ["segment"], "margin": 0.1, "confidence": 0.95,
            "response_rate": 0.3, "calibration": ("poststratify", ["segment"]),
            "secret_key": SECRET, "actor": "test",
        }  # fmt: skip
        with pytest.raises(SamplingError, match="adds up to 100 but the frame holds 300"):
            plan_campaign(db.session, campaign, calibration_margins={
                "segment": {"particulier": 60, "professionnel": 40}}, **common)  # fmt: skip
        plan = plan_campaign(
            db.session, campaign, calibration_margins={
                "segment": {"particulier": 200, "professionnel": 100}},
            calibration_reference="INSEE 2025", **common,
        )  # fmt: skip
        assert plan["calibration"]["source"] == "manual"
        assert plan["calibration"]["reference"] == "INSEE 2025"
        assert plan["calibration"]["margins"]["segment"]["particulier"] == 200


def test_calibration_changed_after_the_draw_and_refused_when_archived(app, raked):
    with app.app_context():
        campaign = get_campaign(db.session, raked)
        document = choose_calibration(
            db.session, campaign, ("poststratify", ["canal"]), actor="test"
        )
        assert document["variables"] == ["canal"]
        db.session.commit()
        from survey.reporting.dataset import build_dataset

        design = build_dataset(db.session, campaign).design
        assert design["calibration"]["method"] == "poststratify"
        choose_calibration(db.session, campaign, None, actor="test")
        assert "calibration" not in build_dataset(db.session, campaign).design
        campaign.status = "archived"
        with pytest.raises(CalibrationError, match="archived"):
            choose_calibration(db.session, campaign, ("rake", ["canal", "segment"]), actor="t")
        db.session.rollback()
