"""Answering a survey through a personal link: finding the invitation, saving pages, completing.

The respondent's pages call these functions; those that write take a connection in a
transaction (Core statements, no ORM: a page is saved in a few milliseconds) and leave the
commit to the request. Every answer is kept once:

- there is one `Response` row per invitation (a unique constraint), created by the first saved
  page and updated by each later one;
- a page is saved under a lock on its invitation's row (`SELECT … FOR UPDATE` on PostgreSQL;
  SQLite's transactions already begin IMMEDIATE, holding the database's write lock), so that two
  submissions of one link — a double click, two tabs, a retry — run one after the other and the
  second sees what the first did. Locking the invitation rather than the response also covers
  the first page, when there is no response row to lock yet: two first pages cannot both insert;
- each page form carries the response's `revision` when it was shown. A submission whose answers
  are already stored is a replay and changes nothing; a stale one (older revision) that would
  change answers saved since is not applied: the page is shown again with the saved answers and
  a notice, so nothing given later is silently overwritten by an older screen;
- a complete response is never changed again: any later submission leads to the thank-you page.
"""

from __future__ import annotations

import enum
import functools
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from questionnaires import (
    Questionnaire,
    clean_page_answers,
    next_page_index,
    visible_questions,
)
from questionnaires.questions import CallbackQuestion, NpsQuestion, Question
from survey.audit import record_event
from survey.followups.operations import (
    current_calendar,
    new_follow_up_rows,
    programme_service_days,
)
from survey.models import (
    Campaign,
    CampaignStatus,
    Disposition,
    FollowUp,
    FollowUpKind,
    Invitation,
    QuestionnaireVersion,
    Response,
    ResponseStatus,
    utcnow,
)
from survey.tokens import hash_token, issue_token

__all__ = [
    "Link",
    "LinkState",
    "PageOutcome",
    "RespondError",
    "SavedResponse",
    "create_test_invitation",
    "first_incomplete_page",
    "link_state",
    "load_questionnaire",
    "lock_link",
    "read_link",
    "resume_page",
    "save_page",
    "token_looks_valid",
]

ACTOR = "respondent"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22,86}$")
"""A link token as `survey.tokens` writes it (URL-safe base64); anything else is not looked up."""

NON_ANSWER_FIELDS = frozenset({"csrf_token", "_revision"})

NPS_DETRACTOR_MAX = 6
DETRACTOR_BOTTOM_POINTS = 2  # overall satisfaction in the bottom two points of its scale


class RespondError(ValueError):
    """A request about a link that its campaign or invitation does not allow."""


class LinkState(enum.StrEnum):
    OPEN = "open"
    NOT_OPEN_YET = "not_open_yet"  # campaign in draft or sampled (test links are open)
    CLOSED = "closed"  # campaign closed or archived, or fieldwork over
    COMPLETE = "complete"  # this invitation has already answered


# --- links -----------------------------------------------------------------------------------


def token_looks_valid(token: str) -> bool:
    return bool(TOKEN_PATTERN.match(token))


@dataclass(frozen=True)
class SavedResponse:
    """A response as stored when the request read it."""

    id: int
    answers: dict[str, Any]
    revision: int
    current_page: int
    status: str


@dataclass(frozen=True)
class Link:
    """What a respondent's request needs about its link, read in one statement (`read_link`,
    `lock_link`): the invitation, its campaign's state, the SHA-256 naming the frozen
    questionnaire (`load_questionnaire` needs no query when that definition is already parsed),
    and the response so far (None before the first saved page).

    Plain values rather than ORM objects: a page is shown or saved in a couple of milliseconds,
    and building, tracking and flushing ORM objects cost a third of that.
    """

    invitation_id: int
    campaign_id: int
    language: str
    disposition: str
    is_test: bool
    first_opened_at: datetime | None
    campaign_status: str
    fieldwork_end: date | None
    questionnaire_version_id: int
    questionnaire_sha256: str
    response: SavedResponse | None
    # The invitation's client: the scope of what the respondent's request writes.
    client_id: int | None = None

    @property
    def answers(self) -> dict[str, Any]:
        """The answers saved so far (none before the first saved page)."""
        return self.response.answers if self.response is not None else {}


_INVITATION = Invitation.__table__
_CAMPAIGN = Campaign.__table__
_VERSION = QuestionnaireVersion.__table__
_RESPONSE = Response.__table__
_FOLLOW_UP = FollowUp.__table__

_LINK_COLUMNS = (
    _INVITATION.c.id, _INVITATION.c.campaign_id, _INVITATION.c.language,
    _INVITATION.c.disposition, _INVITATION.c.is_test, _INVITATION.c.first_opened_at,
    _CAMPAIGN.c.status, _CAMPAIGN.c.fieldwork_end, _CAMPAIGN.c.questionnaire_version_id,
    _VERSION.c.sha256, _INVITATION.c.client_id,
)
_RESPONSE_COLUMNS = (
    _RESPONSE.c.id, _RESPONSE.c.answers, _RESPONSE.c.revision, _RESPONSE.c.current_page,
    _RESPONSE.c.status,
)


@functools.cache
def _link_statement(for_update: bool) -> Any:
    """The query of a link by `:token_hash`, built once per process (a statement never changes;
    building one costs as much as running it).

    The locking form leaves the response out: on PostgreSQL, a locking statement that had to
    wait sees the rows it locks as they are now but the rows of other tables as they were when
    it began, so it would miss the response that the transaction it waited for has just created.
    `lock_link` reads the response afterwards. (The campaign read with it may be as old as that
    wait, milliseconds: closing a campaign locks no invitation, so a save already under way could
    always finish just after it.)
    """
    joined = _INVITATION.join(_CAMPAIGN, _CAMPAIGN.c.id == _INVITATION.c.campaign_id).join(
        _VERSION, _VERSION.c.id == _CAMPAIGN.c.questionnaire_version_id
    )
    where = _INVITATION.c.token_hash == bindparam("token_hash")
    if for_update:
        return select(*_LINK_COLUMNS).select_from(joined).where(where).with_for_update(
            of=_INVITATION
        )
    joined = joined.outerjoin(_RESPONSE, _RESPONSE.c.invitation_id == _INVITATION.c.id)
    return select(*_LINK_COLUMNS, *_RESPONSE_COLUMNS).select_from(joined).where(where)


_RESPONSE_STATEMENT = select(*_RESPONSE_COLUMNS).where(
    _RESPONSE.c.invitation_id == bindparam("invitation_id")
)
# Written once, as `_link_statement`; the columns to set are the parameters' other keys.
_INSERT_RESPONSE = insert(_RESPONSE)
_UPDATE_RESPONSE = update(_RESPONSE).where(_RESPONSE.c.id == bindparam("response_id"))
_UPDATE_INVITATION = update(_INVITATION).where(_INVITATION.c.id == bindparam("invitation_id"))
_STAMP_FIRST_OPENING = _UPDATE_INVITATION.where(_INVITATION.c.first_opened_at.is_(None))
_INSERT_FOLLOW_UP = insert(_FOLLOW_UP)


def _saved_response(values: Sequence[Any]) -> SavedResponse | None:
    response_id, answers, revision, current_page, status = values
    if response_id is None:
        return None
    return SavedResponse(response_id, dict(answers or {}), revision, current_page, status)


def read_link(connection: Connection, token: str) -> Link | None:
    """The link carrying `token` (None for an unknown one), in one query that locks nothing.

    `connection` may be one without a transaction (`survey.database.autocommit_connection`): a
    page that only shows what is stored needs none."""
    if not token_looks_valid(token):
        return None
    row = connection.execute(_link_statement(False), {"token_hash": hash_token(token)}).first()
    return None if row is None else _link_of(row)


def _link_of(row: Sequence[Any]) -> Link:
    """The link in a row of `_link_statement(False)`: its columns, then its response's."""
    count = len(_LINK_COLUMNS)
    return Link(*row[: count - 1], client_id=row[count - 1],
                response=_saved_response(row[count:]))


def lock_link(connection: Connection, token: str) -> Link | None:
    """The link carrying `token`, its invitation locked until the connection's transaction ends,
    as saving a page needs (see the module's docstring): two queries on PostgreSQL, one on
    SQLite, whose transactions hold the database's write lock from their first statement."""
    if not token_looks_valid(token):
        return None
    if connection.dialect.name == "sqlite":
        return read_link(connection, token)
    row = connection.execute(_link_statement(True), {"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    response = connection.execute(_RESPONSE_STATEMENT, {"invitation_id": row[0]}).first()
    return Link(*row[:-1], client_id=row[-1],
                response=_saved_response(response) if response is not None else None)


def link_state(link: Link, *, today: date | None = None) -> LinkState:
    """Whether the link may be answered now.

    A test invitation (a manager's preview) works in every state but archived, so that a draft
    campaign's questionnaire can be checked before launch.
    """
    if link.disposition == Disposition.COMPLETE:
        return LinkState.COMPLETE
    status = link.campaign_status
    if status == CampaignStatus.ARCHIVED:
        return LinkState.CLOSED
    if link.is_test:
        return LinkState.OPEN
    if status == CampaignStatus.CLOSED:
        return LinkState.CLOSED
    if status in (CampaignStatus.DRAFT, CampaignStatus.SAMPLED):
        return LinkState.NOT_OPEN_YET
    if today is not None and link.fieldwork_end is not None and today > link.fieldwork_end:
        return LinkState.CLOSED
    return LinkState.OPEN


# --- the frozen questionnaire ----------------------------------------------------------------

_questionnaires: dict[str, Questionnaire] = {}
_questionnaires_lock = threading.Lock()


def load_questionnaire(
    session: Session | Connection, version_id: int, sha256: str | None = None
) -> Questionnaire:
    """The campaign's frozen definition, parsed once per process.

    Cached by SHA-256 of the frozen copy (its content, not its row id), so a cached entry can
    never stand for another definition, and nothing ever invalidates it: a frozen definition
    never changes. Pass the version's `sha256` when it is already known (`Link`) to spare the
    query that reads it.
    """
    if sha256 is None:
        sha256 = session.scalar(
            select(QuestionnaireVersion.sha256).where(QuestionnaireVersion.id == version_id)
        )
        if sha256 is None:
            raise RespondError(f"questionnaire version {version_id} does not exist")
    cached = _questionnaires.get(sha256)
    if cached is not None:
        return cached
    definition = session.scalar(
        select(QuestionnaireVersion.definition).where(QuestionnaireVersion.id == version_id)
    )
    questionnaire = Questionnaire.from_canonical_json(definition or "")
    with _questionnaires_lock:
        return _questionnaires.setdefault(sha256, questionnaire)


def link_questionnaire(session: Session | Connection, link: Link) -> Questionnaire:
    return load_questionnaire(session, link.questionnaire_version_id, link.questionnaire_sha256)


# --- navigation ------------------------------------------------------------------------------


def first_incomplete_page(
    questionnaire: Questionnaire, answers: Mapping[str, Any], *, before: int | None = None
) -> int | None:
    """The first page (before page `before`, if given) with a shown required question that has
    no answer; None when every such question is answered."""
    return _first_incomplete(questionnaire.visible_by_page(answers), answers, before)


def _first_incomplete(
    visible: list[list[Question]], answers: Mapping[str, Any], before: int | None
) -> int | None:
    for page_index, questions in enumerate(visible[:before]):
        for question in questions:
            if question.required and question.code not in answers:
                return page_index
    return None


def first_page(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> int:
    visible = questionnaire.visible_by_page(answers)
    return next((page_index for page_index, shown in enumerate(visible) if shown), 0)


def resume_page(questionnaire: Questionnaire, response: SavedResponse | None) -> int:
    """Where a returning respondent continues: the page after the last one saved, unless an
    earlier page still lacks a required answer."""
    if response is None:
        return first_page(questionnaire, {})
    answers = response.answers
    page_index = min(response.current_page, len(questionnaire.pages) - 1)
    missing = first_incomplete_page(questionnaire, answers, before=page_index)
    if missing is not None:
        return missing
    if not visible_questions(questionnaire, page_index, answers):
        following = next_page_index(questionnaire, page_index, answers)
        return following if following is not None else first_page(questionnaire, answers)
    return page_index


def page_is_reachable(
    questionnaire: Questionnaire, page_index: int, answers: Mapping[str, Any]
) -> bool:
    """A page may be shown or saved when it exists, shows a question, and every earlier page's
    required questions are answered (so no one completes by skipping pages)."""
    if not 0 <= page_index < len(questionnaire.pages):
        return False
    visible = questionnaire.visible_by_page(answers)
    return bool(visible[page_index]) and _first_incomplete(visible, answers, page_index) is None


# --- saving ----------------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    SAVED = "saved"  # go on to `page`
    REPLAYED = "replayed"  # the same answers were already saved: go on to `page`
    INVALID = "invalid"  # show the page again with `errors`
    STALE = "stale"  # changed since this page was shown: show it again with the saved answers
    ELSEWHERE = "elsewhere"  # this page cannot be answered now: go to `page`
    COMPLETE = "complete"  # this submission completed the response
    ALREADY_COMPLETE = "already_complete"
    CLOSED = "closed"  # the link no longer accepts answers (`state` says why)


@dataclass
class PageOutcome:
    outcome: Outcome
    page: int | None = None
    errors: dict[str, str] = field(default_factory=dict)
    state: LinkState | None = None


def save_page(
    connection: Connection,
    link: Link,
    page_index: int,
    form_data: Mapping[str, Sequence[str]] | Any,
    *,
    lang: str,
    shown_revision: int | None,
    today: date | None = None,
    now: datetime | None = None,
) -> PageOutcome:
    """Save one submitted page of the link's questionnaire and say where to go next.

    `link` was read with `lock_link` in the connection's transaction, which it writes to;
    `form_data` is the submitted form (`request.form`); `shown_revision` the response revision
    the page was shown with (None when unknown). The caller commits.
    """
    now = now or utcnow()
    state = link_state(link, today=today)
    if state == LinkState.COMPLETE:
        return PageOutcome(Outcome.ALREADY_COMPLETE)
    if state != LinkState.OPEN:
        return PageOutcome(Outcome.CLOSED, state=state)

    questionnaire = link_questionnaire(connection, link)
    response = link.response
    if response is not None and response.status == ResponseStatus.COMPLETE:
        return PageOutcome(Outcome.ALREADY_COMPLETE)
    stored: dict[str, Any] = dict(link.answers)
    if not page_is_reachable(questionnaire, page_index, stored):
        return PageOutcome(Outcome.ELSEWHERE, page=resume_page(questionnaire, response))

    answers, errors = clean_page_answers(
        questionnaire, page_index, form_data, stored, lang=lang, ignore=NON_ANSWER_FIELDS
    )
    if errors:
        return PageOutcome(Outcome.INVALID, page=page_index, errors=errors)

    following = next_page_index(questionnaire, page_index, answers)
    if answers == stored and response is not None:
        # A double click, a retry or a second tab sending what is already saved: nothing to do.
        if following is None and first_incomplete_page(questionnaire, answers) is None:
            return _complete(connection, link, response.id, answers, questionnaire, now=now)
        return PageOutcome(Outcome.REPLAYED, page=following)
    if shown_revision is not None and response is not None and shown_revision < response.revision:
        return PageOutcome(Outcome.STALE, page=page_index)

    # Where the respondent goes next: the following page, else an earlier page still lacking a
    # required answer, else nowhere: the response is complete.
    missing = first_incomplete_page(questionnaire, answers) if following is None else None
    go_to = following if following is not None else missing
    # A completing page writes the response's completion with its answers (one statement).
    completion = {} if go_to is not None else {
        "status": ResponseStatus.COMPLETE.value, "completed_at": now,
    }
    if response is None:
        response_id = connection.execute(
            _INSERT_RESPONSE,
            {
                "invitation_id": link.invitation_id,
                "client_id": link.client_id,
                "questionnaire_version_id": link.questionnaire_version_id,
                "answers": answers,
                "current_page": page_index if go_to is None else go_to,
                "language": lang,
                "revision": 1,
                "started_at": now,
                "updated_at": now,
                **completion,
            },
        ).inserted_primary_key[0]
        started = {"invitation_id": link.invitation_id, "disposition": Disposition.PARTIAL.value}
        if link.first_opened_at is None:  # read under the lock: no one stamped it since
            started["first_opened_at"] = now
        connection.execute(_UPDATE_INVITATION, started)
        record_event(
            connection,
            "response.start",
            actor=ACTOR,
            object_type="response",
            object_id=response_id,
            campaign_id=link.campaign_id,
            summary={"invitation_id": link.invitation_id, "is_test": link.is_test},
        )
    else:
        response_id = response.id
        connection.execute(
            _UPDATE_RESPONSE,
            {
                "response_id": response_id,
                "answers": answers,
                "language": lang,
                "revision": response.revision + 1,
                "updated_at": now,
                "current_page": response.current_page if go_to is None else go_to,
                **completion,
            },
        )

    if go_to is None:
        return _complete(
            connection, link, response_id, answers, questionnaire, now=now,
            response_written=True,
        )
    if following is None:
        return PageOutcome(Outcome.ELSEWHERE, page=go_to)
    return PageOutcome(Outcome.SAVED, page=go_to)


def _complete(
    connection: Connection,
    link: Link,
    response_id: int,
    answers: Mapping[str, Any],
    questionnaire: Questionnaire,
    *,
    now: datetime,
    response_written: bool = False,
) -> PageOutcome:
    """Complete the response (unless `response_written`: the page's save already did), its
    invitation, its follow-ups and its audit event."""
    if not response_written:
        connection.execute(
            _UPDATE_RESPONSE,
            {
                "response_id": response_id,
                "status": ResponseStatus.COMPLETE.value,
                "completed_at": now,
                "updated_at": now,
            },
        )
    connection.execute(
        _UPDATE_INVITATION,
        {
            "invitation_id": link.invitation_id,
            "disposition": Disposition.COMPLETE.value,
            "completed_at": now,
        },
    )
    # Test invitations are a manager's preview: their follow-ups would put a fictitious customer
    # in the managers' callback queue, so none are created.
    follow_ups = [] if link.is_test else follow_ups_for(questionnaire, answers)
    if follow_ups:
        # Each gets its due date now, from the programme's service level in the centre's
        # calendar: the promise to the customer starts when they asked.
        callback_days, detractor_days = programme_service_days(connection, link.campaign_id)
        connection.execute(
            _INSERT_FOLLOW_UP,
            new_follow_up_rows(
                questionnaire, answers, follow_ups, campaign_id=link.campaign_id,
                client_id=link.client_id,
                response_id=response_id, created=now, callback_days=callback_days,
                detractor_days=detractor_days, calendar=current_calendar(),
            ),
        )
    record_event(
        connection,
        "response.complete",
        actor=ACTOR,
        object_type="response",
        object_id=response_id,
        campaign_id=link.campaign_id,
        summary={
            "invitation_id": link.invitation_id,
            "is_test": link.is_test,
            "follow_ups": [kind for kind, _ in follow_ups],
        },
        at=now,
    )
    return PageOutcome(Outcome.COMPLETE)


def follow_ups_for(
    questionnaire: Questionnaire, answers: Mapping[str, Any]
) -> list[tuple[str, str | None]]:
    """The follow-ups a complete response calls for, as (kind, preferred channel).

    A callback when the respondent asked to be contacted (and agreed to it); a detractor alert
    for a Net Promoter answer of 0–6 or an overall satisfaction in the bottom two points.
    """
    found: list[tuple[str, str | None]] = []
    shown = questionnaire.shown_answers(answers)
    for _, question in questionnaire.questions():
        answer = shown.get(question.code)
        asked = isinstance(answer, dict) and answer.get("requested") and answer.get("consent")
        if isinstance(question, CallbackQuestion) and asked:
            found.append((FollowUpKind.CALLBACK.value, answer.get("channel")))
            break
    detractor = False
    for _, question in questionnaire.questions():
        answer = shown.get(question.code)
        if isinstance(question, NpsQuestion) and isinstance(answer, int):
            detractor = detractor or answer <= NPS_DETRACTOR_MAX
    overall = questionnaire.overall_question()
    if overall is not None:
        answer = shown.get(overall.code)
        if isinstance(answer, int) and answer < overall.min + DETRACTOR_BOTTOM_POINTS:
            detractor = True
    if detractor:
        found.append((FollowUpKind.DETRACTOR.value, None))
    return found


def record_first_open(
    connection: Connection, invitation_id: int, *, now: datetime | None = None
) -> bool:
    """Stamp the first time the link was opened (for fieldwork figures); True when this call
    stamped it. An earlier stamp is never replaced, even by a concurrent first opening: the
    statement is whole on its own, so it may run without a transaction
    (`survey.database.autocommit_connection`)."""
    result = connection.execute(
        _STAMP_FIRST_OPENING, {"invitation_id": invitation_id, "first_opened_at": now or utcnow()}
    )
    return result.rowcount == 1


# --- test links ------------------------------------------------------------------------------


def create_test_invitation(
    session: Session,
    campaign: Campaign,
    secret_key: str,
    base_url: str,
    language: str = "fr",
    *,
    actor: str = "cli",
) -> str:
    """Create a test invitation (a manager's preview, excluded from every statistic) and return
    its link. Allowed in every campaign state but archived; the link works even in draft."""
    if campaign.status == CampaignStatus.ARCHIVED:
        raise RespondError(f"campaign {campaign.slug!r} is archived: no test link can be made")
    if language not in ("fr", "en"):
        raise RespondError(f"language must be 'fr' or 'en', not {language!r}")
    salt, token, token_hash = issue_token(secret_key)
    invitation = Invitation(
        campaign=campaign,
        customer=None,
        stratum="test",
        design_weight=1.0,
        attributes={},
        token_salt=salt,
        token_hash=token_hash,
        language=language,
        is_test=True,
    )
    session.add(invitation)
    session.flush()
    record_event(
        session,
        "invitation.test_link",
        actor=actor,
        object_type="invitation",
        object_id=invitation.id,
        campaign_id=campaign.id,
        summary={"language": language},
    )
    return f"{base_url.rstrip('/')}/r/{token}"
