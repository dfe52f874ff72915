"""The yearly report shows the criteria of the campaign's year against their targets, beside
the satisfaction with the same commitment."""

from __future__ import annotations

from survey.campaigns.operations import get_campaign
from survey.extensions import db
from survey.reporting.builder import compute_report
from survey.reporting.operations import generate_report, report_inputs


def test_the_report_sets_criteria_beside_the_satisfaction(app, campaigns) -> None:
    with app.app_context():
        campaign = get_campaign(db.session, campaigns[2026])
        data = compute_report(report_inputs(db.session, campaign))
        rows = {row["code"]: row for row in data["criteria"]}
        calls = rows["calls-60s"]
        assert [m["month"] for m in calls["months"]] == [f"2026-{m:02d}" for m in range(1, 13)]
        assert calls["period"]["months_met"] == 10
        assert calls["period"]["value"] == (10 * 850 + 2 * 700) / 12000
        # The satisfaction beside it is the report's own estimate of the linked item.
        assert calls["satisfaction"] == data["overall"]["phone_wait_satisfied"]
        generated = generate_report(db.session, campaign, lang="fr",
                                    instance_path=app.instance_path, actor="test")
        html = generated.html
        assert 'id="criteria"' in html and "Critères de performance" in html
        assert "Appels décrochés en moins de 60 s" in html and "≥ 80,0\u00a0%" in html
        satisfied = data["overall"]["phone_wait_satisfied"]["estimate"]
        assert f"{100 * satisfied:.1f}".replace(".", ",") + "\u00a0%" in html
        english = generate_report(db.session, campaign, lang="en",
                                  instance_path=app.instance_path, actor="test").html
        assert "Calls answered within 60 s" in english and "Performance criteria" in english
        # Last year's report: no values that year, the criteria shown without them.
        before = compute_report(report_inputs(db.session, get_campaign(db.session,
                                                                       campaigns[2025])))
        assert all(m["value"] is None for r in before["criteria"] for m in r["months"])
