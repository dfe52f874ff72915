"""barometre's web application: the application factory and its registrations."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request, session
from flask_babel import get_locale, get_translations
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
    "survey.health",
)


def register_blueprints(app: Flask) -> None:
    for name in BLUEPRINT_MODULES:
        app.register_blueprint(importlib.import_module(name).blueprint)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
# Plotly.js lays its charts out with style elements it creates: pages that draw one allow inline
# styles (never inline scripts).
CHART_PAGE_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


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
