"""Client settings pages (issue #16, branding per client): who may open them, the logo's
re-encoding and caps, the colour's contrast, the addresses, and where the branding shows."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from survey.extensions import db
from survey.models import AuditEvent, Client, UserClient
from tests.trust.helpers import logged_in, make_user


def _png(size=(40, 20), colour=(200, 10, 10), fmt="PNG", **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt, **save)
    return out.getvalue()


def _token(page: bytes) -> str:
    return re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()


@pytest.fixture
def acme(app: Flask) -> int:
    with app.app_context():
        client = Client(slug="acme", name="Acme")
        db.session.add(client)
        db.session.commit()
        return client.id


@pytest.fixture
def admin(app: Flask):
    make_user(app, "admin@settings.example", "admin")
    browser = logged_in(app, "admin@settings.example")
    browser.get("/clients?lang=en")
    return browser


def _post(browser, client_id: int, **fields):
    page = browser.get(f"/clients/{client_id}")
    assert page.status_code == 200
    data = {"csrf_token": _token(page.data), **fields}
    return browser.post(f"/clients/{client_id}", data=data, content_type="multipart/form-data")


def test_an_admin_creates_a_client_and_sets_its_branding(app, admin):
    page = admin.get("/clients")
    assert page.status_code == 200 and b"default" in page.data
    response = admin.post("/clients", data={"csrf_token": _token(page.data), "slug": "acme",
                                            "name": "Acme Énergie"})
    assert response.status_code == 302
    with app.app_context():
        client_id = db.session.scalar(select(Client.id).where(Client.slug == "acme"))
    upload = _png()
    response = _post(admin, client_id, display_name="Acme", primary_colour="#1D6B2F",
                     sender_name="Acme", sender_email="Enquete@ACME.example",
                     reply_to="qualite@acme.example", privacy_notice="Acme garde vos données.",
                     dpo_contact="dpo@acme.example", retention_days="30",
                     logo=(io.BytesIO(upload), "logo.png"))
    assert response.status_code == 302, response.data
    with app.app_context():
        client = db.session.get(Client, client_id)
        assert (client.display_name, client.primary_colour, client.retention_days) == (
            "Acme", "#1d6b2f", 30)
        assert client.sender_email == "Enquete@acme.example"  # the domain normalised
        assert client.logo_mime == "image/png" and client.logo != upload  # re-encoded
        assert Image.open(io.BytesIO(client.logo)).size == (40, 20)
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(("client.create", "client.update")))).all()
        assert [e.action for e in events][-2:] == ["client.create", "client.update"]
        assert "retention_days" in events[-1].summary["changed"]
    page = admin.get(f"/clients/{client_id}")
    logo = re.search(rb'src="(/brand/\d+/[0-9a-f]{16}/logo)"', page.data).group(1).decode()
    served = admin.get(logo)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert "immutable" in served.headers["Cache-Control"]
    assert admin.get(logo[:-20] + "0" * 16 + "/logo").status_code == 404


@pytest.mark.parametrize("upload, message", [
    (b"GIF89a" + b"\0" * 100, "PNG or JPEG"),
    (_png(fmt="GIF"), "PNG or JPEG"),
    (_png(size=(3000, 3000)), "too large"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (600 * 1024), "too large"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "PNG or JPEG"),
])
def test_a_logo_that_is_not_a_small_png_or_jpeg_is_refused(app, admin, upload, message):
    response = _post(admin, 1, logo=(io.BytesIO(upload), "logo.png"))
    assert response.status_code == 400
    assert message.encode() in response.data and b"error-summary" in response.data
    with app.app_context():
        assert db.session.get(Client, 1).logo_mime is None


def test_a_jpeg_logo_is_kept_as_a_jpeg_without_its_metadata(app, admin):
    exif = Image.Exif()
    exif[0x010E] = "secret description"
    upload = _png(fmt="JPEG", exif=exif.tobytes())
    assert b"secret description" in upload
    assert _post(admin, 1, logo=(io.BytesIO(upload), "logo.jpg")).status_code == 302
    with app.app_context():
        client = db.session.get(Client, 1)
        assert client.logo_mime == "image/jpeg" and b"secret description" not in client.logo


@pytest.mark.parametrize("colour", ["#ffcc00", "#777777", "red", "#12345"])
def test_a_colour_white_text_is_unreadable_on_is_refused(app, admin, colour):
    response = _post(admin, 1, primary_colour=colour)
    assert response.status_code == 400 and b"error-summary" in response.data
    with app.app_context():
        assert db.session.get(Client, 1).primary_colour is None


def test_bad_addresses_are_refused_in_french(app, admin):
    admin.get("/clients/1?lang=fr")
    response = _post(admin, 1, sender_email="not an address", reply_to="a@b@c")
    assert response.status_code == 400
    assert response.data.count("Cette adresse e-mail n’est pas valide".encode()) >= 2


def test_a_manager_edits_only_their_clients_branding_and_not_its_retention(app, acme):
    manager_id = make_user(app, "m@settings.example", "manager")
    with app.app_context():
        db.session.add(UserClient(user_id=manager_id, client_id=acme))
        db.session.commit()
    manager = logged_in(app, "m@settings.example")
    assert manager.get("/clients").status_code == 302  # one client: straight to its page
    assert manager.get("/clients/1").status_code == 404  # another client: not disclosed
    assert manager.post("/clients", data={"slug": "x1", "name": "X"}).status_code == 403
    response = _post(manager, acme, display_name="Acme", retention_days="5")
    assert response.status_code == 302
    with app.app_context():
        client = db.session.get(Client, acme)
        assert client.display_name == "Acme" and client.retention_days is None


def test_an_unbranded_installation_looks_as_before_and_a_colour_themes_its_pages(app, admin):
    page = admin.get("/clients/1").data
    assert b"/brand/" not in page and b">barometre</a>" in page
    assert _post(admin, 1, primary_colour="#1d6b2f", display_name="Acme").status_code == 302
    page = admin.get("/clients/1").data
    assert b'href="/brand/1d6b2f.css"' in page and b"Acme</a>" in page
    css = admin.get("/brand/1d6b2f.css")
    assert css.status_code == 200 and b"--accent: #1d6b2f" in css.data
    assert admin.get("/brand/ffcc00.css").status_code == 404  # unreadable: never served


@pytest.mark.parametrize(("lang", "heading"), [
    ("en", "Look of the pages and messages, data retention"),
    ("fr", "Apparence des pages et des messages, conservation des données"),
])
def test_a_centre_working_for_itself_never_reads_the_word_client(app, admin, lang, heading):
    """With one client the page is the installation's look, not "Settings of Default"."""
    page = admin.get(f"/clients/1?lang={lang}").get_data(as_text=True)
    main = page[page.index("<main"):page.index("</main>")]
    assert re.search(r"<h1[^>]*>\s*" + re.escape(heading), main)
    assert "Default" not in main and not re.search(r"\bclients? (de )?ce client|this client", main)


def test_with_several_clients_the_page_names_the_client(app, admin, acme):
    page = admin.get(f"/clients/{acme}?lang=en").get_data(as_text=True)
    assert "Settings of Acme" in page and "this client's customers" in page
