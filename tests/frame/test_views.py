"""The manager pages: import with its report, plan with the expected precision, draw."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from survey.auth.operations import create_user
from survey.extensions import db
from survey.models import Campaign, Customer, Invitation
from tests.conftest import wait_for_jobs
from tests.frame.conftest import HEADER, csv_bytes
from tests.survey.factories import make_campaign, make_customer

PASSWORD = "a long enough password"


def log_in(app, client, role: str) -> None:
    with app.app_context():
        create_user(db.session, f"{role}@example.org", role, PASSWORD, actor="test")
        db.session.commit()
    client.post("/login", data={"email": f"{role}@example.org", "password": PASSWORD})


def upload(client, data: bytes, **fields):
    """Post the file; a valid one is imported in the background: wait, then show its job page."""
    form = {"file": (io.BytesIO(data), "base.csv"), **fields}
    posted = client.post("/manage/customers?lang=en", data=form,
                         content_type="multipart/form-data")
    if posted.status_code != 303:
        return posted
    assert "/manage/jobs/" in posted.headers["Location"]
    wait_for_jobs(client.application)
    return client.get(posted.headers["Location"] + "?lang=en")


def test_a_manager_imports_a_file_and_sees_its_report(app, client) -> None:
    log_in(app, client, "manager")
    good = csv_bytes([HEADER, ["C1", "a@exemple.fr", "06 12 34 56 78", "", "", "pro"]])
    page = upload(client, good, dry_run="y")
    assert page.status_code == 200 and "Dry run: nothing was imported." in page.text
    page = upload(client, good)
    assert "Customers imported: 1 created, 0 updated." in page.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
    page = client.get("/manage/customers?lang=en")
    assert "Last import" in page.text and "base.csv" in page.text


def test_rejected_rows_are_listed_masked_and_nothing_is_imported(app, client) -> None:
    log_in(app, client, "manager")
    data = csv_bytes([HEADER, ["C1", "jean.dupont@", "", "", "", ""],
                      ["C2", "b@exemple.fr", "", "", "", ""]])
    page = upload(client, data)
    assert "1 rows are rejected: nothing was imported." in page.text
    assert "j***@" in page.text and "jean.dupont" not in page.text
    assert '<th scope="col" class="num">Line</th>' in page.text
    page = upload(client, data, accept_rejects="y")
    assert "Customers imported: 1 created" in page.text


def test_a_file_that_is_not_a_table_is_explained_next_to_the_field(app, client) -> None:
    log_in(app, client, "manager")
    page = upload(client, b"\x00\x01binary")
    assert 'id="file-error"' in page.text and "binary data" in page.text


def test_auditors_read_the_plan_but_cannot_import_plan_or_draw(app, client) -> None:
    with app.app_context():
        make_campaign(slug="barometre-2026")
        db.session.commit()
    log_in(app, client, "auditor")
    assert client.get("/manage/customers").status_code == 403
    assert client.get("/manage/campaigns/barometre-2026/plan").status_code == 200
    assert client.post("/manage/campaigns/barometre-2026/plan").status_code == 403
    assert client.post("/manage/campaigns/barometre-2026/draw").status_code == 403
    assert client.get("/manage/campaigns/nope/plan").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client) -> None:
    assert client.get("/manage/customers").status_code == 302


def test_a_manager_plans_sees_the_precision_then_draws(app, client) -> None:
    with app.app_context():
        make_campaign(slug="barometre-2026", channels=["email"])
        for number in range(40):
            make_customer(external_id=f"K{number:02d}", email=f"k{number}@exemple.fr",
                          attributes={"segment": "pro" if number < 10 else "particulier"})
        db.session.commit()
    log_in(app, client, "manager")
    plan = {"strata": "segment", "margin": "15", "confidence": "0.95",
            "response_rate": "50", "allocation": "proportional", "min_per_stratum": "2",
            "recent_months": "12", "excluded": "K00\nK01"}
    response = client.post("/manage/campaigns/barometre-2026/plan", data=plan)
    assert response.status_code == 302
    page = client.get("/manage/campaigns/barometre-2026/plan?lang=en")
    assert "Expected margin of error" in page.text and " points" in page.text
    assert '<th scope="row">particulier</th>' in page.text
    assert 'On the exclusion list</th><td class="num">2</td>' in page.text
    response = client.post("/manage/campaigns/barometre-2026/draw", data={"seed": "42"})
    assert response.status_code == 302
    with app.app_context():
        campaign = db.session.scalar(select(Campaign))
        assert campaign.status == "sampled" and campaign.seed == 42
        invitations = db.session.scalar(select(func.count()).select_from(Invitation))
        assert invitations == campaign.plan["invitations"]
    page = client.get("/manage/campaigns/barometre-2026/plan?lang=en")
    assert "Drawn" in page.text and "seed 42" in page.text


def test_plan_errors_are_shown_in_the_page(app, client) -> None:
    with app.app_context():
        make_campaign(slug="barometre-2026")
        db.session.commit()
    log_in(app, client, "manager")
    bad = {"margin": "3", "confidence": "0.95",
           "response_rate": "30", "allocation": "proportional", "min_per_stratum": "0",
           "recent_months": "12"}
    page = client.post("/manage/campaigns/barometre-2026/plan?lang=en", data=bad)
    assert page.status_code == 422 and "No customer is left in the frame" in page.text
    page = client.post("/manage/campaigns/barometre-2026/draw?lang=en", data={"seed": "-4"})
    assert page.status_code == 422 and 'id="seed-error"' in page.text
    # The refusals in the page's language (issue #15): French words, the count localised.
    french = client.post("/manage/campaigns/barometre-2026/plan?lang=fr", data=bad)
    assert french.status_code == 422
    assert ("Aucun client ne reste dans la base de sondage après les exclusions (0 exclus)"
            in french.text)
    assert "the frame is empty" not in french.text and "import customers" not in french.text
    drawn = client.post("/manage/campaigns/barometre-2026/draw?lang=fr", data={"seed": "5"})
    assert drawn.status_code == 422
    assert "La campagne n’a pas encore de plan : planifiez-la d’abord." in drawn.text
    assert "has no plan" not in drawn.text


def test_the_plan_form_speaks_points_offers_the_frame_columns_and_a_seed(app, client) -> None:
    """Issue #15: the margin in points, strata ticked among the frame's columns, a proposed
    seed recorded and shown, and errors in a summary that names and links each field."""
    import re

    with app.app_context():
        make_campaign(slug="barometre-2026", channels=["email"])
        for number in range(40):
            make_customer(external_id=f"K{number:02d}", email=f"k{number}@exemple.fr",
                          attributes={"segment": "pro" if number < 10 else "particulier",
                                      "canal": "web"})
        db.session.commit()
    log_in(app, client, "manager")
    url = "/manage/campaigns/barometre-2026/plan"
    page = client.get(url + "?lang=en").text
    assert 'value="3"' in page and "For ±3 points, enter 3." in page
    for column in ("segment", "canal", "language"):
        assert f'name="strata" type="checkbox" value="{column}"' in page
    # Wrong values: the summary at the top names each field and links to it.
    bad = client.post(url + "?lang=en", data={"strata": ["segment", "region"], "margin": "0,03x",
                                              "confidence": "0.95", "response_rate": "300",
                                              "allocation": "proportional",
                                              "min_per_stratum": "0", "recent_months": "12"})
    assert bad.status_code == 422
    start = bad.text.index('id="error-summary"')
    summary = bad.text[start:bad.text.index("</ul>", start)]
    assert bad.text.index('id="error-summary"') < bad.text.index('id="plan-form"')
    for field, label in (("strata", "Strata variables"),
                         ("margin", "Target margin of error, in percentage points"),
                         ("response_rate", "Expected response rate, in percent")):
        assert f'<a href="#{field}">{label}: ' in summary
        assert f'id="{field}-error"' in bad.text
    assert "Enter a number, e.g. 3 or 2.5." in summary and "from 0.1 to 50" not in summary
    assert "Enter a response rate from 1 to 100 percent." in summary
    # A decimal comma is read; ±2,5 points is stored as the fraction 0.025.
    saved = client.post(url, data={"strata": ["segment"], "margin": "12,5", "confidence": "0.95",
                                   "response_rate": "50", "allocation": "proportional",
                                   "min_per_stratum": "0", "recent_months": "12"})
    assert saved.status_code == 302
    with app.app_context():
        campaign = db.session.scalar(select(Campaign))
        assert campaign.plan["margin"] == 0.125 and campaign.plan["response_rate"] == 0.5
        assert campaign.plan["strata_variables"] == ["segment"]
    page = client.get(url + "?lang=fr").text
    assert 'value="12,5"' in page and 'value="50"' in page
    assert re.search(r'<input checked[^>]*value="segment"', page)
    assert "Graine" in page and "Pour ±3 points, saisissez 3." in page
    proposed = re.search(r'<input[^>]*id="seed"[^>]*>', page)
    assert proposed and re.search(r'value="\d+"', proposed.group()), "a seed is proposed"
    assert client.post("/manage/campaigns/barometre-2026/draw",
                       data={"seed": "987654"}).status_code == 302
    page = client.get(url + "?lang=en").text
    assert "Seed used" in page and ">987654<" in page


def test_the_pages_speak_french(app, client) -> None:
    log_in(app, client, "manager")
    page = client.get("/manage/customers?lang=fr")
    assert "Base clients" in page.text and "Importer le fichier clients" in page.text


def test_undeclared_columns_are_shown_masked_and_the_file_imported_once_declared(
    app, client
) -> None:
    """Issue #23: the web import says which columns are not declared, with the first values
    (masked), and stores only survey variables once the others are ignored."""
    from tests.frame.test_variables import PERSONAL_HEADER, personal_rows

    log_in(app, client, "manager")
    data = csv_bytes([PERSONAL_HEADER, *personal_rows(4)])
    page = upload(client, data)
    assert page.status_code == 200 and "These columns are not declared" in page.text
    assert "How the columns of this file are read" in page.text
    row = page.text.split('<th scope="row">adresse</th>')[1].split("</tr>")[0]
    assert "Not declared" in row and "rue des Lilas" not in row and "0***" in row
    assert "pro0@societe.fr" not in page.text and "client1@exemple.fr" not in page.text
    segment = page.text.split('<th scope="row">segment</th>')[1].split("</tr>")[0]
    assert "Survey variable" in segment and "pro, particulier" in segment
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    page = upload(client, data, ignore_others="y")
    assert "Customers imported: 4 created" in page.text
    with app.app_context():
        stored = {tuple(c.attributes) for c in db.session.scalars(select(Customer))}
    assert stored == {("segment",)}
