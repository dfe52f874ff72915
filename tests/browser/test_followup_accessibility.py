"""axe-core (WCAG 2.1 A and AA) on the follow-up pages — the queue, one follow-up, its figures
and the service levels — in both languages, at a desktop and a phone width; no page scrolls
sideways as a whole (the queue's table scrolls in its own region)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from survey.auth.operations import create_user
from survey.extensions import db
from survey.followups import operations as ops
from survey.models import FollowUp, utcnow
from tests.browser.test_respond_accessibility import (
    CHROMIUM,
    assert_accessible,
    browser,  # noqa: F401 - the module's Chromium, shared
)
from tests.respond.helpers import open_campaign

pytestmark = [pytest.mark.browser]

EMAIL = "manager@loop.example"
PASSWORD = "a-long-password-for-the-manager"
SHOTS = os.environ.get("BAROMETRE_SCREENSHOTS")  # a folder: keep screenshots to look at


def follow_up_pages(app) -> dict[str, str]:
    from survey.reporting.synthetic import seed_synthetic_responses

    with app.app_context():
        session = db.session
        manager = create_user(session, EMAIL, "manager", PASSWORD, actor="test")
        campaign = open_campaign()
        seed_synthetic_responses(session, campaign, rng_seed=11, n_respondents=200)
        session.commit()
        items = session.scalars(select(FollowUp).order_by(FollowUp.id)).all()
        active = [i for i in items if i.status != "closed"]
        closed = next(i for i in items if i.status == "closed")
        callback = next(i for i in active if i.kind == "callback")
        ops.assign(session, active[0], manager.id, actor="test")
        ops.add_note(session, callback, "Messagerie ; rappeler demain matin.",
                     contact_attempt=True, actor="test")
        active[1].due_at = utcnow() - timedelta(days=2)
        session.commit()
        return {
            "queue": "/manage/follow-ups",
            "queue-overdue": "/manage/follow-ups?overdue=1&sort=-score",
            "queue-closed": "/manage/follow-ups?state=closed",
            "callback": f"/manage/follow-ups/{callback.id}",
            "closed": f"/manage/follow-ups/{closed.id}",
            "figures": "/manage/follow-ups/figures",
            "service-levels": "/manage/follow-ups/service-levels",
            "home": "/",
        }


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed")
@pytest.mark.parametrize("width", [1280, 390, 320])
def test_follow_up_pages_have_no_axe_violation(app, server, browser, width):  # noqa: F811
    pages = follow_up_pages(app)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    for name, path in pages.items():
        for lang in ("en", "fr"):
            separator = "&" if "?" in path else "?"
            page.goto(f"{server}{path}{separator}lang={lang}")
            assert page.locator("h1").count() == 1, name
            assert_accessible(page, f"{name} ({lang}, {width} px)")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} ({lang}, {width} px) scrolls sideways by {overflow}"
            if SHOTS:
                page.screenshot(path=f"{SHOTS}/{name}-{lang}-{width}.png", full_page=True)
    context.close()
