"""axe-core (WCAG 2.1 A and AA rules) on every kind of respondent page, in headless Chromium.

Runs Debian's /usr/bin/chromium (`.ci/run` installs it when missing) and the axe-core that the
`axe-playwright-python` package ships; nothing is downloaded. Any violation fails the test.
"""

from __future__ import annotations

import os

import pytest

from tests.respond.helpers import PAGES, make_link, open_campaign

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
]



@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


# page.evaluate has no timeout of its own: axe-core's run is raced against this bound, so that
# a page that never lets axe finish fails the test instead of hanging it.
AXE_SECONDS = 60


def assert_accessible(page, what: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page.evaluate(Axe().axe_script)
    response = page.evaluate(
        """([options, seconds]) => Promise.race([
            axe.run(document, options),
            new Promise((_, reject) => setTimeout(
                () => reject(new Error(`axe-core took more than ${seconds} s`)), seconds * 1000)),
        ])""",
        [AXE_OPTIONS, AXE_SECONDS],
    )
    violations = response["violations"]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in violations
    )
    assert not violations, f"{what}: axe-core found violations\n{report}"


def fill(page, answers: dict[str, list[str]]) -> None:
    """Answer like a person: click each option's label, type into text fields."""
    for name, values in answers.items():
        for value in values:
            if page.locator(f'textarea[name="{name}"]').count():
                page.fill(f'textarea[name="{name}"]', value.replace("\r\n", "\n"))
            elif page.locator(f'[name="{name}"][value="{value}"]').count():
                page.check(f'[name="{name}"][value="{value}"]')
            else:  # the consent checkbox (value "y")
                page.check(f'[name="{name}"]')


@pytest.mark.parametrize("width", [1280, 320])
def test_every_respondent_page_has_no_axe_violation(app, server, browser, width):
    with app.app_context():
        campaign = open_campaign()
        _, link = make_link(campaign, language="fr")
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()

    page.goto(f"{server}{link}")
    assert_accessible(page, "first page")
    assert_no_horizontal_scroll(page, width)

    page.click("#submit")  # nothing answered: two required questions
    assert page.locator("#error-summary").is_visible()
    # The script is deferred: under load it may run a moment after the page is shown.
    page.wait_for_function("document.activeElement && document.activeElement.id === "
                           "'error-summary'", timeout=10_000)  # the script's focus
    assert_accessible(page, "page with errors")
    assert_no_horizontal_scroll(page, width)
    page.click('#error-summary a[href="#channels_used-0"]')
    assert page.evaluate("document.activeElement.id") == "channels_used-0"

    for index, answers in enumerate(PAGES):
        if index:
            assert_accessible(page, f"page {index}")
            assert_no_horizontal_scroll(page, width)
        if "callback" in answers:
            # The channel and consent appear once "yes" is chosen (the optional script).
            assert not page.locator("#callback_consent").is_visible()
            fill(page, {"callback": ["yes"]})
            assert page.locator("#callback_consent").is_visible()
            assert_accessible(page, "callback details shown")
        fill(page, answers)
        page.click("#submit")
    assert page.url.endswith("/thanks")
    assert_accessible(page, "thank-you page")
    context.close()


def test_message_pages_have_no_axe_violation(app, server, browser):
    with app.app_context():
        _, closed = make_link(open_campaign(status="closed", slug="closed-2025"))
        _, draft = make_link(open_campaign(status="draft", slug="draft-2027"))
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    for what, path, status in [
        ("closed survey", closed, 200),
        ("survey not open yet", draft, 200),
        ("unknown link", "/r/" + "Z" * 32, 404),
    ]:
        reply = page.goto(f"{server}{path}")
        assert reply.status == status
        assert_accessible(page, what)
    english = page.goto(f"{server}/r/{'Y' * 32}?lang=en")
    assert english.status == 404 and "This link does not work" in page.content()
    assert_accessible(page, "unknown link in English")
    context.close()


def test_keyboard_alone_answers_a_question(app, server, browser):
    with app.app_context():
        _, link = make_link(open_campaign())
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server}{link}")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.focus("#channels_used-0")
    page.keyboard.press("Space")
    assert page.is_checked("#channels_used-0")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    context.close()


def assert_no_horizontal_scroll(page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width}px wide in a {width}px viewport"


def test_the_harness_reports_violations(browser):
    """A page with an unlabelled field must fail: the checks above are not vacuous."""
    page = browser.new_page()
    page.set_content('<!doctype html><html lang="en"><title>t</title><main><input></main></html>')
    with pytest.raises(AssertionError, match="label"):
        assert_accessible(page, "bad page")
    page.close()
