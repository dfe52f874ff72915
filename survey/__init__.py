"""barometre's web application: the application factory and its registrations."""

from __future__ import annotations

import base64
import hashlib
import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request, session
from flask_babel import get_locale, get_translations
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.engine import Engine

from survey import errors
from survey.config import config_from_environment
from survey.extensions import AUTOCOMMIT_OPTION, babel, csrf, db, login_manager

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("fr", "en")

__all__ = ["create_app", "LANGUAGES"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application from the environment, with `config` taking precedence.

    Raises `survey.config.ConfigurationError` when the instance folder is unusable.
    """
    overrides = dict(config or {})
    environ = dict(os.environ)
    if "INSTANCE_PATH" in overrides:
        environ["BAROMETRE_INSTANCE_PATH"] = str(overrides["INSTANCE_PATH"])
    settings = config_from_environment(environ)
    settings.update(overrides)

    app = Flask(
        "survey",
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["BASE_URL"].startswith("https://"),
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        BABEL_DEFAULT_LOCALE="fr",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        WTF_CSRF_TIME_LIMIT=None,
        # Flask-WTF's HTTPS check wants a Referer from the same origin, which browsers never
        # send under our `Referrer-Policy: no-referrer` (respondents' tokens are in paths):
        # behind an HTTPS proxy every form would fail. The CSRF token and SameSite cookies
        # remain the protection.
        WTF_CSRF_SSL_STRICT=False,
    )
    app.config.update(settings)

    from survey import logging as structured_logging

    structured_logging.init_app(app)
    register_extensions(app)
    register_template_globals(app)
    register_blueprints(app)
    register_security_headers(app)
    register_delivery(app)
    errors.init_app(app)
    # Every package's job types and periodic tasks (`survey.<package>.tasks`), so that a job
    # queued here names a registered kind.
    from survey.worker.registry import load_task_modules

    load_task_modules()
    return app


def select_locale() -> str:
    """The language: explicit choice, then the invitation's, then the browser's."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        # The published results are cached by anyone: their language is in their address,
        # never remembered in a cookie.
        if request.blueprint != "public":
            session["lang"] = chosen
        return chosen
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    if getattr(g, "invitation_language", None) in LANGUAGES:
        return g.invitation_language
    return request.accept_languages.best_match(LANGUAGES) or "fr"


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    from survey import auth, throttle
    from survey.clients import web as clients_web

    auth.init_app(app)
    clients_web.init_app(app)
    throttle.init_app(app)
    _trust_proxies(app)


def _trust_proxies(app: Flask) -> None:
    """`BAROMETRE_TRUSTED_PROXIES=N`: the client's address and scheme are read from the
    `X-Forwarded-For` and `X-Forwarded-Proto` that N proxies in front of barometre set (N hops);
    unset, those headers are ignored, since anyone could send them."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def request_translations() -> Any:
    """This request's translations, looked up once per request.

    Flask-Babel looks them up again on every string (context, locale identifier, cache key),
    which cost a respondent's page a fifth of its rendering; the locale never changes within a
    request here (nothing calls `flask_babel.refresh`).
    """
    translations = g.get("_barometre_translations")
    if translations is None:
        translations = g._barometre_translations = get_translations()
    return translations


def register_template_globals(app: Flask) -> None:
    from survey import formatting, labels
    from survey.branding import current_branding
    from survey.navigation import navigation

    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "fr")
    # The design system's helpers (docs/design-system.md): locale-aware numbers and dates,
    # labels for internal codes, the page's branding and the managers' navigation.
    formatting.register_filters(app)
    labels.register_filters(app)
    app.jinja_env.globals["branding"] = current_branding
    app.jinja_env.globals["navigation"] = navigation
    from survey.auth.roles import may_open

    # Links to a page are shown when its role set (survey/auth/roles.py) opens it.
    app.jinja_env.globals["may_open"] = may_open
    from survey.frame.reasons import reason_text

    app.jinja_env.globals["reject_reason"] = reason_text
    app.jinja_env.globals["respond_css"] = RESPOND_CSS
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: request_translations().ugettext(string),
        ngettext=lambda singular, plural, n: request_translations().ungettext(
            singular, plural, n
        ),
        pgettext=lambda context, string: request_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: request_translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )


# Each feature's pages: a module with a `blueprint`, registered in this order.
BLUEPRINT_MODULES = (
    "survey.main.views",
    "survey.campaigns.views",
    "survey.frame.views",
    "survey.distribution.views",
    "survey.respond.views",
    "survey.reporting.views",
    "survey.followups.views",
    "survey.weighting.views",
    "survey.jobs.views",
    "survey.admin.views",
    "survey.editor.views",
    "survey.publication.views",
    "survey.programmes.views",
    "survey.publication.public",
    "survey.improvement.views",
    "survey.clients.views",
    "survey.health",
)


def register_blueprints(app: Flask) -> None:
    for name in BLUEPRINT_MODULES:
        app.register_blueprint(importlib.import_module(name).blueprint)


# The respondent's stylesheet is written into its pages (`templates/respond/base.html`): on a
# phone's slow network the page then paints after one round trip, not two (issue #15). The
# policy allows that one text by its hash, read once at start-up from the file the page
# inlines; any other inline style is still refused.
RESPOND_CSS = Markup((Path(__file__).parent / "static" / "respond" / "respond.css")  # noqa: S704 - our own file
                     .read_text(encoding="utf-8"))
RESPOND_CSS_HASH = "'sha256-{}'".format(
    base64.b64encode(hashlib.sha256(RESPOND_CSS.encode("utf-8")).digest()).decode("ascii"))


def _policy(style_src: str) -> str:
    return (
        f"default-src 'self'; script-src 'self'; style-src {style_src}; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    )


CONTENT_SECURITY_POLICY = _policy(f"'self' {RESPOND_CSS_HASH}")
# Plotly.js lays its charts out with style elements it creates: pages that draw one allow inline
# styles (never inline scripts). Without the hash: a browser ignores 'unsafe-inline' beside one.
CHART_PAGE_POLICY = _policy("'self' 'unsafe-inline'")


# Every response's, unless its view set its own (as name, lower-case name, value).
SECURITY_HEADERS = tuple(
    (name, name.lower(), value)
    for name, value in (
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        # Respondent links carry a token in the path: never leak it to another site.
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
    )
)


# Compressed on the way out: the respondent's pages (read on phones over slow networks) and
# the static files. Not the managers' pages: they hold a session's CSRF token beside text a
# visitor may have typed, the pattern BREACH-style attacks guess secrets from by size.
COMPRESSED_BLUEPRINTS = frozenset({"respond"})
# A static file's address carries its content's hash (`?v=`): a browser keeps it a year
# without asking again, and a new version of the file has a new address.
STATIC_CACHE = "public, max-age=31536000, immutable"


def register_delivery(app: Flask) -> None:
    """Compression (Flask-Compress, gzip or Brotli as the browser accepts) where it is safe,
    and static addresses versioned by content so that browsers cache them for good."""
    from flask_compress import Compress

    app.config.setdefault("COMPRESS_REGISTER", False)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    compress = Compress(app)
    versions: dict[str, str | None] = {}

    def version_of(filename: str) -> str | None:
        if filename not in versions:
            path = Path(app.static_folder or "") / filename
            try:
                versions[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            except OSError:
                versions[filename] = None
        return versions[filename]

    @app.url_defaults
    def static_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = version_of(values["filename"])
            if version is not None:
                values["v"] = version

    @app.after_request
    def deliver(response: Response) -> Response:
        if request.endpoint == "static":
            filename = (request.view_args or {}).get("filename", "")
            if response.status_code == 200 and request.args.get("v") == version_of(filename):
                response.headers["Cache-Control"] = STATIC_CACHE
        elif request.blueprint not in COMPRESSED_BLUEPRINTS:
            return response
        return compress.after_request(response)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # One pass over the headers rather than one `setdefault` (a scan) per header: this runs
        # on every request.
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}
        for name, lowered, value in SECURITY_HEADERS:
            if lowered not in present:
                headers.add(name, value)
        return response


def _is_sqlite(dbapi_connection: Any) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL for concurrent readers, enforced foreign keys, waiting rather than failing on locks."""
    if _is_sqlite(dbapi_connection):
        # The driver's own implicit BEGIN is replaced by ours (see `_begin_immediate`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _begin_immediate(connection: Any) -> None:
    """Take SQLite's write lock when a transaction begins.

    SQLite has one writer at a time; a deferred transaction that read first and writes later
    fails with "database is locked" when another writer got in between, whatever the busy
    timeout. Beginning every transaction IMMEDIATE makes writers queue instead, so that no
    answer is lost under concurrent respondents. A reader's connection
    (`survey.database.autocommit_connection`) begins none: each of its statements runs on its own.
    """
    if connection.dialect.name == "sqlite" and not connection.get_execution_options().get(
        AUTOCOMMIT_OPTION
    ):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
