"""The poster (A4, A3) and the badge of published results.

The poster is an HTML page of its own printed to PDF by headless Chromium, as the report is
(`survey.reporting.operations.html_to_pdf`), by a worker (a `poster` job, registered in
`survey.publication.tasks`): printing outlasts a request, and a web process runs no job. The PDF
is stored as the job's output under the hash of its HTML, so that a poster is printed once per
change of its numbers, not once per request. Publishing queues the posters of both sizes and
languages; a request for one not printed yet queues it and is asked to come back.
The badge is a small SVG (the headline figure and the year) that a website can embed.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy.orm import Session

from survey.formatting import percent
from survey.jobs.operations import active_jobs, queue_job
from survey.jobs.outputs import find_output, output_bytes, store_output
from survey.models import Job, JobKind
from survey.reporting.operations import html_to_pdf
from survey.worker.registry import JobContext

POSTER_SIZES = ("a4", "a3")


#: Poster jobs waiting or running at once, at most: a visitor's request may queue one, and
#: different hosts or languages must not fill the queue.
POSTER_JOBS_MAX = 8


def poster_output_name(html: str) -> str:
    """The poster's output (`survey.jobs.outputs`): named by the hash of its HTML, so that a
    poster is printed once per change of its numbers, not once per request."""
    return f"posters/{hashlib.sha256(html.encode('utf-8')).hexdigest()}.pdf"


def printed_poster(session: Session, html: str, instance_path: str | Path) -> bytes | None:
    """The PDF of this rendered poster when a worker has printed it, else None."""
    output = find_output(session, poster_output_name(html))
    return None if output is None else output_bytes(output, instance_path)


def queue_poster(session: Session, html: str, *, publication: str, size: str,
                 actor: str) -> Job | None:
    """Queue the printing of this rendered poster, unless it is queued already or too many
    posters wait; the job, or None. The caller commits."""
    name = poster_output_name(html)
    waiting = active_jobs(session, JobKind.POSTER)
    if len(waiting) >= POSTER_JOBS_MAX or any(
            (job.parameters or {}).get("output") == name for job in waiting):
        return None
    return queue_job(session, JobKind.POSTER, actor=actor, user_id=None,
                     parameters={"output": name, "publication": publication, "size": size},
                     payload=html.encode("utf-8"))


def print_poster(ctx: JobContext) -> tuple[dict[str, Any], dict[str, Any]]:
    """The handler of `poster` jobs: print the HTML queued with the job with Chromium, as the
    report's PDF is printed, and store it as the job's output."""
    data = ctx.payload
    if data is None:
        raise ValueError("the poster's page of this job is no longer available")
    name = poster_output_name(data.decode("utf-8"))
    ctx.progress.stage("printing")
    with tempfile.TemporaryDirectory(prefix="barometre-poster-") as work:
        source = Path(work) / "poster.html"
        source.write_bytes(data)
        content = html_to_pdf(source, Path(work) / "poster.pdf").read_bytes()
    store_output(ctx.session, name, content, mimetype="application/pdf",
                 instance_path=ctx.app.config["INSTANCE_PATH"], job_id=ctx.job_id)
    return ({"output": name, "size": len(content)},
            {"publication": ctx.parameters.get("publication"), "size": ctx.parameters.get("size")})


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
