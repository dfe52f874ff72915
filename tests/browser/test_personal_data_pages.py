"""axe-core on the pages of issue #23: the import's column preview, the password pages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from survey.auth.operations import create_password_reset, create_user
from survey.extensions import db
from survey.models import User
from tests.browser.test_respond_accessibility import (
    CHROMIUM,
    assert_accessible,
    browser,  # noqa: F401 - the module's Chromium, shared
)
from tests.frame.conftest import csv_bytes
from tests.frame.test_variables import PERSONAL_HEADER, personal_rows

pytestmark = [pytest.mark.browser]

EMAIL = "manager@pd.example"
PASSWORD = "a-long-password-for-the-manager"
SHOTS = os.environ.get("BAROMETRE_SCREENSHOTS")  # a folder to keep screenshots in, if set


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed")
@pytest.mark.parametrize("width", [1280, 320])
def test_the_pages_of_personal_data_have_no_axe_violation(app, server, browser, width,  # noqa: F811
                                                          tmp_path):
    with app.app_context():
        user = create_user(db.session, EMAIL, "manager", PASSWORD, actor="test")
        token = create_password_reset(db.session, db.session.get(User, user.id), actor="test")
        db.session.commit()
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{server}/reset/{token}?lang=en")
    assert page.locator("h1").inner_text() == "Choose a new password"
    assert_accessible(page, f"reset page ({width} px)")
    _shot(page, f"reset-{width}")
    page.goto(f"{server}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    for lang in ("en", "fr"):
        page.goto(f"{server}/account/password?lang={lang}")
        assert_accessible(page, f"password page ({lang}, {width} px)")
        _shot(page, f"password-{lang}-{width}")
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes([PERSONAL_HEADER, *personal_rows(3)]))
    for lang in ("en", "fr"):
        page.goto(f"{server}/manage/customers?lang={lang}")
        page.set_input_files("#file", str(path))
        page.locator("form.stacked button[type=submit]").click()
        page.wait_for_load_state("load")
        assert page.locator("#preview-title").count() == 1
        assert_accessible(page, f"import preview ({lang}, {width} px)")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        _shot(page, f"preview-{lang}-{width}")
    context.close()
