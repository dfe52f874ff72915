"""Every page of the demo in a real browser, at a phone's and a desktop's width: nothing wider
than the window, no axe-core violation, no internal code or English on a French page, and the
respondent's pages laid out for the thumb and light.

Headless Chromium (one browser for the module, shared with the other browser tests) visits the
demo (`seed_demo`, smaller base). Screenshots of every page at 320, 390 and 1,280 px go to
`test-output/design/`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from survey import PROJECT_ROOT
from survey.demo import DEMO_ADMIN, seed_demo
from survey.extensions import db
from survey.models import Campaign, FollowUp, ImprovementAction, Report
from tests.browser.test_respond_accessibility import (
    CHROMIUM,
    assert_accessible,
    browser,  # noqa: F401 - the module's Chromium, shared
)
from tests.conftest import serving
from tests.editor.test_problems import broken_definition

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed"),
]

SHOTS = PROJECT_ROOT / "test-output" / "design"
WIDTHS = (320, 390, 1280)
ACCESSIBILITY_WIDTHS = (320, 1280)  # axe-core's rules do not depend on the width in between
ACTION_WIDTHS = (390, 1280)  # the improvement plan's pages, in both languages (issue #24)
ACTION_MS = 30_000
NAVIGATION_MS = 60_000
DEMO_CUSTOMERS = 800
RESPONDENT_PAGE_BYTES = 30 * 1024  # HTML, CSS and script of one respondent page

# Words that are English and not French: one of them on a French page is an untranslated text.
ENGLISH_ONLY = {
    "the", "and", "with", "from", "this", "that", "which", "is", "are", "was", "of", "to", "by",
    "yes", "no", "not", "none", "open", "draft", "sampled", "closed", "archived", "pending",
    "sent", "delivered", "bounced", "failed", "opted", "partial", "complete", "status", "state",
    "invalid", "true", "false", "queued", "running", "succeeded", "callback", "detractor",
    "step", "created", "report", "reports", "users", "campaigns", "dashboard", "customers",
}
# An internal code (`opted_out`, `in_progress`) or a Python value (`['email']`, `{'a': 1}`).
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\[['\"]|\{['\"]|\bNone\b|\bTrue\b|\bFalse\b")


@pytest.fixture
def demo(app) -> dict[str, object]:
    with app.app_context():
        lines = seed_demo(customers=DEMO_CUSTOMERS)
        slugs = list(db.session.scalars(select(Campaign.slug).order_by(Campaign.year)))
        follow_up = db.session.scalar(select(FollowUp.id).order_by(FollowUp.id).limit(1))
        report = db.session.scalar(select(Report).order_by(Report.id.desc()).limit(1))
        report_slug = report and db.session.get(Campaign, report.campaign_id).slug
        report_path = (f"/manage/campaigns/{report_slug}/reports/{report.id}"
                       if report else None)
        action = db.session.scalar(select(ImprovementAction.id).order_by(ImprovementAction.id)
                                   .limit(1))
    password = next(line.rsplit(": ", 1)[1] for line in lines if "password" in line)
    link = next(line.rsplit(": ", 1)[1] for line in lines if "test link" in line)
    return {"password": password, "slugs": slugs, "follow_up": follow_up,
            "test_link": "/r/" + link.rsplit("/r/", 1)[1], "report": report_path,
            "action": action}


@pytest.fixture
def server(app, demo):
    app.config["WTF_CSRF_ENABLED"] = True
    with serving(app) as base:
        yield base


def manager_pages(demo) -> dict[str, str]:
    old, current = demo["slugs"][0], demo["slugs"][-1]
    pages = {
        "home": "/",
        "campaigns": "/manage/campaigns",
        "campaign-open": f"/manage/campaigns/{current}",
        "campaign-closed": f"/manage/campaigns/{old}",
        "plan": f"/manage/campaigns/{current}/plan",
        "fieldwork": f"/manage/campaigns/{current}/status",
        "messages": f"/manage/campaigns/{current}/messages",
        "customers": "/manage/customers",
        "reports": f"/manage/campaigns/{old}/reports",
        "fieldwork-dashboard": f"/manage/campaigns/{current}/dashboard",
        "audit": "/audit",
        "users": "/admin/users",
        "clients": "/clients",
        "client-settings": "/clients/1",
        "questionnaire": "/manage/questionnaires/nf-relation-client",
        "not-found": "/manage/no-such-page",
        "follow-ups": "/manage/follow-ups",
        "follow-up": f"/manage/follow-ups/{demo['follow_up']}",
        "follow-up-figures": "/manage/follow-ups/figures",
        "service-levels": "/manage/follow-ups/service-levels",
        **action_pages(demo),
    }
    return pages


def action_pages(demo) -> dict[str, str]:
    """The improvement plan's pages: checked besides in English, and with axe-core at 390 px."""
    old = demo["slugs"][0]
    return {
        "actions": "/manage/actions",
        "action": f"/manage/actions/{demo['action']}",
        "action-edit": f"/manage/actions/{demo['action']}/edit",
        "action-new": f"/manage/actions/new?campaign={old}&item=phone_wait",
        "campaign-improvement": f"/manage/campaigns/{old}/improvement",
    }


def with_lang(path: str, lang: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


def more_pages(app, demo) -> dict[str, str]:
    """The questionnaire editor (on a draft of the bundled questionnaire), weighting, a job,
    the programme's criteria and publication, and the stored report: pages the French check
    reads besides `manager_pages`."""
    from questionnaires.loader import definition_data, get_bundled
    from survey.editor import operations as editor
    from survey.jobs.operations import queue_job
    from survey.models import JobKind, Programme

    old = demo["slugs"][0]
    with app.app_context():
        editor.create_draft(db.session, "brouillon",
                            data=definition_data(get_bundled("nf-relation-client")),
                            actor="test", source="test")
        # One error of each kind the schema reports, shown in French (issue #17).
        editor.create_draft(db.session, "casse", data=broken_definition(), actor="test",
                            source="test")
        campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.slug == old))
        job = queue_job(db.session, JobKind.REPORT, actor="test", user_id=None,
                        campaign_id=campaign_id, parameters={"lang": "fr"})
        programme = db.session.scalar(select(Programme.id).order_by(Programme.id).limit(1))
        db.session.commit()
        job_id = job.id
    draft = "/manage/questionnaires/drafts/brouillon"
    return {
        "questionnaires": "/manage/questionnaires",
        "draft": draft,
        "draft-question": f"{draft}/pages/0/questions/0",
        "draft-preview": f"{draft}/preview",
        "draft-delete": f"{draft}/delete",
        "draft-errors": "/manage/questionnaires/drafts/casse",
        "draft-errors-scale": "/manage/questionnaires/drafts/casse/pages/1/questions/0",
        "draft-errors-condition": "/manage/questionnaires/drafts/casse/pages/1/questions/2",
        "draft-errors-code": "/manage/questionnaires/drafts/casse/pages/2/questions/0",
        "draft-errors-type": "/manage/questionnaires/drafts/casse/pages/3/questions/2",
        "campaign-questionnaire": f"/manage/campaigns/{demo['slugs'][-1]}/questionnaire",
        "weighting": f"/manage/campaigns/{old}/weighting",
        "job": f"/manage/jobs/{job_id}",
        "programmes": "/manage/programmes",
        "criteria": f"/manage/programmes/{programme}/criteria",
        "publication": f"/manage/programmes/{programme}/publication",
        "report": demo["report"],
    }


def log_in(page, server: str, password: str, email: str = DEMO_ADMIN) -> None:
    page.goto(f"{server}/login?lang=fr")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("form.stacked button[type=submit]").click()
    page.wait_for_load_state("load")


def signed_in_page(browser, server: str, width: int, password: str,  # noqa: F811
                   email: str = DEMO_ADMIN):
    """A new window `width` px wide, with the suite's timeouts, signed in as `email`; its
    `page.context` is closed by the caller."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(ACTION_MS)
    context.set_default_navigation_timeout(NAVIGATION_MS)
    page = context.new_page()
    log_in(page, server, password, email=email)
    return page


def overflow(page) -> int:
    """How many pixels the document is wider than the window."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def visible_text(page) -> str:
    """The page's text a person reads, less what is code on purpose (hashes, headers) and what
    is marked as another language (the language switch)."""
    return page.evaluate("""() => {
        const clone = document.body.cloneNode(true);
        clone.querySelectorAll('code, pre, script, [lang]:not([lang="fr"]), .visually-hidden')
             .forEach(e => e.remove());
        return clone.innerText;
    }""")


def french_problems(text: str) -> list[str]:
    problems = [f"code {m.group(0)!r}" for m in CODE.finditer(text)]
    # Addresses, file names and slugs are names, not words.
    tokens = (token.strip(".,;:!?()«»\"'") for token in text.split())
    words = {token for token in tokens if token.isalpha() and token.isascii()}
    problems += [f"English {word!r}" for word in sorted(words) if word.lower() in ENGLISH_ONLY]
    return problems


def test_every_manager_page_fits_every_width_and_passes_axe(app, demo, server, browser):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = manager_pages(demo)
    for width in WIDTHS:
        page = signed_in_page(browser, server, width, demo["password"])
        context = page.context
        for name, path in pages.items():
            page.goto(f"{server}{with_lang(path, 'fr')}")
            page.wait_for_load_state("load")
            page.screenshot(path=str(SHOTS / f"{width}-{name}.png"), full_page=True)
            assert page.locator("h1").count() == 1, f"{name}: one h1"
            assert overflow(page) <= 0, f"{name} at {width} px is wider than the window"
            if width in ACCESSIBILITY_WIDTHS:
                assert_accessible(page, f"{name} ({width} px)")
        if width in ACTION_WIDTHS:
            for name, path in action_pages(demo).items():
                # French at 1,280 px was checked with the other pages.
                for lang in ("en",) if width in ACCESSIBILITY_WIDTHS else ("fr", "en"):
                    page.goto(f"{server}{with_lang(path, lang)}")
                    page.wait_for_load_state("load")
                    if lang == "en":
                        page.screenshot(path=str(SHOTS / f"{width}-{name}-en.png"),
                                        full_page=True)
                    assert overflow(page) <= 0, f"{name} ({lang}) at {width} px is too wide"
                    assert_accessible(page, f"{name} ({lang}, {width} px)")
        context.close()


def english_report(app, demo) -> str:
    """The demo's closed campaign's report in English (the demo makes the French one)."""
    from survey.reporting.operations import generate_report

    with app.app_context():
        slug = demo["report"].split("/")[3]
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
        generated = generate_report(db.session, campaign, lang="en",
                                    instance_path=app.instance_path, actor="test")
        db.session.commit()
        return f"/manage/campaigns/{campaign.slug}/reports/{generated.report.id}"


def test_the_report_fits_every_width_in_both_languages(app, demo, server, browser):  # noqa: F811
    """Charts fit the window and tables scroll inside a frame a keyboard can reach, at 320,
    390 and 1,280 px, in French and English (issue #15)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    reports = {"fr": demo["report"], "en": english_report(app, demo)}
    for width in WIDTHS:
        page = signed_in_page(browser, server, width, demo["password"])
        context = page.context
        for lang, path in reports.items():
            page.goto(f"{server}{path}")
            page.wait_for_function("""() => document.querySelectorAll('.plotly-graph-div').length
                && [...document.querySelectorAll('.plotly-graph-div')]
                   .every(d => d.querySelector('.main-svg'))""")
            page.screenshot(path=str(SHOTS / f"{width}-report-{lang}.png"), full_page=True)
            assert overflow(page) <= 0, f"the {lang} report at {width} px is wider than the window"
            wide = page.evaluate("""() => [...document.querySelectorAll('.main-svg, table, img')]
                .filter(e => !e.closest('.table-scroll, .scroll'))
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .map(e => e.tagName + (e.id ? '#' + e.id : ''))""")
            assert not wide, f"the {lang} report at {width} px: {wide} wider than the window"
            # A table wider than its frame scrolls there, and the frame takes the keyboard.
            unreachable = page.evaluate("""() => [...document.querySelectorAll('table')]
                .map(t => t.parentElement)
                .filter(f => f.scrollWidth > f.clientWidth + 1)
                .filter(f => f.getAttribute('tabindex') !== '0'
                             || getComputedStyle(f).overflowX === 'visible')
                .map(f => f.firstElementChild.id || f.className)""")
            assert not unreachable, f"{lang} at {width} px: {unreachable} cannot be scrolled"
        context.close()


def test_french_pages_show_no_internal_code_and_no_english(app, demo, server, browser):  # noqa: F811
    page = signed_in_page(browser, server, 1280, demo["password"])
    context = page.context
    found = {}
    for name, path in {**manager_pages(demo), **more_pages(app, demo)}.items():
        page.goto(f"{server}{with_lang(path, 'fr')}")
        page.wait_for_load_state("load")
        problems = french_problems(visible_text(page))
        if problems:
            found[name] = problems
    context.close()
    assert not found, "French pages showing codes or English:\n" + "\n".join(
        f"  {name}: {', '.join(sorted(set(problems))[:15])}" for name, problems in found.items()
    )


def viewer_pages(demo) -> dict[str, str]:
    """What a client's viewer opens (issue #16): their pages differ from a manager's (fewer
    places in the menu, no exports or packs on the reports page)."""
    old, current = demo["slugs"][0], demo["slugs"][-1]
    return {
        "viewer-home": "/",
        "viewer-campaigns": "/manage/campaigns",
        "viewer-campaign": f"/manage/campaigns/{current}",
        "viewer-fieldwork": f"/manage/campaigns/{current}/status",
        "viewer-reports": f"/manage/campaigns/{old}/reports",
        "viewer-dashboard": f"/manage/campaigns/{current}/dashboard",
        "viewer-follow-up-figures": "/manage/follow-ups/figures",
        "viewer-password": "/account/password",
    }


def test_a_client_viewers_pages_fit_pass_axe_and_read_french(app, demo, server, browser):  # noqa: F811
    from survey.auth.operations import create_user

    password = "a long enough password"
    with app.app_context():
        create_user(db.session, "qualite@client.example", "client_viewer", password,
                    actor="test")
        db.session.commit()
    SHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    for width in ACCESSIBILITY_WIDTHS:
        page = signed_in_page(browser, server, width, password, email="qualite@client.example")
        context = page.context
        for name, path in viewer_pages(demo).items():
            response = page.goto(f"{server}{with_lang(path, 'fr')}")
            page.wait_for_load_state("load")
            assert response.status == 200, f"{name}: {response.status}"
            page.screenshot(path=str(SHOTS / f"{width}-{name}.png"), full_page=True)
            assert page.locator("h1").count() == 1, f"{name}: one h1"
            assert overflow(page) <= 0, f"{name} at {width} px is wider than the window"
            assert_accessible(page, f"{name} ({width} px)")
            problems = french_problems(visible_text(page))
            if problems:
                found[name] = problems
        context.close()
    assert not found, "French pages showing codes or English:\n" + "\n".join(
        f"  {name}: {', '.join(sorted(set(problems))[:15])}" for name, problems in found.items()
    )


def test_pages_with_errors_fit_and_pass_axe(app, demo, server, browser):  # noqa: F811
    """The editor on a draft with one error of each kind (issue #17) and the weighting page
    with a refused choice (issue #15), in French at 390 and 1,280 px."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = {name: path for name, path in more_pages(app, demo).items()
             if name.startswith("draft-errors")}
    current = demo["slugs"][-1]  # drawn: its margins were counted, the form is shown
    pages["weighting-refused"] = (f"/manage/campaigns/{current}/weighting?method=poststratify"
                                  "&variables=segment&variables=nothing")
    for width in ACTION_WIDTHS:
        page = signed_in_page(browser, server, width, demo["password"])
        context = page.context
        for name, path in pages.items():
            page.goto(f"{server}{with_lang(path, 'fr')}")
            page.wait_for_load_state("load")
            page.screenshot(path=str(SHOTS / f"{width}-{name}.png"), full_page=True)
            assert page.locator(".error-summary").count() == 1, f"{name}: an error summary"
            for target in page.eval_on_selector_all(".error-summary a", "as => as.map(a => "
                                                    "a.getAttribute('href'))"):
                if target.startswith("#"):
                    assert page.locator(target).count() == 1, f"{name}: {target} is on the page"
            assert overflow(page) <= 0, f"{name} at {width} px is wider than the window"
            assert not french_problems(visible_text(page)), name
            assert_accessible(page, f"{name} ({width} px)")
        context.close()


def test_the_checker_finds_codes_and_english() -> None:
    assert french_problems("État : open ; canaux ['email'] ; opted_out")
    assert french_problems("Created le 6000")
    assert not french_problems("Terrain ouvert ; canaux E-mail, SMS ; 5 971 clients désinscrits")


@pytest.mark.parametrize("width", [320, 390])
def test_respondent_pages_are_laid_out_for_the_thumb_and_light(app, demo, server, browser, width):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 800}, has_touch=True)
    context.set_default_timeout(ACTION_MS)
    page = context.new_page()
    transferred: dict[str, int] = {}

    def count(response) -> None:
        try:
            transferred[response.url] = len(response.body())
        except Exception:  # noqa: BLE001 - a redirect has no body
            transferred[response.url] = 0

    page.on("response", count)
    page.goto(f"{server}{demo['test_link']}?lang=fr")
    seen_scales = {"numeric": 0, "labelled": 0}
    for step in range(1, 10):
        page.wait_for_load_state("load")
        page.screenshot(path=str(SHOTS / f"respondent-{width}-{step}.png"), full_page=True)
        assert overflow(page) <= 0, f"page {step} at {width} px is wider than the window"
        assert sum(transferred.values()) <= RESPONDENT_PAGE_BYTES, (
            f"page {step}: {sum(transferred.values())} bytes transferred")
        transferred.clear()
        small = page.evaluate("""() => [...document.querySelectorAll(
                '.option label, .actions .button, .actions a, .privacy summary')]
            .map(e => e.getBoundingClientRect())
            .filter(r => r.width > 0 && (r.height < 44 || r.width < 44)).length""")
        assert small == 0, f"page {step}: {small} tap targets smaller than 44 px"
        for scale in page.locator("fieldset.numeric").all():
            seen_scales["numeric"] += 1
            cells = scale.locator(".point label").evaluate_all(
                "labels => labels.map(l => { const r = l.getBoundingClientRect();"
                " return [Math.round(r.width), Math.round(r.top)]; })")
            widths = {w for w, _top in cells}
            rows = sorted({top for _w, top in cells})
            assert max(widths) - min(widths) <= 1, f"unequal cells: {widths}"
            assert len(rows) <= 2, f"a numeric scale on {len(rows)} rows"
            per_row = [sum(1 for _w, top in cells if top == row) for row in rows]
            assert min(per_row) >= 2, f"a lonely point on a row: {per_row}"
            na = scale.locator(".option.na label")
            if na.count():
                na_top = na.evaluate("l => l.getBoundingClientRect().top")
                assert na_top > max(rows) + 40, "'Not applicable' is not set apart"
        seen_scales["labelled"] += page.locator("fieldset.labelled").count()
        if page.locator("#submit").count() == 0:
            break
        for name in page.evaluate("""() => [...new Set([...document.querySelectorAll(
                '.survey-form input[type=radio], .survey-form input[type=checkbox]')]
                .map(i => i.name))]"""):
            if not page.locator(f'input[name="{name}"]:checked').count():
                page.locator(f'input[name="{name}"]').first.check(force=True)
        page.click("#submit")
    assert seen_scales["numeric"] and seen_scales["labelled"]
    assert "/thanks" in page.url
    context.close()
