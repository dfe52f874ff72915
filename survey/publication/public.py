"""The published results, without login: `/p/<slug>`, its open data (JSON, CSV), its posters
and its badge. Unpublished and unknown programmes are 404.

Every answer is cacheable: its ETag is the hash of its bytes (a request with that tag in
`If-None-Match` gets 304 and no body), `Cache-Control` lets any cache keep it a few minutes, and
the page's language (`?lang=`, else the browser's) is not written to a session cookie.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, current_app, g, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from survey.branding import current_branding
from survey.errors import file_download
from survey.extensions import db
from survey.jobs.outputs import OutputError
from survey.models import Publication
from survey.publication import posters, results

blueprint = Blueprint("public", __name__, url_prefix="/p")

#: How long a browser or a proxy may keep a public answer without asking again.
MAX_AGE = 300
#: Seconds a visitor is asked to wait for a poster being printed.
POSTER_RETRY_AFTER = 30


def _lang() -> str:
    return "en" if str(get_locale() or "fr") == "en" else "fr"


def _publication(slug: str) -> Publication:
    found = results.published(db.session, slug)
    if found is None:
        abort(404)
    # The page, the poster and their logo are the publishing client's.
    g.branding_client = found.client_id
    return found


def cacheable(body: bytes, mimetype: str, *, vary_language: bool = False,
              download_name: str | None = None) -> Response:
    response = Response(body, mimetype=mimetype)
    response.set_etag(hashlib.sha256(body).hexdigest()[:40])
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    if vary_language:
        response.headers["Vary"] = "Accept-Language, Cookie"
    if download_name:
        response.headers["Content-Disposition"] = f'inline; filename="{download_name}"'
    return response.make_conditional(request)


@blueprint.route("/<publication_slug>")
def page(publication_slug: str) -> Response:
    publication = _publication(publication_slug)
    data = results.public_results(db.session, publication)
    html = render_template("publication/public.html", r=data, lang=_lang(), slug=publication_slug)
    return cacheable(html.encode("utf-8"), "text/html", vary_language=True)


@blueprint.route("/<publication_slug>/results.json")
@file_download
def results_json(publication_slug: str) -> Response:
    data = results.public_results(db.session, _publication(publication_slug))
    response = cacheable(results.results_json(data), "application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it
    return response


@blueprint.route("/<publication_slug>/results.csv")
@file_download
def results_csv(publication_slug: str) -> Response:
    data = results.public_results(db.session, _publication(publication_slug))
    response = cacheable(results.results_csv(data), "text/csv",
                         download_name=f"{publication_slug}-results.csv")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def poster_html(publication_slug: str, data: dict, size: str, lang: str) -> str:
    """The poster's page in `lang`, as Chromium prints it."""
    with force_locale(lang):
        return render_template(
            "publication/poster.html", r=data, lang=lang, size=size, brand=current_branding(),
            page_url=url_for("public.page", publication_slug=publication_slug, _external=True),
        )  # fmt: skip


def queue_posters(publication: Publication, *, actor: str) -> int:
    """Queue the printing of the posters of every size and language (at publication, so that
    a visitor finds them printed); how many were queued. The caller commits."""
    data = results.public_results(db.session, publication)
    queued = 0
    for size in posters.POSTER_SIZES:
        for lang in ("fr", "en"):
            html = poster_html(publication.slug, data, size, lang)
            if posters.printed_poster(db.session, html, current_app.instance_path) is None:
                queued += posters.queue_poster(db.session, html, publication=publication.slug,
                                               size=size, actor=actor) is not None
    return queued


@blueprint.route("/<publication_slug>/poster-<any(a4, a3):size>.pdf")
@file_download
def poster(publication_slug: str, size: str) -> Response:
    """The poster to display in the centre's premises, printed by a worker as the report's PDF
    is: sent when printed, otherwise queued (once) and the visitor asked to come back."""
    data = results.public_results(db.session, _publication(publication_slug))
    html = poster_html(publication_slug, data, size, _lang())
    try:
        content = posters.printed_poster(db.session, html, current_app.instance_path)
    except OutputError as error:
        current_app.logger.error("poster not sent: %s", error)
        abort(503)
    if content is not None:
        return cacheable(content, "application/pdf", vary_language=True,
                         download_name=f"{publication_slug}-{size}.pdf")
    posters.queue_poster(db.session, html, publication=publication_slug, size=size,
                         actor="public")
    db.session.commit()
    response = Response(_("The poster is being printed: it will be ready in a minute. Try "
                          "again then."), status=503, mimetype="text/plain")
    response.headers["Retry-After"] = str(POSTER_RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


@blueprint.route("/<publication_slug>/badge.svg")
@file_download
def badge(publication_slug: str) -> Response:
    """A small badge (headline figure and year) that any website can embed as an image."""
    data = results.public_results(db.session, _publication(publication_slug))
    response = cacheable(posters.badge_svg(data, _lang()), "image/svg+xml", vary_language=True)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
