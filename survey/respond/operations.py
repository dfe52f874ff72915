"""Answering a survey through a personal link: finding the invitation, saving pages, completing.

The respondent's pages call these functions; each takes the SQLAlchemy session, flushes, and
leaves the commit to the request. Every answer is kept once:

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

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, contains_eager, defer

from questionnaires import (
    Questionnaire,
    clean_page_answers,
    next_page_index,
    visible_questions,
)
from questionnaires.questions import CallbackQuestion, NpsQuestion
from survey.audit import record_event
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
    "create_test_invitation",
    "find_invitation",
    "find_link",
    "first_incomplete_page",
    "link_state",
    "load_questionnaire",
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


def find_invitation(session: Session, token: str) -> Invitation | None:
    """The invitation whose link carries `token`, by the token's SHA-256 (never stored itself)."""
    link = find_link(session, token)
    return link.invitation if link is not None else None


@dataclass
class Link:
    """What a respondent's request needs about its link, loaded together (`find_link`): the
    invitation (with its campaign), its response if any, and the SHA-256 naming the frozen
    questionnaire (`load_questionnaire` needs no query when that definition is already parsed)."""

    invitation: Invitation
    response: Response | None
    questionnaire_sha256: str

    @property
    def campaign(self) -> Campaign:
        return self.invitation.campaign


@functools.cache
def _link_statement(by: str, for_update: bool) -> Any:
    """The query of a link by `:token_hash` or by `:invitation_id`, built once per process (a
    statement never changes; building one costs as much as running it).

    The locking form leaves the response out: on PostgreSQL, a locking statement that had to
    wait sees the rows it locks as they are now but the rows of other tables as they were when
    it began, so it would miss the response that the transaction it waited for has just created.
    `_fetch_link` reads the response afterwards. (The campaign read with it may be as old as that
    wait, milliseconds: closing a campaign locks no invitation, so a save already under way could
    always finish just after it.)
    """
    key = Invitation.token_hash if by == "token_hash" else Invitation.id
    if for_update:
        entities: tuple[Any, ...] = (Invitation, QuestionnaireVersion.sha256)
    else:
        entities = (Invitation, QuestionnaireVersion.sha256, Response)
    statement = (
        select(*entities)
        .join(Invitation.campaign)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Campaign.questionnaire_version_id)
        .options(
            # Only the columns a respondent's request reads: the campaign's plan, frame counts
            # and exclusions, and the invitation's attribute snapshot, are JSON documents that
            # would be parsed for nothing on every page (anything else loads when first read).
            contains_eager(Invitation.campaign).load_only(
                Campaign.status, Campaign.fieldwork_end, Campaign.questionnaire_version_id
            ),
            defer(Invitation.attributes),
        )
        .where(key == bindparam(by))
    )
    if for_update:
        # `populate_existing` replaces anything this session loaded before the lock was held
        # with what the lock protects.
        return statement.with_for_update(of=Invitation).execution_options(populate_existing=True)
    return statement.outerjoin(Response, Response.invitation_id == Invitation.id)


@functools.cache
def _response_statement() -> Any:
    return (
        select(Response)
        .where(Response.invitation_id == bindparam("invitation_id"))
        .execution_options(populate_existing=True)
    )


def _fetch_link(session: Session, by: str, value: Any, for_update: bool) -> Link | None:
    row = session.execute(_link_statement(by, for_update), {by: value}).first()
    if row is None:
        return None
    if not for_update:
        invitation, sha256, response = row
        return Link(invitation, response, sha256)
    invitation, sha256 = row
    response = session.scalar(_response_statement(), {"invitation_id": invitation.id})
    return Link(invitation, response, sha256)


def find_link(session: Session, token: str, *, for_update: bool = False) -> Link | None:
    """The link carrying `token` (None for an unknown one): one query, two when locking.

    `for_update` locks the invitation's row until the transaction ends, as saving a page needs
    (see the module's docstring).
    """
    if not token_looks_valid(token):
        return None
    return _fetch_link(session, "token_hash", hash_token(token), for_update)


def link_state(invitation: Invitation, *, today: date | None = None) -> LinkState:
    """Whether the link may be answered now.

    A test invitation (a manager's preview) works in every state but archived, so that a draft
    campaign's questionnaire can be checked before launch.
    """
    if invitation.disposition == Disposition.COMPLETE:
        return LinkState.COMPLETE
    campaign = invitation.campaign
    if campaign.status == CampaignStatus.ARCHIVED:
        return LinkState.CLOSED
    if invitation.is_test:
        return LinkState.OPEN
    if campaign.status == CampaignStatus.CLOSED:
        return LinkState.CLOSED
    if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SAMPLED):
        return LinkState.NOT_OPEN_YET
    if today is not None and campaign.fieldwork_end is not None and today > campaign.fieldwork_end:
        return LinkState.CLOSED
    return LinkState.OPEN


# --- the frozen questionnaire ----------------------------------------------------------------

_questionnaires: dict[str, Questionnaire] = {}
_questionnaires_lock = threading.Lock()


def load_questionnaire(
    session: Session, version_id: int, sha256: str | None = None
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


def link_questionnaire(session: Session, link: Link) -> Questionnaire:
    return load_questionnaire(
        session, link.campaign.questionnaire_version_id, link.questionnaire_sha256
    )


# --- navigation ------------------------------------------------------------------------------


def first_incomplete_page(
    questionnaire: Questionnaire, answers: Mapping[str, Any], *, before: int | None = None
) -> int | None:
    """The first page (before page `before`, if given) with a shown required question that has
    no answer; None when every such question is answered."""
    end = len(questionnaire.pages) if before is None else min(before, len(questionnaire.pages))
    for page_index in range(end):
        for question in visible_questions(questionnaire, page_index, answers):
            if question.required and question.code not in answers:
                return page_index
    return None


def first_page(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> int:
    for page_index in range(len(questionnaire.pages)):
        if visible_questions(questionnaire, page_index, answers):
            return page_index
    return 0


def resume_page(questionnaire: Questionnaire, response: Response | None) -> int:
    """Where a returning respondent continues: the page after the last one saved, unless an
    earlier page still lacks a required answer."""
    if response is None:
        return first_page(questionnaire, {})
    answers = response.answers or {}
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
    if not visible_questions(questionnaire, page_index, answers):
        return False
    return first_incomplete_page(questionnaire, answers, before=page_index) is None


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
    response: Response | None = None
    state: LinkState | None = None


def save_page(
    session: Session,
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

    `link` was loaded with `find_link(..., for_update=True)` in this transaction (one query finds
    the link, locks it and loads the rest); `form_data` is the submitted form (`request.form`);
    `shown_revision` the response revision the page was shown with (None when unknown).
    Flushes; the caller commits.
    """
    now = now or utcnow()
    invitation = link.invitation
    state = link_state(invitation, today=today)
    if state == LinkState.COMPLETE:
        return PageOutcome(Outcome.ALREADY_COMPLETE)
    if state != LinkState.OPEN:
        return PageOutcome(Outcome.CLOSED, state=state)

    campaign: Campaign = invitation.campaign
    questionnaire = link_questionnaire(session, link)
    response = link.response
    if response is not None and response.status == ResponseStatus.COMPLETE:
        return PageOutcome(Outcome.ALREADY_COMPLETE)
    stored: dict[str, Any] = dict(response.answers or {}) if response is not None else {}
    if not page_is_reachable(questionnaire, page_index, stored):
        return PageOutcome(Outcome.ELSEWHERE, page=resume_page(questionnaire, response))

    answers, errors = clean_page_answers(
        questionnaire, page_index, form_data, stored, lang=lang, ignore=NON_ANSWER_FIELDS
    )
    if errors:
        return PageOutcome(Outcome.INVALID, page=page_index, errors=errors, response=response)

    following = next_page_index(questionnaire, page_index, answers)
    current_revision = response.revision if response is not None else 0
    if answers == stored and response is not None:
        # A double click, a retry or a second tab sending what is already saved: nothing to do.
        if following is None and first_incomplete_page(questionnaire, answers) is None:
            return _complete(session, invitation, response, questionnaire, now=now)
        return PageOutcome(Outcome.REPLAYED, page=following, response=response)
    if shown_revision is not None and shown_revision < current_revision:
        return PageOutcome(Outcome.STALE, page=page_index, response=response)

    if response is None:
        response = Response(
            invitation_id=invitation.id,
            questionnaire_version_id=campaign.questionnaire_version_id,
            answers=answers,
            current_page=page_index,
            language=lang,
            revision=1,
            started_at=now,
            updated_at=now,
        )
        session.add(response)
        session.flush()
        if invitation.disposition != Disposition.COMPLETE:
            invitation.disposition = Disposition.PARTIAL.value
        if invitation.first_opened_at is None:
            invitation.first_opened_at = now
        record_event(
            session,
            "response.start",
            actor=ACTOR,
            object_type="response",
            object_id=response.id,
            campaign_id=campaign.id,
            summary={"invitation_id": invitation.id, "is_test": invitation.is_test},
        )
    else:
        response.answers = answers
        response.language = lang
        response.revision = current_revision + 1
        response.updated_at = now

    if following is None:
        missing = first_incomplete_page(questionnaire, answers)
        if missing is not None:
            response.current_page = missing
            session.flush()
            return PageOutcome(Outcome.ELSEWHERE, page=missing, response=response)
        return _complete(session, invitation, response, questionnaire, now=now)
    response.current_page = following
    session.flush()
    return PageOutcome(Outcome.SAVED, page=following, response=response)


def _complete(
    session: Session,
    invitation: Invitation,
    response: Response,
    questionnaire: Questionnaire,
    *,
    now: datetime,
) -> PageOutcome:
    response.status = ResponseStatus.COMPLETE.value
    response.completed_at = now
    response.updated_at = now
    invitation.disposition = Disposition.COMPLETE.value
    invitation.completed_at = now
    session.flush()
    # Test invitations are a manager's preview: their follow-ups would put a fictitious customer
    # in the managers' callback queue, so none are created.
    follow_ups = [] if invitation.is_test else follow_ups_for(questionnaire, response.answers)
    for kind, channel in follow_ups:
        session.add(
            FollowUp(
                campaign_id=invitation.campaign_id,
                response_id=response.id,
                kind=kind,
                preferred_channel=channel,
                created_at=now,
            )
        )
    session.flush()
    record_event(
        session,
        "response.complete",
        actor=ACTOR,
        object_type="response",
        object_id=response.id,
        campaign_id=invitation.campaign_id,
        summary={
            "invitation_id": invitation.id,
            "is_test": invitation.is_test,
            "follow_ups": [kind for kind, _ in follow_ups],
        },
        at=now,
    )
    return PageOutcome(Outcome.COMPLETE, response=response)


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
    session: Session, invitation_id: int, *, now: datetime | None = None
) -> bool:
    """Stamp the first time the link was opened (for fieldwork figures); True when this call
    stamped it. An earlier stamp is never replaced, even by a concurrent first opening."""
    result = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.first_opened_at.is_(None))
        .values(first_opened_at=now or utcnow())
        .execution_options(synchronize_session=False)
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
