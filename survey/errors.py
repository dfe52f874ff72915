"""Error pages a person can read: in their language, in the product's frame, without internals.

Werkzeug's own pages are English, whatever the page the person came from, and an `abort(…,
description)` may carry a developer's sentence. Each status gets a title and a sentence of its
own here, translated; the description given to `abort` is never shown.

A program or a download gets one line of text instead of a page: the views that send files
(exports, packs, open data, posters, badges) are marked with `@file_download`, and any other
client that asks for something other than HTML (`Accept: application/json`, `text/csv`...)
is answered the same way. Decided by the route that matched and the request's `Accept`, not
by how the address ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

# What a person is told, by status: what happened and what they can do next.
_PAGES = {
    400: (_l("The request could not be read"),
          _l("The page received something it could not use. If you were filling in a form, "
             "go back, reload the page and try again.")),
    403: (_l("Access refused"),
          _l("Your account does not give access to this page. Ask an administrator if you "
             "need it.")),
    404: (_l("Page not found"),
          _l("This address leads to no page. Check the link, or start again from the home "
             "page.")),
    405: (_l("Action not allowed here"),
          _l("This page cannot be used that way. Go back and use the page's own buttons.")),
    410: (_l("This page is no longer available"),
          _l("What this address showed has been removed.")),
    413: (_l("File too large"),
          _l("The file sent is larger than this page accepts. Send a smaller file.")),
    429: (_l("Too many attempts"),
          _l("Too many attempts in a short time. Wait a few minutes and try again.")),
    500: (_l("Something went wrong on our side"),
          _l("The page could not be shown. The error has been recorded; try again in a "
             "moment.")),
    503: (_l("Service temporarily unavailable"),
          _l("The service is busy or under maintenance. Try again in a few minutes.")),
}
_CSRF_PAGE = (_l("The form has expired"),
              _l("For your security a form is valid for a limited time. Go back, reload the page "
                 "and send it again."))


View = TypeVar("View", bound=Callable[..., object])


def file_download(view: View) -> View:
    """Mark a view that answers with a file (put it right above the function, under the
    route's and the roles' decorators, which keep the mark): its errors are a line of text."""
    view.file_download = True  # type: ignore[attr-defined]
    return view


def wants_plain_text() -> bool:
    """Whether the error is for a program or a download rather than a person's page: the
    matched view sends files, or the client's `Accept` prefers something other than HTML."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "file_download", False):
        return True
    accepted = request.accept_mimetypes
    if not accepted:  # no Accept header: a browser always sends one
        return False
    return accepted.best_match(["text/html", "text/plain", "application/json"]) != "text/html"


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_error)


def render_error(error: HTTPException):
    """The page for an HTTP error; the response keeps the error's status and headers."""
    code = error.code or 500
    if code < 400:
        # A redirect raised as an exception: not an error.
        return error
    title, message = _PAGES.get(code) or _PAGES[500 if code >= 500 else 400]
    if isinstance(error, CSRFError):
        title, message = _CSRF_PAGE
    response = error.get_response()
    if wants_plain_text():
        # A program or a download asked: a line of text it can log, not a page of HTML.
        response.set_data(f"{code} {title}\n")
        response.mimetype = "text/plain"
        return response
    try:
        body = render_template("errors/error.html", title=title, message=message, code=code)
    except Exception:  # noqa: BLE001 - the frame itself may be what failed (database down)
        return error
    response.set_data(body)
    response.mimetype = "text/html"
    return response
