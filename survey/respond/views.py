"""The respondent's pages under `/r/<token>`.

- `GET /r/<token>`: resume where the respondent stopped (the first page on a first visit);
- `GET|POST /r/<token>/<page>`: one page of the questionnaire; a saved page redirects (303) to
  the next one, so that reloading never submits twice;
- `GET /r/<token>/thanks`: the thank-you page once the response is complete.

Unknown links answer 404, closed or not yet open campaigns a polite 200 page; none of them says
anything about other invitations. Bad tokens are counted per address (`throttle`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Connection
from werkzeug.wrappers import Response as HttpResponse

from questionnaires import Questionnaire
from survey.clients.web import enter_client_scope
from survey.database import autocommit_connection
from survey.extensions import csrf, db
from survey.respond import operations, privacy_notice
from survey.respond.forms import link_csrf_token_matches
from survey.respond.operations import LinkState, Outcome
from survey.respond.pages import PageView, render_page, render_thanks
from survey.respond.throttle import link_throttle

blueprint = Blueprint("respond", __name__, url_prefix="/r")
# The pages check a CSRF token of their own, bound to the link rather than to a session
# (`forms.link_csrf_token`): a respondent's pages need no cookie.
csrf.exempt(blueprint)

Page = str | HttpResponse | tuple[str, int] | tuple[str, int, dict[str, str]]


# --- the link --------------------------------------------------------------------------------


class LinkRefused(Exception):
    """The request cannot go on; `page` draws what to answer instead, once the request's
    transaction, if any, has ended (a page never renders while holding a lock)."""

    def __init__(self, page: Callable[[], Any]) -> None:
        self.page = page


@blueprint.before_request
def _anonymous() -> None:
    """Respondents are anonymous: their pages show no account and act for no user.

    Said before Flask-Login is asked: its template context would otherwise load the user on
    every page, and its "strong" session protection, finding a respondent's session (a CSRF
    token) without a login identifier, rewrote the session cookie and cleared a remember cookie
    on every response (and loaded a manager previewing a test link from the database).
    """
    g._login_user = current_app.login_manager.anonymous_user()


@blueprint.errorhandler(LinkRefused)
def _refused(error: LinkRefused) -> Any:
    return error.page()


def _link(
    token: str, *, locked_in: Connection | None = None
) -> tuple[operations.Link, Questionnaire]:
    """The link and its questionnaire, or a refusal: 429 when this address guessed too often,
    404 for an unknown link. One query reads what a page needs, two when saving one (and one
    more, once per process, for the questionnaire's definition).

    By default both are read outside any transaction (`autocommit_connection`): showing a page
    takes no lock, so respondents reading pages never queue behind those saving one, and a page
    that then writes one statement on its own (`resume`) holds no lock that statement would wait
    for. With `locked_in`, the link is locked in that connection's transaction
    (`operations.lock_link`)."""
    address = request.remote_addr or "unknown"
    # What this process knows only: a respondent's page asks nothing of the shared counts.
    retry_after = link_throttle().blocked_here(address)
    if retry_after is not None:
        raise _too_many(retry_after)
    if locked_in is not None:
        link = operations.lock_link(locked_in, token)
        questionnaire = None if link is None else operations.link_questionnaire(locked_in, link)
    else:
        with autocommit_connection() as connection:
            link = operations.read_link(connection, token)
            questionnaire = (
                None if link is None else operations.link_questionnaire(connection, link)
            )
    if link is None or questionnaire is None:
        if locked_in is not None:  # its transaction holds SQLite's write lock: count after it
            link_throttle().record_later(address)
        else:
            retry_after = link_throttle().record_failure(address)
            if retry_after is not None:  # beyond the limit, counted on any server
                raise _too_many(retry_after)
        raise LinkRefused(
            partial(
                _message_page,
                _("This link does not work"),
                _("We could not find a survey for this link. Please check that you copied the "
                  "whole link from your message; if it still does not work, the survey may "
                  "have been withdrawn."),
                404,
            )
        )
    # The locale selector reads this before the browser's preference (survey.select_locale).
    g.invitation_language = link.language
    # What the respondent's request reads and writes is the invitation's client's.
    enter_client_scope(link.client_id)
    return link, questionnaire


def _too_many(retry_after: int) -> LinkRefused:
    return LinkRefused(
        partial(
            _message_page,
            _("Too many attempts"),
            _("Too many invalid links were opened from your connection. "
              "Please wait a few minutes, then open the link from your message again."),
            429,
            {"Retry-After": str(retry_after)},
        )
    )


def _today() -> Any:
    zone = ZoneInfo(current_app.config.get("TIMEZONE", "Europe/Paris"))
    return datetime.now(zone).date()


def _state_page(state: LinkState) -> Any:
    if state == LinkState.NOT_OPEN_YET:
        return _message_page(
            _("This survey is not open yet"),
            _("Thank you for your interest. The survey has not started yet: please come back "
              "with the same link once you have received your invitation."),
        )
    return _message_page(
        _("This survey is closed"),
        _("Thank you for your interest. The survey is now closed and no longer accepts "
          "answers."),
    )


def _message_page(
    title: str, message: str, status: int = 200, headers: dict[str, str] | None = None
) -> Any:
    html = render_template(
        "respond/message.html",
        title=title,
        message=message,
        privacy=privacy_notice(current_app.config, str(get_locale() or "fr")),
    )
    return html, status, headers or {}


def _open(token: str) -> tuple[operations.Link, Questionnaire]:
    link, questionnaire = _link(token)
    state = operations.link_state(link, today=_today())
    if state == LinkState.COMPLETE:
        raise LinkRefused(partial(redirect, url_for(".thanks", token=token), 303))
    if state != LinkState.OPEN:
        raise LinkRefused(partial(_state_page, state))
    return link, questionnaire


def _language(questionnaire: Questionnaire) -> str:
    locale = str(get_locale() or "fr")
    return locale if locale in questionnaire.languages else questionnaire.languages[0]


# --- pages -----------------------------------------------------------------------------------


@blueprint.get("/<token>")
def resume(token: str) -> Any:
    link, questionnaire = _open(token)
    page_index = operations.resume_page(questionnaire, link.response)
    if link.first_opened_at is None:
        # The first opening is stamped by one statement of its own.
        with autocommit_connection() as connection:
            operations.record_first_open(connection, link.invitation_id)
    return _render_page(token, link, questionnaire, page_index)


@blueprint.route("/<token>/<int:page_index>", methods=["GET", "POST"])
def page(token: str, page_index: int) -> Any:
    if request.method == "GET":
        link, questionnaire = _open(token)
        if not operations.page_is_reachable(questionnaire, page_index, link.answers):
            resume_at = operations.resume_page(questionnaire, link.response)
            return redirect(url_for(".page", token=token, page_index=resume_at), 303)
        return _render_page(token, link, questionnaire, page_index)

    return _save(token, page_index)


# The outcomes whose transaction commits (the others wrote nothing).
_WRITTEN = frozenset({
    Outcome.SAVED, Outcome.REPLAYED, Outcome.ELSEWHERE, Outcome.COMPLETE, Outcome.ALREADY_COMPLETE,
})


def _save(token: str, page_index: int) -> Any:
    if current_app.config.get("WTF_CSRF_ENABLED", True) and not link_csrf_token_matches(
        current_app.config["SECRET_KEY"], token, request.form.get("csrf_token")
    ):
        return _forged(token, page_index)
    # The link is locked before anything is read (`lock_link`); `save_page` checks its state
    # itself (a complete response goes to the thank-you page, a closed campaign answers the
    # closed page). The transaction ends before any page is drawn.
    with db.engine.connect() as connection, connection.begin() as transaction:
        link, questionnaire = _link(token, locked_in=connection)
        result = operations.save_page(
            connection,
            link,
            page_index,
            request.form,
            lang=_language(questionnaire),
            shown_revision=request.form.get("_revision", type=int),
            today=_today(),
        )
        if result.outcome not in _WRITTEN:
            transaction.rollback()  # nothing was written
    if result.outcome in (Outcome.SAVED, Outcome.REPLAYED, Outcome.ELSEWHERE):
        return redirect(url_for(".page", token=token, page_index=result.page), 303)
    if result.outcome in (Outcome.COMPLETE, Outcome.ALREADY_COMPLETE):
        return redirect(url_for(".thanks", token=token), 303)
    if result.outcome == Outcome.CLOSED:
        return _state_page(result.state or LinkState.CLOSED)
    # Nothing was written: the link read under the lock holds the answers as saved.
    if result.outcome == Outcome.STALE:
        notice = _("These answers were changed in another window after this page was opened. "
                   "Here are the answers we saved: check them, then continue.")
        return _render_page(token, link, questionnaire, page_index, notice=notice)
    # Outcome.INVALID: show what was entered, with the errors.
    return _render_page(
        token, link, questionnaire, page_index, submitted=True, errors=result.errors
    )


def _forged(token: str, page_index: int) -> Any:
    """A page submitted without its link's CSRF token (`forms.link_csrf_token`), or with one from
    before the secret key changed: nothing is saved; the page is shown again with what was
    entered, so that submitting it again is one click."""
    link, questionnaire = _open(token)
    if not operations.page_is_reachable(
        questionnaire, page_index, link.answers
    ):
        return redirect(url_for(".resume", token=token), 303)
    message = _("This page had expired, so your answers were not saved yet. "
                "Please check them and submit the page again.")
    return _render_page(
        token, link, questionnaire, page_index,
        submitted=True, errors={"csrf_token": message}, status=400,
    )


@blueprint.get("/<token>/thanks")
def thanks(token: str) -> Any:
    link, questionnaire = _link(token)
    if link.disposition != "complete":
        return redirect(url_for(".resume", token=token), 303)
    return render_thanks(link, questionnaire, _language(questionnaire))


@blueprint.after_request
def _private(response: HttpResponse) -> HttpResponse:
    # A respondent's pages hold their answers and their link: no shared cache, no search engine.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- rendering -------------------------------------------------------------------------------


def _render_page(
    token: str,
    link: operations.Link,
    questionnaire: Questionnaire,
    page_index: int,
    *,
    submitted: bool = False,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Any:
    view = PageView.of(token, link, questionnaire, page_index, _language(questionnaire))
    return render_page(view, submitted=submitted, errors=errors, notice=notice), status
