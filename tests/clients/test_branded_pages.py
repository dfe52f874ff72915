"""The respondent's pages wear the invitation's client's branding (issue #16): its logo from
the database, its colour, its privacy notice and data-protection contact; another client's
respondent, on the same server and with the same questionnaire, sees none of it (the cached
page skeletons are per client). An unbranded single client looks as before."""

from __future__ import annotations

import io
import re

from PIL import Image

from survey.clients.operations import reencode_logo
from survey.clients.scope import client_scope
from survey.extensions import db
from survey.models import Client
from tests.respond.helpers import answer_all, make_link, open_campaign


def _logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 10), (29, 107, 47)).save(out, format="PNG")
    return reencode_logo(out.getvalue()).data


def _links(app):
    with app.app_context():
        acme = Client(slug="acme", name="Acme", display_name="Acme Énergie",
                      primary_colour="#1d6b2f", logo=_logo(), logo_mime="image/png",
                      privacy_notice="Acme Énergie traite vos réponses pour un an.",
                      dpo_contact="dpo@acme.example")
        db.session.add(acme)
        db.session.commit()
        with client_scope(1):
            _invitation, plain = make_link(open_campaign(slug="plain-2026"), language="fr")
        with client_scope(acme.id):
            campaign = open_campaign(slug="acme-2026")
            _invitation, branded = make_link(campaign, language="fr")
            _invitation, branded_too = make_link(campaign, language="fr")
        return plain, branded, branded_too


def test_a_respondent_sees_their_invitations_client_and_no_other(app):
    plain, branded, branded_too = _links(app)
    browser = app.test_client()
    first = browser.get(plain).get_data(as_text=True)  # fills the skeleton cache first
    html = browser.get(branded).get_data(as_text=True)
    assert '<link rel="stylesheet" href="/brand/1d6b2f.css">' in html
    assert "Acme Énergie traite vos réponses pour un an." in html
    assert "Contact pour la protection des données : dpo@acme.example" in html
    logo = re.search(r'<img src="(/brand/\d+/[0-9a-f]{16}/logo)" alt="Acme Énergie">', html)
    assert logo is not None
    served = browser.get(logo.group(1))
    assert served.status_code == 200 and served.data == _logo()
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for text in (first, browser.get(plain).get_data(as_text=True)):
        assert "/brand/" not in text and "Acme" not in text and "dpo@acme" not in text
    # The thank-you page is cached too: per client.
    answer_all(browser, branded_too)
    answer_all(browser, plain)
    thanks = browser.get(branded_too + "/thanks").get_data(as_text=True)
    assert "/brand/1d6b2f.css" in thanks and "Acme Énergie traite" in thanks
    assert "Acme" not in browser.get(plain + "/thanks").get_data(as_text=True)
