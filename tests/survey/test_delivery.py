"""Delivery of pages to slow phones (issue #15): respondent pages and static files compressed,
managers' pages not (a session's CSRF token beside typed text), static addresses versioned by
content and cached for good."""

from __future__ import annotations

import gzip
import hashlib
import re

import brotli

from survey import PROJECT_ROOT
from tests.respond.helpers import make_link, open_campaign


def test_respondent_pages_and_static_files_are_compressed(app, client) -> None:
    with app.app_context():
        _, link = make_link(open_campaign())
    page = client.get(link, headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(page.data).decode()
    assert "<style>" in html and "Accept-Encoding" in page.headers["Vary"]
    plain = client.get(link)
    assert "Content-Encoding" not in plain.headers and plain.get_data(as_text=True) == html

    script = re.search(r'src="(/static/respond/respond\.js\?v=([0-9a-f]{12}))"', html)
    source = (PROJECT_ROOT / "survey/static/respond/respond.js").read_bytes()
    assert script and script.group(2) == hashlib.sha256(source).hexdigest()[:12]
    # Files are sent as streams, which Flask-Compress compresses with Brotli (every browser
    # that sends `br`), not gzip.
    cached = client.get(script.group(1), headers={"Accept-Encoding": "gzip, deflate, br"})
    assert cached.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert cached.headers["Content-Encoding"] == "br"
    assert brotli.decompress(cached.data) == source
    # An address without the file's version (or with an old one) is asked again each time.
    stale = client.get("/static/respond/respond.js?v=000000000000")
    assert "immutable" not in stale.headers.get("Cache-Control", "")


def test_manager_pages_are_not_compressed(client) -> None:
    login = client.get("/login", headers={"Accept-Encoding": "gzip, br"})
    assert login.status_code == 200 and "Content-Encoding" not in login.headers
