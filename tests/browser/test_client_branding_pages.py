"""The client settings page and a branded respondent page in a real browser (issue #16): at
320, 390 and 1,280 px nothing is wider than the window and axe-core finds no violation, with
the error summary shown, a logo and a client colour. Screenshots go to test-output/design/."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from survey.clients.operations import reencode_logo
from survey.extensions import db
from survey.models import Client
from tests.browser.test_design_pages import (
    SHOTS,
    demo,  # noqa: F401 - the demo's fixture
    overflow,
    signed_in_page,
)
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


def _logo() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (240, 60), (255, 255, 255))
    image.paste((29, 107, 47), (0, 0, 60, 60))
    image.save(out, format="PNG")
    return reencode_logo(out.getvalue()).data


@pytest.fixture
def branded(app, demo):  # noqa: F811
    with app.app_context():
        client = db.session.get(Client, 1)
        client.display_name, client.primary_colour = "Acme Énergie", "#1d6b2f"
        client.logo, client.logo_mime = _logo(), "image/png"
        client.privacy_notice = ("Acme Énergie traite vos réponses pour mesurer la qualité de "
                                 "son service ; elles sont conservées un an.")
        client.dpo_contact = "dpo@acme-energie.example"
        db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    with serving(app) as base:
        yield base


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_settings_and_a_branded_respondent_page_fit_and_pass_axe(app, demo, branded, browser,  # noqa: F811
                                                                 width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = signed_in_page(browser, branded, width, demo["password"])
    context = page.context
    page.goto(f"{branded}/clients/1?lang=fr")
    page.fill("#primary_colour", "#ffcc00")
    page.fill("#sender_email", "pas une adresse")
    page.click("button[type=submit].button")
    page.wait_for_load_state("load")
    assert page.locator("#error-summary").count() == 1
    assert "Un texte blanc sur cette couleur" in page.inner_text("#error-summary")
    page.screenshot(path=str(SHOTS / f"{width}-client-settings-errors.png"), full_page=True)
    assert overflow(page) <= 0 and page.locator("h1").count() == 1
    assert_accessible(page, f"client settings with errors ({width} px)")
    for name, path in (("client-settings", "/clients/1?lang=fr"),
                       ("clients", "/clients?lang=en")):
        page.goto(f"{branded}{path}")
        page.wait_for_load_state("load")
        page.screenshot(path=str(SHOTS / f"{width}-{name}-branded.png"), full_page=True)
        assert overflow(page) <= 0
        assert_accessible(page, f"{name} ({width} px)")
    respondent = context.new_page()
    respondent.goto(f"{branded}{demo['test_link']}")
    respondent.wait_for_load_state("load")
    assert respondent.locator("img[alt='Acme Énergie']").evaluate("i => i.naturalWidth") == 240
    button = respondent.locator("button[type=submit]").first
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(29, 107, 47)"
    respondent.screenshot(path=str(SHOTS / f"{width}-respondent-branded.png"), full_page=True)
    assert overflow(respondent) <= 0
    assert_accessible(respondent, f"branded respondent page ({width} px)")
    context.close()
