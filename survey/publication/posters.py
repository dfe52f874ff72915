"""The poster (A4, A3) and the badge of published results.

The poster is an HTML page of its own printed to PDF by headless Chromium, as the report is
(`survey.reporting.operations.html_to_pdf`); a PDF is kept in the instance folder under the hash
of its HTML, so that a poster is printed once per change of its numbers, not once per request.
The badge is a small SVG (the headline figure and the year) that a website can embed.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from survey.files import private_folder, write_private
from survey.formatting import percent
from survey.reporting.operations import html_to_pdf

POSTER_SIZES = ("a4", "a3")


def poster_pdf(html: str, instance_path: str | Path) -> bytes:
    """The PDF of a rendered poster, from the instance folder's cache or printed now."""
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()
    folder = private_folder(Path(instance_path) / "posters")
    cached = folder / f"{digest}.pdf"
    if cached.is_file():
        return cached.read_bytes()
    with tempfile.TemporaryDirectory(prefix="barometre-poster-") as work:
        source = Path(work) / "poster.html"
        source.write_text(html, encoding="utf-8")
        pdf = html_to_pdf(source, Path(work) / "poster.pdf")
        content = pdf.read_bytes()
    write_private(cached, content)
    return content


def _text_width(text: str, size: float = 11) -> float:
    """An estimate of the text's width in DejaVu Sans / Verdana at `size` px: badges have no
    font metrics at hand, and a little slack keeps the text inside its box."""
    return sum(size * (0.35 if ch in " ,.:;|!il" else 0.62) for ch in text) + 2


def badge_svg(results: dict[str, Any], lang: str) -> bytes:
    """A shields-style badge: "Clients satisfaits 2025 | 78,7 %" with the whole-sample estimate
    of the headline satisfied share (the first headline indicator)."""
    year = results["campaign"]["year"]
    headline = results["headline"][0] if results.get("headline") else None
    label = ("Clients satisfaits" if lang == "fr" else "Satisfied customers") + f" {year}"
    if headline is None:
        figure = "–"
    elif headline["kind"] == "proportion":
        figure = percent(headline["estimate"], 1, locale=lang)
    else:
        figure = f"{headline['estimate']:.1f}"
    left, right = _text_width(label) + 12, _text_width(figure) + 12
    width = left + right
    title = f"{label}: {figure}"
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="20" \
role="img" aria-label="{escape(title, {'"': '&quot;'})}">
<title>{escape(title)}</title>
<rect width="{left:.0f}" height="20" fill="#3b4656"/>
<rect x="{left:.0f}" width="{right:.0f}" height="20" fill="#1d6b3a"/>
<g fill="#ffffff" font-family="DejaVu Sans,Verdana,Geneva,sans-serif" font-size="11">
<text x="6" y="14">{escape(label)}</text>
<text x="{left + 6:.0f}" y="14">{escape(figure)}</text>
</g>
</svg>
"""
    return svg.encode("utf-8")
