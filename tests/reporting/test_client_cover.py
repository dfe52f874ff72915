"""The report's cover names the client whose customers were surveyed and shows its logo
(issue #16), embedded so that the report file stands alone; an unbranded single client's
report has no such cover line, as before clients."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image

from survey.clients.operations import reencode_logo
from survey.extensions import db
from survey.models import Client
from survey.reporting.operations import generate_report
from tests.reporting.test_reporting import _campaign, campaigns  # noqa: F401 - the fixture


def _logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 10), (11, 79, 156)).save(out, format="PNG")
    return reencode_logo(out.getvalue()).data


def test_the_cover_shows_the_clients_name_and_logo(app, campaigns):  # noqa: F811
    with app.app_context():
        plain = generate_report(db.session, _campaign(campaigns[2026]), lang="fr",
                                instance_path=app.instance_path, actor="test").html
        assert 'class="client-logo"' not in plain and 'class="client-name"' not in plain
        client = db.session.get(Client, _campaign(campaigns[2026]).client_id)
        client.display_name, client.logo, client.logo_mime = "Acme Énergie", _logo(), "image/png"
        db.session.commit()
        html = generate_report(db.session, _campaign(campaigns[2026]), lang="fr",
                               instance_path=app.instance_path, actor="test").html
    assert '<p class="client-name">Acme Énergie</p>' in html
    src = re.search(r'<img class="client-logo" src="data:image/png;base64,([^"]+)"', html)
    assert src is not None and Image.open(io.BytesIO(base64.b64decode(src.group(1)))).size \
        == (30, 10)
