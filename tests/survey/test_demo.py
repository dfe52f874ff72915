import re

from survey.demo import DEMO_ADMIN, seed_demo
from survey.extensions import db
from survey.models import Campaign, Programme, User


def test_the_demo_seeds_an_admin_whose_printed_password_logs_in(app, client) -> None:
    with app.app_context():
        lines = seed_demo(customers=800)
    password = re.search(r"password \(shown once\): (\S+)", "\n".join(lines)).group(1)
    response = client.post("/login", data={"email": DEMO_ADMIN, "password": password})
    assert response.status_code == 302
    assert DEMO_ADMIN in client.get("/").text


def test_the_demo_is_idempotent_and_renews_the_password(app) -> None:
    with app.app_context():
        first = seed_demo(customers=800)
        second = seed_demo(customers=800)
        assert db.session.query(User).count() == 1
        assert db.session.query(Programme).count() == 1
        assert db.session.query(Campaign).count() >= 1
    assert first[2] != second[2]


def test_demo_command_without_serving(runner) -> None:
    result = runner.invoke(["demo", "--no-serve", "--customers", "800"])
    assert result.exit_code == 0, result.output
    assert "password (shown once)" in result.output


def test_the_demo_runs_a_whole_year_through_the_real_services(app, client) -> None:
    from survey.models import Invitation, Message, Report, Response

    with app.app_context():
        lines = seed_demo(customers=800)
        assert db.session.query(Campaign).filter_by(status="closed").count() == 1
        this_year = db.session.query(Campaign).filter_by(status="open").one()
        assert db.session.query(Invitation).filter_by(campaign_id=this_year.id).count() > 50
        assert db.session.query(Message).filter(Message.state != "queued").count() > 0
        assert db.session.query(Response).filter_by(status="complete").count() > 50
        assert db.session.query(Report).count() == 2
        # This year's wave is raked on two variables of the customer file, margins from the draw.
        from survey.reporting.dataset import build_dataset

        assert this_year.plan["calibration"]["variables"] == ["segment", "canal"]
        design = build_dataset(db.session, this_year).design
        assert design["calibration"]["margins"]["canal"] == this_year.frame_margins["canal"]
        # This year's questionnaire was written in the editor with one item reworded: its trend
        # is flagged against last year's, and the report says so.
        assert this_year.questionnaire_version.key == "service-client"
        assert this_year.trend_check["breaks"] == [
            {"code": "next_steps", "reason": "changed", "fields": ["label"]}]
    password = re.search(r"password \(shown once\): (\S+)", "\n".join(lines)).group(1)
    client.post("/login", data={"email": DEMO_ADMIN, "password": password})
    home = client.get("/")
    report_link = re.search(r'href="(/manage/campaigns/[^"]+/reports/latest)"', home.text)
    assert report_link, "the report opens from the home page"
    report = client.get(report_link.group(1), follow_redirects=True)
    assert report.status_code == 200 and "plotly" in report.text.lower()
    assert 'id="trend-breaks"' in report.text and "next_steps" in report.text
    test_link = re.search(r"test link \(not counted in the statistics\): \S+(/r/\S+)",
                          "\n".join(lines)).group(1)
    assert client.get(test_link, follow_redirects=True).status_code == 200


def test_every_campaign_page_of_the_demo_opens(app, client) -> None:
    """Both demo campaigns (one planned for real, one with last year's simulated plan) on every
    page a campaign has: a page that fails on either is a page a manager cannot use."""
    with app.app_context():
        lines = seed_demo(customers=800)
        slugs = [c.slug for c in db.session.query(Campaign)]
    password = re.search(r"password \(shown once\): (\S+)", "\n".join(lines)).group(1)
    client.post("/login", data={"email": DEMO_ADMIN, "password": password})
    pages = [rule for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and set(rule.arguments) == {"slug"}]
    assert len(pages) >= 6
    for slug in slugs:
        for rule in pages:
            path = rule.rule.replace("<slug>", slug)
            response = client.get(path)
            assert response.status_code in (200, 302), f"{path}: {response.status_code}"
