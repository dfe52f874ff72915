"""The published results and the performance criteria pages in a real browser: nothing wider
than the window at 320, 390 and 1,280 px, no axe-core violation at 390 and 1,280 px, in French
and English, and no internal code or English word on the French public page. Screenshots go to
`test-output/publication/`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from survey import PROJECT_ROOT
from survey.demo import DEMO_ADMIN, DEMO_PROGRAMME, seed_demo
from survey.extensions import db
from survey.models import Programme
from tests.browser.test_design_pages import french_problems, overflow, visible_text
from tests.browser.test_respond_accessibility import (
    CHROMIUM,
    assert_accessible,
    browser,  # noqa: F401 - the module's Chromium, shared
)
from tests.conftest import serving

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed"),
]

SHOTS = PROJECT_ROOT / "test-output" / "publication"
WIDTHS = (320, 390, 1280)
AXE_WIDTHS = (390, 1280)


@pytest.fixture
def demo(app) -> dict[str, object]:
    with app.app_context():
        lines = seed_demo(customers=800)
        programme_id = db.session.scalar(select(Programme.id).where(
            Programme.name == DEMO_PROGRAMME))
    password = next(line.rsplit(": ", 1)[1] for line in lines if "password" in line)
    return {"password": password, "programme_id": programme_id}


def test_public_and_criteria_pages_fit_and_pass_axe(app, demo, browser):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    app.config["WTF_CSRF_ENABLED"] = True
    programme = demo["programme_id"]
    public = {"public": "/p/service-client"}
    managed = {"criteria": f"/manage/programmes/{programme}/criteria",
               "publication": f"/manage/programmes/{programme}/publication",
               "programmes": "/manage/programmes",
               "method": f"/manage/programmes/{programme}/method"}
    with serving(app) as server:
        for width in WIDTHS:
            context = browser.new_context(viewport={"width": width, "height": 900})
            context.set_default_timeout(30_000)
            page = context.new_page()
            for lang in ("fr", "en"):
                for name, path in public.items():
                    page.goto(f"{server}{path}?lang={lang}")
                    page.wait_for_load_state("load")
                    page.screenshot(path=str(SHOTS / f"{width}-{name}-{lang}.png"),
                                    full_page=True)
                    assert page.locator("h1").count() == 1
                    assert overflow(page) <= 0, f"{name} ({lang}) at {width} px overflows"
                    if width in AXE_WIDTHS:
                        assert_accessible(page, f"{name} ({lang}, {width} px)")
                    if lang == "fr" and width == 1280:
                        problems = french_problems(visible_text(page))
                        assert not problems, problems
            page.goto(f"{server}/login?lang=fr")
            page.fill("#email", DEMO_ADMIN)
            page.fill("#password", demo["password"])
            page.locator("form.stacked button[type=submit]").click()
            page.wait_for_load_state("load")
            for name, path in managed.items():
                page.goto(f"{server}{path}?lang=fr")
                page.wait_for_load_state("load")
                page.screenshot(path=str(SHOTS / f"{width}-{name}.png"), full_page=True)
                assert overflow(page) <= 0, f"{name} at {width} px overflows"
                if width in AXE_WIDTHS:
                    assert_accessible(page, f"{name} ({width} px)")
            # The survey method's form (issue #24) in English too.
            page.goto(f"{server}{managed['method']}?lang=en")
            page.wait_for_load_state("load")
            page.screenshot(path=str(SHOTS / f"{width}-method-en.png"), full_page=True)
            assert overflow(page) <= 0, f"method (en) at {width} px overflows"
            if width in AXE_WIDTHS:
                assert_accessible(page, f"method (en, {width} px)")
            context.close()
