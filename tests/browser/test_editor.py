"""The questionnaire editor in headless Chromium, with the CSRF protection a browser meets.

A manager builds a questionnaire from the template (adds a question with a condition built by
the helper, translates it, reorders it, previews it playing the condition), freezes it, creates
a campaign with it on the campaigns page and launches it from the command line (customer base
imported, sample planned and drawn, campaign launched, invitations sent), and a customer
answers it through the link of the invitation the sender delivered. Every editor page is then
checked with axe-core (WCAG 2.1 AA) and for horizontal overflow at 390 and 1,280 px.
Screenshots go to `test-output/editor/`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from survey import PROJECT_ROOT
from survey.auth.operations import create_user
from survey.extensions import db
from survey.frame.synthetic import synthetic_customer_csv
from survey.models import Campaign, CampaignStatus, Message, Response
from tests.browser.test_design_pages import french_problems, visible_text
from tests.browser.test_manager_journey import outbox_links
from tests.browser.test_respond_accessibility import (
    CHROMIUM,
    assert_accessible,
    assert_no_horizontal_scroll,
    browser,  # noqa: F401 - the module's Chromium, shared
    fill,
)
from tests.conftest import serving
from tests.respond.helpers import PAGES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed"),
]

SHOTS = PROJECT_ROOT / "test-output" / "editor"
EMAIL, PASSWORD = "manager@editor.example", "a long enough password"
ACTION_MS, NAVIGATION_MS = 30_000, 60_000
CUSTOMERS = 300


@pytest.fixture
def server(app) -> Iterator[str]:
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():
        create_user(db.session, EMAIL, "manager", PASSWORD, actor="test")
        db.session.commit()
    with serving(app) as base:
        yield base


def signed_in(browser, server, width):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    context.set_default_timeout(ACTION_MS)
    context.set_default_navigation_timeout(NAVIGATION_MS)
    page = context.new_page()
    page.goto(f"{server}/login?lang=en")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    return context, page


def shot(page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    assert_accessible(page, f"{name} at {width} px")
    assert_no_horizontal_scroll(page, width)


def test_a_manager_builds_a_questionnaire_that_a_customer_answers(app, server, browser,  # noqa: F811
                                                                  runner, tmp_path):
    context, page = signed_in(browser, server, 1280)
    page.goto(f"{server}/manage/questionnaires")
    page.select_option("#new-source", "template:nf-relation-client")
    page.fill("#new-key", "centre-2026")
    page.get_by_role("button", name="Create the draft").click()
    assert page.url.endswith("/manage/questionnaires/drafts/centre-2026")

    # A yes/no question at the end of page 3, written in French first.
    page.select_option("#add-type-2", "yes_no")
    page.get_by_role("button", name="Add (page 3)").click()
    assert page.url.endswith("/pages/2/questions/7")
    page.fill("#code", "visited")
    page.fill("#label-fr", "Êtes-vous venu dans une agence ?")
    page.get_by_role("button", name="Save the question").click()
    # The English text is missing: said beside its field and in the summary.
    assert page.locator("#label-error-1").is_visible()
    assert "The text is missing in English." in page.locator("#errors").inner_text()
    # Translated, and shown only to customers who made a complaint (the helper writes it).
    page.fill("#label-en", "Did you visit one of our branches?")
    page.select_option("#condition_question", "complaint")
    page.select_option("#condition_operator", "==")
    page.fill("#condition_value", "yes")
    page.get_by_role("button", name="Use this condition").click()
    assert page.input_value("#show_if") == "complaint == true"
    assert page.get_by_text("This question has no error.").is_visible()

    # Reordered with the keyboard: the button is reached and pressed without a mouse.
    page.get_by_role("link", name="Back to the questionnaire").click()
    move_up = page.get_by_role("button", name="Move up visited")
    move_up.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    codes = page.locator("#page-2 .question-summary > a > code").all_inner_texts()
    assert codes[-2:] == ["visited", "complaint_handling"]
    assert page.get_by_text("The questionnaire is valid").is_visible()

    # The preview plays the condition: complaint answered "yes" shows the new question.
    page.goto(f"{server}/manage/questionnaires/drafts/centre-2026/preview/en/0")
    fill(page, PAGES[0])
    page.click("#submit")
    fill(page, PAGES[1])
    page.click("#submit")
    assert page.locator('[name="visited"]').count() == 2

    # Frozen, then chosen for a campaign.
    page.goto(f"{server}/manage/questionnaires/drafts/centre-2026")
    page.get_by_role("button", name="Freeze a version").click()
    assert page.url.endswith("/manage/questionnaires/versions/centre-2026")
    page.goto(f"{server}/manage/campaigns")
    page.fill("#slug", "centre-2026")
    page.fill("#programme", "Baromètre")
    page.fill("#year", "2026")
    page.select_option("#questionnaire", "centre-2026@1")
    page.get_by_role("button", name="Create the campaign").click()
    assert page.url.endswith("/manage/campaigns/centre-2026")
    context.close()

    # Launched as a manager launches any campaign, here from the command line: the customer
    # base imported, the sample planned and drawn, the campaign launched, the invitations sent.
    customers = tmp_path / "clients.csv"
    customers.write_bytes(synthetic_customer_csv(CUSTOMERS, seed=2026))
    for command in (
        ["customers", "import", str(customers)],
        ["campaigns", "plan", "centre-2026", "--strata", "segment", "--margin", "0.15",
         "--response-rate", "0.5"],
        ["campaigns", "draw", "centre-2026", "--seed", "2026"],
        ["campaigns", "launch", "centre-2026"],
        ["send", "--once"],
    ):
        result = runner.invoke(command)
        assert result.exit_code == 0, f"{' '.join(command)}: {result.output}"
    with app.app_context():
        campaign = db.session.scalars(select(Campaign).filter_by(slug="centre-2026")).one()
        assert campaign.status == CampaignStatus.OPEN.value
        assert campaign.questionnaire_version.key == "centre-2026"
        invited = list(db.session.scalars(
            select(Message.id).where(Message.channel == "email", Message.sequence == 0,
                                     Message.sent_at.is_not(None)).order_by(Message.id)))
    links = outbox_links(Path(app.instance_path), invited)
    assert links, "no invitation reached the outbox"

    # A customer answers through the personal link the invitation carried.
    customer = browser.new_page()
    customer.goto(f"{server}{links[0]}")
    answers = [dict(answers) for answers in PAGES]
    answers[2]["visited"] = ["yes"]
    for page_answers in answers:
        fill(customer, page_answers)
        customer.click("#submit")
    customer.wait_for_url("**/thanks")
    customer.close()
    with app.app_context():
        response = db.session.scalars(select(Response)).one()
        assert response.answers["visited"] is True


@pytest.mark.parametrize("width", [390, 1280])
def test_every_editor_page_passes_axe_and_fits(app, server, browser, width):  # noqa: F811
    context, page = signed_in(browser, server, width)
    base = f"{server}/manage/questionnaires"
    page.goto(base)
    page.select_option("#new-source", "template:nf-relation-client")
    page.fill("#new-key", "centre")
    page.get_by_role("button", name="Create the draft").click()
    # One question with errors, so that the error summary and field errors are drawn.
    page.select_option("#add-type-0", "rating")
    page.get_by_role("button", name="Add (page 1)").click()
    page.get_by_role("button", name="Save the question").click()
    shot(page, "question-errors", width)
    page.goto(f"{base}/drafts/centre")
    shot(page, "draft-with-errors", width)
    page.get_by_role("button", name="Delete rating", exact=True).click()
    assert page.get_by_text("The questionnaire is valid").is_visible()
    shot(page, "draft", width)
    page.goto(f"{base}/drafts/centre/pages/0/questions/0")
    shot(page, "question-choices", width)
    page.goto(f"{base}/drafts/centre/preview")
    shot(page, "preview", width)
    page.goto(f"{base}/drafts/centre/preview/fr/0")
    shot(page, "preview-page", width)
    page.goto(f"{base}/drafts/centre/delete")
    shot(page, "delete", width)
    page.goto(f"{base}/drafts/centre")
    page.get_by_role("button", name="Freeze a version").click()
    page.goto(f"{base}/drafts/centre/pages/3/questions/0")
    page.fill("#label-en", "All in all, are you satisfied?")
    page.get_by_role("button", name="Save the question").click()
    page.goto(f"{base}/drafts/centre")
    page.get_by_role("button", name="Freeze a version").click()
    page.goto(f"{base}/versions/centre?from=1&to=2")
    shot(page, "versions-diff", width)
    page.goto(base)
    shot(page, "index", width)
    with app.app_context():
        from survey.campaigns.operations import create_campaign

        create_campaign(db.session, "b-2025", programme="B", year=2025,
                        questionnaire_key="centre@1", actor="test")
        create_campaign(db.session, "b-2026", programme="B", year=2026,
                        questionnaire_key="centre@2", actor="test")
        db.session.commit()
    page.goto(f"{server}/manage/campaigns/b-2026/questionnaire")
    assert "overall" in page.content()
    shot(page, "campaign-questionnaire", width)
    context.close()


def test_every_editor_page_reads_in_french_without_english_or_codes(app, server, browser):  # noqa: F811
    """The editor's own words in French. The questionnaire's item codes are the editor's
    subject (stable codes keep trends comparable): they are set aside, and any other code, or
    an English word, is a page left untranslated. The check is the French walk of the
    manager's pages (`tests/browser/test_design_pages.py`)."""
    from questionnaires import get_bundled

    item_codes = sorted((question.code for page in get_bundled("nf-relation-client").pages
                         for question in page.questions), key=len, reverse=True)
    context, page = signed_in(browser, server, 1280)
    base = f"{server}/manage/questionnaires"
    page.goto(f"{base}?lang=fr")
    page.select_option("#new-source", "template:nf-relation-client")
    page.fill("#new-key", "centre")
    page.locator("form:has(#new-key) button[type=submit]").click()
    pages = {
        "index": base, "draft": f"{base}/drafts/centre",
        "question": f"{base}/drafts/centre/pages/0/questions/0",
        "question-rating": f"{base}/drafts/centre/pages/1/questions/0",
        "preview": f"{base}/drafts/centre/preview",
        "preview-page": f"{base}/drafts/centre/preview/fr/0",
        "delete": f"{base}/drafts/centre/delete",
    }
    found = {}
    for name, path in pages.items():
        answer = page.goto(f"{path}?lang=fr")
        page.wait_for_load_state("load")
        assert answer is not None and answer.status == 200, name
        assert page.locator("html").get_attribute("lang") == "fr", name
        assert page.locator("h1").count() == 1, name
        text = visible_text(page)
        for code in item_codes:
            text = text.replace(code, " ")
        problems = french_problems(text)
        if problems:
            found[name] = problems
    context.close()
    assert not found, "French editor pages showing codes or English:\n" + "\n".join(
        f"  {name}: {', '.join(sorted(set(problems))[:15])}" for name, problems in found.items())
