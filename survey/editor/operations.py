"""Questionnaires of the centre: drafts, frozen versions, files, and comparability.

A *template* is a definition bundled with barometre (``nf-relation-client``): read-only, copied
to start. A *draft* is definition data being written in the editor, saved even when invalid. A
*version* is a frozen copy (canonical JSON and its SHA-256) made from a valid draft or an
imported file; campaigns point to versions, and nobody changes one. Keys of drafts and versions
are the questionnaire's ``id``; a template's key is refused, so that a key names one thing.

Service functions flush and record an AuditEvent; the request or command commits once.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from questionnaires import (
    DefinitionError,
    DefinitionInvalid,
    Questionnaire,
    canonical_json,
    check_definition,
    definition_data,
    definition_sha256,
    definition_yaml,
    get_bundled,
    list_bundled,
    load_definition,
)
from questionnaires.compare import comparability
from questionnaires.problems import Problem
from survey.audit import record_event
from survey.editor import edits
from survey.models import Campaign, CampaignStatus, QuestionnaireDraft, QuestionnaireVersion

KEY_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class EditorError(Problem):
    """A request about questionnaires that cannot be done: the English message (the command
    line's), its ``reason`` code and values (a page's words, `survey.editor.problems`);
    ``errors`` holds the definition's problems when that is the reason."""

    def __init__(self, message: str, errors: list[DefinitionError] | None = None, *,
                 reason: str = "refused", **params: Any) -> None:
        super().__init__(message, reason, **params)
        self.errors = errors or []


# --- reading ----------------------------------------------------------------------------------


def template_keys() -> list[str]:
    return [bundled.key for bundled in list_bundled()]


def get_draft(session: Session, key: str) -> QuestionnaireDraft:
    draft = session.scalar(select(QuestionnaireDraft).where(QuestionnaireDraft.key == key))
    if draft is None:
        raise EditorError(f"no questionnaire draft '{key}'", reason="no_draft", key=key)
    return draft


def list_drafts(session: Session) -> list[QuestionnaireDraft]:
    return list(session.scalars(select(QuestionnaireDraft).order_by(QuestionnaireDraft.key)))


def list_versions(session: Session, key: str | None = None) -> list[QuestionnaireVersion]:
    """Frozen versions (of ``key``, or of every questionnaire), by key then newest first."""
    query = select(QuestionnaireVersion).order_by(
        QuestionnaireVersion.key, QuestionnaireVersion.number.desc()
    )
    if key is not None:
        query = query.where(QuestionnaireVersion.key == key)
    return list(session.scalars(query))


def get_version(session: Session, key: str, number: int | None = None) -> QuestionnaireVersion:
    """Version ``number`` of ``key``, or its latest."""
    query = select(QuestionnaireVersion).where(QuestionnaireVersion.key == key)
    if number is None:
        query = query.order_by(QuestionnaireVersion.number.desc()).limit(1)
    else:
        query = query.where(QuestionnaireVersion.number == number)
    version = session.scalar(query)
    if version is None:
        which = f"version {number} of " if number is not None else ""
        raise EditorError(f"no {which}questionnaire '{key}' has been frozen",
                          reason="no_version" if number is None else "no_version_number",
                          key=key, number=number)
    return version


def version_questionnaire(version: QuestionnaireVersion) -> Questionnaire:
    return Questionnaire.from_canonical_json(version.definition)


def check_draft(draft: QuestionnaireDraft) -> tuple[Questionnaire | None, list[DefinitionError]]:
    """The draft checked by the schema: the same problems `questionnaires validate` reports."""
    return check_definition(draft.data, draft.key)


# --- drafts -----------------------------------------------------------------------------------


def _check_new_key(session: Session, key: str) -> None:
    if not re.match(KEY_PATTERN, key) or len(key) > 64:
        raise EditorError(
            f"'{key}' cannot be a questionnaire's key: use lower-case letters, digits and '-' "
            "(at most 64)", reason="bad_draft_key", key=key,
        )
    if key in template_keys():
        raise EditorError(f"'{key}' is the key of a template; give the copy a key of its own",
                          reason="template_key", key=key)
    if session.scalar(select(QuestionnaireDraft.id).where(QuestionnaireDraft.key == key)):
        raise EditorError(f"a draft '{key}' already exists", reason="draft_exists", key=key)


def create_draft(
    session: Session, key: str, *, data: dict[str, Any], actor: str, source: str
) -> QuestionnaireDraft:
    """A new draft holding ``data`` under ``key`` (its ``id`` is set to the key). ``source``
    says where it came from, for the audit trail."""
    _check_new_key(session, key)
    data = {**data, "id": key}
    draft = QuestionnaireDraft(key=key, data=data, created_by=actor, updated_by=actor)
    session.add(draft)
    session.flush()
    record_event(session, "questionnaire.draft.create", actor=actor,
                 object_type="questionnaire_draft", object_id=draft.id,
                 summary={"key": key, "source": source})
    return draft


def draft_from_template(
    session: Session, template: str, key: str, *, actor: str
) -> QuestionnaireDraft:
    try:
        questionnaire = get_bundled(template)
    except KeyError as error:
        raise EditorError(str(error), reason="unknown_template", key=template) from None
    return create_draft(session, key, data=_json_ready(definition_data(questionnaire)),
                        actor=actor, source=f"template:{template}")


def draft_from_version(
    session: Session, version: QuestionnaireVersion, key: str | None = None, *, actor: str
) -> QuestionnaireDraft:
    """A draft from a frozen version: of the same key (to write its next version; refused while
    a draft of that key exists) or of a new one ("new from last year's questionnaire")."""
    data = _json_ready(definition_data(version_questionnaire(version)))
    return create_draft(session, key or version.key, data=data, actor=actor,
                        source=f"version:{version.key}:{version.number}")


def _json_ready(data: dict[str, Any]) -> dict[str, Any]:
    # The JSON column would turn a scale's integer keys into text on its own; doing it here
    # keeps the draft the same before and after it is saved.
    return json.loads(json.dumps(data, ensure_ascii=False))


def change_draft(
    session: Session, draft: QuestionnaireDraft, data: dict[str, Any], *, label: str, actor: str
) -> QuestionnaireDraft:
    """Save ``data`` as the draft, keeping what it held before for one undo."""
    data = _json_ready({**data, "id": draft.key})
    if data == draft.data:
        return draft
    draft.undo, draft.undo_label = draft.data, label[:200]
    draft.data = data
    draft.updated_by = actor
    draft.updated_at = datetime.now(UTC)
    session.flush()
    record_event(session, "questionnaire.draft.change", actor=actor,
                 object_type="questionnaire_draft", object_id=draft.id,
                 summary={"key": draft.key, "change": label[:200]})
    return draft


def undo_last_change(session: Session, draft: QuestionnaireDraft, *, actor: str) -> str:
    """Take back the draft's last change; returns what it was."""
    if draft.undo is None:
        raise EditorError("there is no change to undo", reason="nothing_to_undo")
    label = draft.undo_label or ""
    draft.data, draft.undo, draft.undo_label = draft.undo, None, None
    draft.updated_by = actor
    draft.updated_at = datetime.now(UTC)
    session.flush()
    record_event(session, "questionnaire.draft.undo", actor=actor,
                 object_type="questionnaire_draft", object_id=draft.id,
                 summary={"key": draft.key, "change": label})
    return label


def delete_draft(session: Session, draft: QuestionnaireDraft, *, actor: str) -> None:
    record_event(session, "questionnaire.draft.delete", actor=actor,
                 object_type="questionnaire_draft", object_id=draft.id,
                 summary={"key": draft.key})
    session.delete(draft)
    session.flush()


def apply_edit(
    session: Session, draft: QuestionnaireDraft, edit: Any, *args: Any, label: str, actor: str
) -> QuestionnaireDraft:
    """Make one change of `survey.editor.edits` to the draft (``edit(data, *args)``)."""
    try:
        data = edit(draft.data, *args)
    except edits.EditError as error:
        raise EditorError(str(error), reason=error.reason, **error.params) from None
    return change_draft(session, draft, data, label=label, actor=actor)


# --- versions ---------------------------------------------------------------------------------


def freeze(session: Session, questionnaire: Questionnaire, *, actor: str) -> QuestionnaireVersion:
    """The frozen copy of a valid ``questionnaire``: the existing version with the same content,
    or a new one numbered after the last of its key."""
    sha256 = definition_sha256(questionnaire)
    version = session.scalar(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.key == questionnaire.id, QuestionnaireVersion.sha256 == sha256
        )
    )
    if version is not None:
        return version
    version = QuestionnaireVersion(
        key=questionnaire.id,
        version=str(questionnaire.version),
        title=questionnaire.text("title", questionnaire.languages[0])[:300],
        sha256=sha256,
        definition=canonical_json(questionnaire).decode("utf-8"),
        created_by=actor,
    )
    session.add(version)
    session.flush()
    record_event(session, "questionnaire.freeze", actor=actor,
                 object_type="questionnaire_version", object_id=version.id,
                 summary={"key": version.key, "number": version.number, "sha256": sha256})
    return version


def freeze_draft(
    session: Session, draft: QuestionnaireDraft, *, actor: str
) -> QuestionnaireVersion:
    """Freeze a valid draft as a version; a draft with errors is refused with them."""
    questionnaire, errors = check_draft(draft)
    if questionnaire is None:
        count = len(errors)
        raise EditorError(
            f"the draft '{draft.key}' has {count} error{'s' if count > 1 else ''}: "
            "correct them before freezing it",
            errors, reason="draft_has_errors", count=count,
        )
    return freeze(session, questionnaire, actor=actor)


def import_definition(
    session: Session, source: str | os.PathLike[str] | bytes, *, actor: str
) -> tuple[QuestionnaireVersion, bool]:
    """Freeze a definition file (or YAML text) as a version of its ``id``; returns the version
    and whether it is new. Raises DefinitionInvalid listing every problem."""
    questionnaire = load_definition(source)
    if questionnaire.id in template_keys():
        raise EditorError(
            f"'{questionnaire.id}' is the key of a template; give the questionnaire an id of "
            "its own", reason="template_key", key=questionnaire.id,
        )
    before = session.scalar(select(func.count(QuestionnaireVersion.id)))
    version = freeze(session, questionnaire, actor=actor)
    return version, session.scalar(select(func.count(QuestionnaireVersion.id))) != before


def export_yaml(session: Session, key: str, number: int | None = None) -> str:
    """A version (the latest by default) or a template as a YAML definition file."""
    if key in template_keys() and number is None:
        questionnaire = get_bundled(key)
    else:
        questionnaire = version_questionnaire(get_version(session, key, number))
    return definition_yaml(definition_data(questionnaire))


def resolve_questionnaire(session: Session, reference: str, *, actor: str
                          ) -> QuestionnaireVersion:
    """The version a campaign uses for ``reference``: a template's key (frozen on first use),
    a questionnaire's key (its latest version) or ``KEY@N`` (version N)."""
    key, _, number = reference.partition("@")
    if number:
        if not number.isdigit():
            raise EditorError(f"'{reference}': the version after '@' is a number",
                              reason="bad_version_number", reference=reference)
        return get_version(session, key, int(number))
    if key in template_keys():
        return freeze(session, get_bundled(key), actor=actor)
    try:
        return get_version(session, key)
    except EditorError:
        known = ", ".join(sorted({*template_keys(), *_version_keys(session)}))
        hint = " (a draft must be frozen first)" if _has_draft(session, key) else ""
        raise EditorError(
            f"no questionnaire '{key}'{hint}; known: {known or 'none'}",
            reason="draft_not_frozen" if hint else "unknown_questionnaire", key=key,
        ) from None


def _version_keys(session: Session) -> list[str]:
    return list(session.scalars(select(QuestionnaireVersion.key).distinct()))


def _has_draft(session: Session, key: str) -> bool:
    return session.scalar(
        select(QuestionnaireDraft.id).where(QuestionnaireDraft.key == key)
    ) is not None


# --- campaigns and comparability --------------------------------------------------------------


@dataclass(frozen=True)
class QuestionnaireChoice:
    """A questionnaire a campaign can use: its reference (`resolve_questionnaire`) and label."""

    reference: str
    label: str


def campaign_choices(session: Session) -> list[QuestionnaireChoice]:
    choices = [QuestionnaireChoice(b.key, f"{b.title} ({b.key}, {b.version})")
               for b in list_bundled()]
    for version in list_versions(session):
        if version.key in template_keys():
            continue
        choices.append(QuestionnaireChoice(
            f"{version.key}@{version.number}",
            f"{version.title} ({version.key}, {version.version}, n° {version.number})",
        ))
    return choices


def previous_campaign(session: Session, campaign: Campaign) -> Campaign | None:
    """The programme's campaign before this one (the latest earlier year)."""
    return session.scalar(
        select(Campaign)
        .where(Campaign.programme_id == campaign.programme_id, Campaign.year < campaign.year,
               Campaign.id != campaign.id)
        .order_by(Campaign.year.desc(), Campaign.id.desc())
        .limit(1)
    )


def record_trend_check(session: Session, campaign: Campaign) -> dict[str, Any] | None:
    """Compare the campaign's questionnaire with the previous campaign's and keep the result on
    the campaign (unconfirmed while it breaks a trend); None for a programme's first campaign."""
    previous = previous_campaign(session, campaign)
    if previous is None:
        campaign.trend_check = None
        return None
    before = version_questionnaire(previous.questionnaire_version)
    after = version_questionnaire(campaign.questionnaire_version)
    breaks = [item.as_dict() for item in comparability(before, after)]
    campaign.trend_check = {
        "previous_campaign": previous.slug,
        "previous_sha256": previous.questionnaire_version.sha256,
        "sha256": campaign.questionnaire_version.sha256,
        "breaks": breaks,
        "confirmed_by": None,
        "confirmed_at": None,
    }
    session.flush()
    return campaign.trend_check


def confirm_trend_check(session: Session, campaign: Campaign, *, actor: str) -> None:
    """The manager confirms the items whose trend is broken (the report says which, and why)."""
    check = campaign.trend_check
    if not check:
        raise EditorError(f"campaign {campaign.slug} has no previous campaign to compare with",
                          reason="no_previous_campaign", campaign=campaign.slug)
    campaign.trend_check = {**check, "confirmed_by": actor,
                            "confirmed_at": datetime.now(UTC).isoformat(timespec="seconds")}
    session.flush()
    record_event(session, "campaign.trend_check.confirm", actor=actor, object_type="campaign",
                 object_id=campaign.id, campaign_id=campaign.id,
                 summary={"previous": check["previous_campaign"],
                          "breaks": [item["code"] for item in check["breaks"]]})


def publish_version(
    session: Session, campaign: Campaign, version: QuestionnaireVersion, *, actor: str
) -> Campaign:
    """Give a campaign in draft this questionnaire version (a launched one keeps its own)."""
    if campaign.status != CampaignStatus.DRAFT.value:
        raise EditorError(
            f"campaign {campaign.slug} is {campaign.status}: only a campaign in draft can change "
            "its questionnaire", reason="campaign_launched", campaign=campaign.slug,
        )
    campaign.questionnaire_version = version
    session.flush()
    record_trend_check(session, campaign)
    record_event(session, "campaign.questionnaire", actor=actor, object_type="campaign",
                 object_id=campaign.id, campaign_id=campaign.id,
                 summary={"key": version.key, "number": version.number,
                          "sha256": version.sha256})
    return campaign


__all__ = [
    "DefinitionInvalid",
    "EditorError",
    "QuestionnaireChoice",
    "apply_edit",
    "campaign_choices",
    "change_draft",
    "check_draft",
    "confirm_trend_check",
    "create_draft",
    "delete_draft",
    "draft_from_template",
    "draft_from_version",
    "export_yaml",
    "freeze",
    "freeze_draft",
    "get_draft",
    "get_version",
    "import_definition",
    "list_drafts",
    "list_versions",
    "previous_campaign",
    "publish_version",
    "record_trend_check",
    "resolve_questionnaire",
    "undo_last_change",
    "version_questionnaire",
]
