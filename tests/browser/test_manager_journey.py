"""A centre manager's whole year in the browser, from the home page, without the command line.

Headless Chromium drives a real server: sign in, create the campaign (and preview the
questionnaire in both languages), import the customer file, plan with the expected precision,
draw, preview the messages, launch, let the sender deliver, answer as three customers through
their links, follow fieldwork and the follow-ups, close, generate the report and export the data.
Each step is photographed into `test-output/journey/` and checked with axe-core (WCAG 2.1 AA);
any violation fails the test.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from survey import PROJECT_ROOT
from survey.auth.operations import create_user
from survey.extensions import db
from survey.frame.synthetic import synthetic_customer_csv
from tests.browser.test_respond_accessibility import (
    CHROMIUM,
    assert_accessible,
    browser,  # noqa: F401 - the module's Chromium, shared
    fill,
)
from tests.respond.helpers import PAGES

pytestmark = [pytest.mark.browser]

SHOTS = PROJECT_ROOT / "test-output" / "journey"
EMAIL = "manager@centre.example"
PASSWORD = "a-long-password-for-the-manager"
SLUG = "barometre-2026"


@pytest.fixture
def server(app) -> Iterator[str]:
    # The real protection a browser meets: CSRF tokens in every form.
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():
        create_user(db.session, EMAIL, "manager", PASSWORD, actor="test")
        db.session.commit()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join()


class Journey:
    """Numbered screenshots and an axe-core check of each page the manager sees."""

    def __init__(self, page) -> None:
        self.page = page
        self.step = 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob("*.png"):
            old.unlink()

    def check(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(SHOTS / f"{self.step:02d}-{name}.png"), full_page=True)
        assert_accessible(self.page, name)

    def follow(self, link_text: str) -> None:
        self.page.get_by_role("link", name=link_text, exact=True).first.click()


def outbox_links(instance: Path) -> list[str]:
    links = []
    for message in sorted((instance / "outbox").glob("*-email.eml")):
        found = re.search(r"/r/[A-Za-z0-9_\-]+", message.read_text(encoding="utf-8",
                                                                     errors="replace"))
        if found:
            links.append(found.group(0))
    return links


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")
def test_a_manager_runs_the_whole_campaign_from_the_browser(app, server, browser, tmp_path):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    journey = Journey(page)

    # Home, then sign in.
    page.goto(f"{server}/?lang=en")
    journey.check("home")
    journey.follow("Log in")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    journey.check("login")
    page.click("button[type=submit]")
    journey.check("home-signed-in")

    # A campaign of a programme, its questionnaire chosen from the library and previewed.
    journey.follow("Manage campaigns")
    page.fill("#slug", SLUG)
    page.fill("#programme", "Baromètre satisfaction Service Client")
    page.select_option("#questionnaire", "nf-relation-client")
    journey.check("campaigns")
    # The questionnaire's pages in both languages, before choosing it.
    journey.follow("Preview nf-relation-client")
    assert "/manage/questionnaires/nf-relation-client" in page.url
    journey.check("questionnaire-preview")
    page.go_back()
    page.fill("#slug", SLUG)
    page.fill("#programme", "Baromètre satisfaction Service Client")
    page.get_by_role("button", name="Create the campaign").click()
    assert page.url.endswith(f"/manage/campaigns/{SLUG}")
    journey.check("campaign-created")

    # The customer base.
    customers = tmp_path / "clients.csv"
    customers.write_bytes(synthetic_customer_csv(800))
    journey.follow("Import or update the customer base")
    page.set_input_files("#file", str(customers))
    journey.check("customers")
    page.get_by_role("button", name="Import").click()
    assert "800" in page.content()
    journey.check("customers-imported")

    # Plan, then draw.
    page.goto(f"{server}/manage/campaigns/{SLUG}")
    journey.follow("Plan the sample")
    page.fill("#strata", "segment")
    page.fill("#margin", "0.1")
    page.fill("#response_rate", "0.5")
    page.get_by_role("button", name="Compute and save the plan").click()
    assert "Expected precision" in page.content()
    journey.check("plan")
    page.fill("#seed", "2026")
    page.get_by_role("button", name="Draw").click()
    assert "Sample drawn" in page.content()
    journey.check("drawn")

    # Preview the messages, then launch.
    page.goto(f"{server}/manage/campaigns/{SLUG}")
    journey.follow("Launch")
    journey.check("messages")
    page.get_by_role("button", name="Launch the campaign").click()
    journey.check("launched")

    # The sender delivers (to the outbox), three customers answer through their links.
    from survey.distribution.worker import Sender, SenderSettings

    with app.app_context():
        stats = Sender(app, worker_id="journey", settings=SenderSettings(idle_sleep=0,
                                                                         sms_window=False)
                       ).run(once=True)
    assert stats.sent > 0
    links = outbox_links(Path(app.instance_path))
    assert len(links) == stats.sent
    customer = context.new_page()
    for link in links[:3]:
        customer.goto(f"{server}{link}")
        for answers in PAGES:
            fill(customer, answers)
            customer.click("#submit")
        assert customer.url.endswith("/thanks")
    customer.close()

    # Fieldwork and follow-ups.
    page.goto(f"{server}/manage/campaigns/{SLUG}")
    journey.check("campaign-open")
    journey.follow("Follow fieldwork")
    journey.check("fieldwork")
    page.goto(f"{server}/manage/campaigns/{SLUG}/follow-ups")
    journey.check("follow-ups")
    # Each of the three asked to be called back: the manager takes the first one.
    page.locator("table a").first.click()
    journey.check("follow-up")
    page.select_option("#status", "in_progress")
    page.fill("#notes", "Rappel prévu demain matin.")
    page.get_by_role("button", name="Save").click()
    journey.check("follow-up-saved")

    # The same pages in French.
    page.goto(f"{server}/manage/campaigns/{SLUG}?lang=fr")
    assert "Étape suivante" in page.content() or "Prochaine étape" in page.content()
    journey.check("campaign-fr")
    page.goto(f"{server}/manage/campaigns/{SLUG}/status?lang=en")

    # Close, report, export.
    page.get_by_role("button", name="Close fieldwork").click()
    journey.check("closed")
    page.goto(f"{server}/manage/campaigns/{SLUG}")
    journey.follow("Report")
    journey.check("reports")
    page.get_by_role("button", name="Generate the report").click()
    journey.check("report-generated")
    page.get_by_role("link", name="Read", exact=True).first.click()
    page.wait_for_load_state("load")  # the report carries its charts' library: 4 MB
    assert page.locator("h1").count() == 1
    journey.check("report")
    page.go_back()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    assert saved.read_text(encoding="utf-8-sig").count("\n") >= 4  # header and 3 respondents
    context.close()
