"""A centre manager's whole year in the browser, on the demo, from the home page, without the
command line.

The demo (`seed_demo`, with a smaller customer base) holds last year's closed campaign and this
year's open one. Headless Chromium drives a real server: the demo's account signs in, sees the
demo's campaigns, creates next year's wave of the same programme (and previews the questionnaire
in both languages), imports this year's export of the customer base, plans with the expected
precision, draws, previews the messages, launches, lets the sender deliver, answers as three
customers through their links, follows fieldwork and the follow-ups, closes, generates the
report (with the demo's earlier years as its trend) and exports the data.
Each step is photographed into `test-output/journey/` and checked with axe-core (WCAG 2.1 AA);
any violation fails the test. Every wait is bounded (Playwright's timeouts, below, and
`AXE_SECONDS` for axe-core), so that a stuck browser fails the test instead of hanging it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from survey import PROJECT_ROOT
from survey.demo import DEMO_ADMIN, DEMO_PROGRAMME, DEMO_SEED, seed_demo
from survey.extensions import db
from survey.frame.synthetic import synthetic_customer_csv
from survey.models import Campaign, Message
from tests.browser.test_respond_accessibility import (
    CHROMIUM,
    assert_accessible,
    browser,  # noqa: F401 - the module's Chromium, shared
    fill,
)
from tests.conftest import serving
from tests.respond.helpers import PAGES

pytestmark = [pytest.mark.browser]

SHOTS = PROJECT_ROOT / "test-output" / "journey"
DEMO_CUSTOMERS = 1200  # the demo's 6,000 would only make the test slower
NEW_CUSTOMERS = 200  # this year's export of the base: the demo's customers, updated, and these
ACTION_MS = 30_000  # clicks, fills, waits for an element
NAVIGATION_MS = 60_000  # page loads (the report carries its charts' library: 4 MB)
JOB_MS = 120_000  # an import or a report, when they run in the background


@pytest.fixture
def demo(app) -> dict[str, object]:
    """The demo seeded into the test database: its admin's password and its campaigns' year."""
    with app.app_context():
        lines = seed_demo(customers=DEMO_CUSTOMERS)
        years = sorted(db.session.scalars(select(Campaign.year)))
    password = next(line.rsplit(": ", 1)[1] for line in lines if "password" in line)
    return {"password": password, "year": years[-1]}


@pytest.fixture
def server(app, demo) -> Iterator[str]:
    # The real protection a browser meets: CSRF tokens in every form.
    app.config["WTF_CSRF_ENABLED"] = True
    with serving(app) as base:
        yield base


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


def outbox_links(instance: Path, message_ids: list[int]) -> list[str]:
    """The personal links of these email messages, as the outbox wrote them (one file each)."""
    links = []
    for message_id in message_ids:
        message = instance / "outbox" / f"{message_id:08d}-email.eml"
        found = re.search(r"/r/[A-Za-z0-9_\-]+", message.read_text(encoding="utf-8",
                                                                     errors="replace"))
        if found:
            links.append(found.group(0))
    return links


def wait_for_text(page, pattern: str) -> None:
    """Wait, at most JOB_MS, for text that an import or a report shows when done: on the same
    page, or on a background job's page that reloads itself until the work has ended."""
    page.get_by_text(re.compile(pattern)).first.wait_for(timeout=JOB_MS)
    page.wait_for_load_state("load", timeout=NAVIGATION_MS)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")
def test_a_manager_runs_the_whole_year_on_the_demo(app, demo, server, browser, tmp_path):  # noqa: F811
    year = demo["year"] + 1  # next year's wave, after the demo's two
    slug = f"barometre-{year}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(ACTION_MS)
    context.set_default_navigation_timeout(NAVIGATION_MS)
    page = context.new_page()
    journey = Journey(page)

    # Home, then sign in with the demo's account.
    page.goto(f"{server}/?lang=en")
    journey.check("home")
    journey.follow("Log in")
    page.fill("#email", DEMO_ADMIN)
    page.fill("#password", demo["password"])
    journey.check("login")
    page.click("button[type=submit]")
    # The demo's campaigns: last year's closed one (with its report), this year's open one.
    # The home is a dashboard: a card per campaign, titled by its programme and year.
    for demo_year in (year - 2, year - 1):
        name = f"{DEMO_PROGRAMME} {demo_year}"
        assert page.get_by_role("link", name=name, exact=True).count() == 1
    journey.check("home-signed-in")
    journey.follow(f"{DEMO_PROGRAMME} {year - 1}")
    journey.check("demo-campaign-open")
    page.goto(f"{server}/")

    # Next year's campaign of the same programme, its questionnaire previewed.
    journey.follow("Campaigns")
    page.fill("#slug", slug)
    page.fill("#programme", DEMO_PROGRAMME)
    page.fill("#year", str(year))
    page.select_option("#questionnaire", "nf-relation-client")
    journey.check("campaigns")
    # The questionnaire's pages in both languages, before choosing it.
    journey.follow("Preview nf-relation-client")
    assert "/manage/questionnaires/nf-relation-client" in page.url
    journey.check("questionnaire-preview")
    page.go_back()
    page.fill("#slug", slug)
    page.fill("#programme", DEMO_PROGRAMME)
    page.fill("#year", str(year))
    page.check('input[name="channels"][value="sms"]')
    page.get_by_role("button", name="Create the campaign").click()
    assert page.url.endswith(f"/manage/campaigns/{slug}")
    journey.check("campaign-created")

    # This year's export of the customer base: the demo's customers, updated, and new ones.
    customers = tmp_path / "clients.csv"
    customers.write_bytes(synthetic_customer_csv(DEMO_CUSTOMERS + NEW_CUSTOMERS,
                                                 seed=DEMO_SEED + 1))
    journey.follow("Import or update the customer base")
    assert str(DEMO_CUSTOMERS) in page.content().replace(",", "").replace("\u202f", "")
    page.set_input_files("#file", str(customers))
    journey.check("customers")
    page.get_by_role("button", name="Import").click()
    wait_for_text(page, rf"Customers imported: {NEW_CUSTOMERS} created, \d+ updated")
    journey.check("customers-imported")

    # Plan, then draw.
    page.goto(f"{server}/manage/campaigns/{slug}")
    journey.follow("Plan the sample")
    page.check('input[name="strata"][value="segment"]')
    page.fill("#margin", "10")
    page.fill("#response_rate", "50")
    page.get_by_role("button", name="Compute and save the plan").click()
    assert "Expected precision" in page.content()
    journey.check("plan")
    assert page.input_value("#seed").isdigit()  # a seed is proposed
    page.fill("#seed", "2026")
    page.get_by_role("button", name="Draw").click()
    assert "Sample drawn" in page.content()
    journey.check("drawn")

    # Preview the messages, then launch.
    page.goto(f"{server}/manage/campaigns/{slug}")
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
        # The demo's own campaign may get reminders in the same run: only this one's links.
        invited = list(db.session.scalars(
            select(Message.id).join(Campaign, Message.campaign_id == Campaign.id)
            .where(Campaign.slug == slug, Message.channel == "email", Message.sequence == 0,
                   Message.sent_at.is_not(None)).order_by(Message.id)))
    assert stats.sent >= len(invited) > 3
    links = outbox_links(Path(app.instance_path), invited)
    assert len(links) == len(invited)
    customer = context.new_page()
    for link in links[:3]:
        customer.goto(f"{server}{link}")
        for answers in PAGES:
            fill(customer, answers)
            customer.click("#submit")
        # The thank-you page loaded before going on: Chromium can drop a close that races a
        # navigation's commit, and `page.close()`, which has no timeout, then waits forever
        # (crbug.com/536385539, microsoft/playwright#42068). This hung the test after "launched".
        customer.wait_for_url(re.compile(r"/thanks$"), wait_until="load")
    customer.close()

    # Fieldwork and follow-ups.
    page.goto(f"{server}/manage/campaigns/{slug}")
    journey.check("campaign-open")
    journey.follow("Follow fieldwork")
    journey.check("fieldwork")
    page.goto(f"{server}/manage/campaigns/{slug}/follow-ups")
    journey.check("follow-ups")
    # Each of the three asked to be called back: the manager takes the first one.
    page.locator("table a").first.click()
    journey.check("follow-up")
    page.fill("#body", "Rappel prévu demain matin.")
    page.check("#contact_attempt")  # a note that records a contact attempt starts the handling
    page.get_by_role("button", name="Add the note").click()
    page.wait_for_load_state("load")
    assert "Rappel prévu demain matin." in page.content()
    journey.check("follow-up-saved")

    # The same pages in French.
    page.goto(f"{server}/manage/campaigns/{slug}?lang=fr")
    assert "Étape suivante" in page.content() or "Prochaine étape" in page.content()
    journey.check("campaign-fr")
    page.goto(f"{server}/manage/campaigns/{slug}/status?lang=en")

    # Close, report, export.
    page.get_by_role("button", name="Close fieldwork").click()
    journey.check("closed")
    page.goto(f"{server}/manage/campaigns/{slug}")
    journey.follow("Report")
    journey.check("reports")
    page.get_by_role("button", name="Generate the report").click()
    wait_for_text(page, r"Report \d+ generated")
    journey.check("report-generated")
    page.goto(f"{server}/manage/campaigns/{slug}/reports")
    page.get_by_role("link", name="Read", exact=True).first.click()
    page.wait_for_load_state("load")  # the report carries its charts' library: 4 MB
    assert page.locator("h1").count() == 1
    journey.check("report")
    page.go_back()
    with page.expect_download(timeout=NAVIGATION_MS) as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    assert saved.read_text(encoding="utf-8-sig").count("\n") >= 4  # header and 3 respondents
    context.close()
