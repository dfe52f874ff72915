"""The manager's weighting: chosen with the plan, previewed and changed on the weighting page."""

from __future__ import annotations

import re

from survey.campaigns.operations import create_campaign, get_campaign
from survey.extensions import db
from tests.reporting.test_views import login
from tests.weighting.test_weighting import _customers, _raked_campaign

PLAN = {
    "strata": "segment", "margin": "6", "confidence": "0.95", "response_rate": "50",
    "allocation": "proportional", "min_per_stratum": "0", "recent_months": "12",
}  # fmt: skip


def test_the_plan_form_saves_a_raking_and_shows_its_cells(app, client):
    with app.app_context():
        _customers(400)
        create_campaign(
            db.session, "plan-web", programme="P", year=2026,
            questionnaire_key="nf-relation-client", actor="test",
        )  # fmt: skip
        db.session.commit()
    login(client, "manager")
    client.get("/?lang=en")  # the session keeps the language
    url = "/manage/campaigns/plan-web/plan"
    refused = client.post(url, data={**PLAN, "calibration_method": "poststratify",
                                     "calibration_variables": ["segment", "canal"]})  # fmt: skip
    assert refused.status_code == 422
    assert "Post-stratification takes exactly one variable" in refused.text
    # Only the frame's columns can be ticked: a name it does not have is refused.
    unknown = client.post(url, data={**PLAN, "calibration_method": "rake",
                                     "calibration_variables": ["segment", "region"]})  # fmt: skip
    assert unknown.status_code == 422 and 'id="calibration_variables-error"' in unknown.text
    saved = client.post(url, data={**PLAN, "calibration_method": "rake",
                                   "calibration_variables": ["segment", "canal"]})  # fmt: skip
    assert saved.status_code in (302, 303)
    page = client.get(url)
    assert 'id="calibration-cells"' in page.text and "courrier" in page.text
    assert 'id="calibration-verdict"' in page.text
    assert 'value="rake" selected' in page.text or "selected" in page.text
    with app.app_context():
        assert get_campaign(db.session, "plan-web").plan["calibration"]["variables"] == [
            "segment", "canal"
        ]


def test_the_weighting_page_previews_then_saves(app, client):
    with app.app_context():
        _customers()
        db.session.commit()
        slug = _raked_campaign()
    login(client, "manager")
    url = f"/manage/campaigns/{slug}/weighting"
    french = client.get(url + "?lang=fr")
    assert "Pondération de barometre-2026" in french.text
    assert "Pondération en vigueur" in french.text
    page = client.get(url + "?lang=en")
    assert page.status_code == 200 and "Weighting in force" in page.text
    assert 'id="frame-margins"' in page.text and 'id="calibration-cells"' in page.text
    preview = client.get(url, query_string={"method": "poststratify", "variables": "canal"})
    assert preview.status_code == 200
    assert 'id="preview-weights"' in preview.text and 'id="preview-headline"' in preview.text
    with app.app_context():  # a preview changes nothing
        assert get_campaign(db.session, slug).plan["calibration"]["method"] == "rake"
    bad = client.get(url, query_string={"method": "rake", "variables": "canal, nothing"})
    assert bad.status_code == 422
    # The variables are ticked among the columns counted at the draw (issue #15); a name
    # typed by hand is refused, in the page's language, and the summary names the field.
    assert re.search(r'<input[^>]*name="variables" type="checkbox" value="canal"', page.text)
    assert not re.search(r'<input[^>]*name="variables" type="text"', page.text)
    typed = client.get(url, query_string=[("method", "rake"), ("variables", "canal"),
                                          ("variables", "nothing"), ("lang", "fr")])
    assert typed.status_code == 422
    assert "Cochez des colonnes de la base clients parmi celles proposées." in typed.text
    assert 'class="error-summary"' in typed.text and 'href="#variables"' in typed.text
    one = client.get(url, query_string=[("method", "poststratify"), ("variables", "canal"),
                                        ("variables", "segment"), ("lang", "fr")])
    assert one.status_code == 422
    assert "La post-stratification porte sur une seule variable : cochez-en une." in one.text
    saved = client.post(url, data={"method": "poststratify", "variables": "canal"})
    assert saved.status_code in (302, 303)
    with app.app_context():
        assert get_campaign(db.session, slug).plan["calibration"]["variables"] == ["canal"]


def test_an_auditor_reads_the_weighting_page_but_cannot_change_it(app, client):
    with app.app_context():
        _customers(300)
        db.session.commit()
        slug = _raked_campaign()
    login(client, "auditor")
    client.get("/?lang=en")
    url = f"/manage/campaigns/{slug}/weighting"
    page = client.get(url)
    assert page.status_code == 200 and "Use this weighting" not in page.text
    assert client.post(url, data={"method": "none"}).status_code == 403
