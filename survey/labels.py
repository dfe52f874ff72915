"""Every internal code a person could read, with its label in the page's language.

Pages never print a stored code (`opted_out`, `in_progress`, `neyman`): they print
`label(value)` (or `value|label` in a template), which finds the code's label here and translates
it. A code with no label prints as itself and is caught by the French-page test
(tests/survey/test_labels.py checks that every value of every enum below has a label, translated
in the French catalogue).

Other packages add their own codes with `register(kind, {code: lazy_gettext(...)})` at import.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from survey.models import (
    ActionStatus,
    CampaignStatus,
    Channel,
    Disposition,
    FollowUpKind,
    FollowUpStatus,
    JobKind,
    JobState,
    MessageKind,
    MessageState,
    ResponseStatus,
    Role,
)

__all__ = ["LABELS", "label", "labels_for", "register", "tone"]

# kind → code → label. A kind is an enum class's name or a free name for codes that are not enums.
LABELS: dict[str, dict[str, Any]] = {
    "Role": {
        Role.ADMIN: _l("Administrator"),
        Role.MANAGER: _l("Manager"),
        Role.AUDITOR: _l("Auditor"),
        Role.CLIENT_VIEWER: _l("Client viewer"),
    },
    "CampaignStatus": {
        CampaignStatus.DRAFT: _l("Draft"),
        CampaignStatus.SAMPLED: _l("Sample drawn"),
        CampaignStatus.OPEN: _l("Fieldwork open"),
        CampaignStatus.CLOSED: _l("Fieldwork closed"),
        CampaignStatus.ARCHIVED: _l("Archived"),
    },
    "Disposition": {
        Disposition.PENDING: _l("Not sent yet"),
        Disposition.SENT: _l("Sent"),
        Disposition.DELIVERED: _l("Delivered"),
        Disposition.BOUNCED: _l("Undeliverable"),
        Disposition.FAILED: _l("Could not be sent"),
        Disposition.OPTED_OUT: _l("Opted out"),
        Disposition.PARTIAL: _l("Started, not finished"),
        Disposition.COMPLETE: _l("Completed"),
        Disposition.INELIGIBLE: _l("Outside the target population"),
    },
    "Channel": {
        Channel.EMAIL: _l("Email"),
        Channel.SMS: _l("SMS"),
    },
    "MessageKind": {
        MessageKind.INVITATION: _l("Invitation"),
        MessageKind.REMINDER: _l("Reminder"),
    },
    "MessageState": {
        MessageState.QUEUED: _l("Waiting to be sent"),
        MessageState.SENDING: _l("Being sent"),
        MessageState.SENT: _l("Sent"),
        MessageState.DELIVERED: _l("Delivered"),
        MessageState.BOUNCED: _l("Undeliverable"),
        MessageState.FAILED: _l("Could not be sent"),
        MessageState.CANCELLED: _l("Not sent (no longer needed)"),
    },
    "ResponseStatus": {
        ResponseStatus.PARTIAL: _l("Started, not finished"),
        ResponseStatus.COMPLETE: _l("Completed"),
    },
    "FollowUpKind": {
        FollowUpKind.CALLBACK: _l("Callback request"),
        FollowUpKind.DETRACTOR: _l("Dissatisfied customer"),
    },
    "FollowUpStatus": {
        FollowUpStatus.OPEN: _l("To handle"),
        FollowUpStatus.IN_PROGRESS: _l("In progress"),
        FollowUpStatus.CLOSED: _l("Handled"),
    },
    "JobKind": {
        JobKind.CUSTOMER_IMPORT: _l("Customer base import"),
        JobKind.REPORT: _l("Report"),
        JobKind.SCHEDULED: _l("Scheduled task"),
        JobKind.AUDIT_PACK: _l("Auditor's pack"),
        JobKind.POSTER: _l("Poster"),
    },
    "JobState": {
        JobState.QUEUED: _l("Waiting"),
        JobState.RUNNING: _l("Running"),
        JobState.SUCCEEDED: _l("Finished"),
        JobState.FAILED: _l("Failed"),
    },
    "allocation": {
        "proportional": _l("Proportional"),
        "neyman": _l("Neyman (optimal)"),
        "equal": _l("Equal"),
    },
    # What the audit trail records (survey/audit.py `record_event`'s action and object type).
    "audit_action": {
        "user.create": _l("Account created"),
        "client.create": _l("Client created"),
        "client.update": _l("Client settings changed"),
        "user.login": _l("Signed in"),
        "user.deactivate": _l("Account deactivated"),
        "user.reactivate": _l("Account reactivated"),
        "user.role_change": _l("Role changed"),
        "user.clients": _l("Account's clients changed"),
        "client.switch": _l("Switched to another client"),
        "programme.create": _l("Programme created"),
        "customers.import": _l("Customer base imported"),
        "questionnaire.freeze": _l("Questionnaire version frozen"),
        "campaign.create": _l("Campaign created"),
        "campaign.plan": _l("Sample planned"),
        "campaign.draw": _l("Sample drawn"),
        "campaign.launch": _l("Campaign launched"),
        "campaign.close": _l("Fieldwork closed"),
        "campaign.reminders": _l("Reminders changed"),
        "report.generate": _l("Report generated"),
        "distribution.send": _l("Messages sent"),
        "distribution.opt_out": _l("Customer opted out"),
        "distribution.reminders": _l("Reminders queued"),
        "distribution.requeue": _l("Messages queued again"),
        "distribution.webhook": _l("Delivery news from the provider"),
        "invitation.test_link": _l("Test link created"),
        "response.start": _l("Questionnaire started"),
        "response.complete": _l("Questionnaire completed"),
        "privacy.erase": _l("Personal data erased"),
        "privacy.purge": _l("Personal data purged"),
        "job.start": _l("Background work started"),
        "job.finish": _l("Background work finished"),
        "job.requeue": _l("Background work queued again"),
        "user.logout": _l("Signed out"),
        "user.password_change": _l("Password changed"),
        "user.password_reset": _l("Password reset"),
        "user.password_reset_request": _l("Password reset requested"),
        "customers.declare_variable": _l("Survey variable declared"),
        "suppression.add": _l("Customer added to the do-not-contact list"),
        "campaign.calibration": _l("Weighting changed"),
        "campaign.export": _l("Data exported"),
        "campaign.audit_pack": _l("Auditor's pack generated"),
        "results.publish": _l("Results published"),
        "programme.method": _l("Survey method changed"),
        "results.withdraw": _l("Published results withdrawn"),
        "campaign.questionnaire": _l("Campaign's questionnaire changed"),
        "campaign.trend_check.confirm": _l("Year-on-year comparability confirmed"),
        "questionnaire.draft.create": _l("Questionnaire draft created"),
        "questionnaire.draft.change": _l("Questionnaire draft edited"),
        "questionnaire.draft.undo": _l("Questionnaire draft change undone"),
        "questionnaire.draft.delete": _l("Questionnaire draft deleted"),
        "programme.service_levels": _l("Follow-up service levels changed"),
        "follow_up.assign": _l("Follow-up assigned"),
        "follow_up.note": _l("Follow-up note added"),
        "follow_up.close": _l("Follow-up closed"),
        "follow_up.reopen": _l("Follow-up reopened"),
        "criterion.define": _l("Performance criterion defined"),
        "criterion.change": _l("Performance criterion changed"),
        "criteria.import": _l("Performance criteria imported"),
        "criteria.value": _l("Performance criterion value entered"),
        "improvement_action.create": _l("Improvement action recorded"),
        "improvement_action.change": _l("Improvement action changed"),
        "improvement_action.status": _l("Improvement action status changed"),
    },
    "object_type": {
        "user": _l("account"), "client": _l("client company"), "programme": _l("programme"),
        "customer_import": _l("import"),
        "questionnaire_version": _l("questionnaire version"), "campaign": _l("campaign"),
        "report": _l("report"), "batch": _l("batch"), "invitation": _l("invitation"),
        "response": _l("response"), "customer": _l("customer"), "message": _l("message"),
        "job": _l("job"), "webhook": _l("webhook"), "system": _l("system"),
        "questionnaire_draft": _l("questionnaire draft"), "survey_variable": _l("survey variable"),
        "suppression": _l("do-not-contact entry"), "follow_up": _l("follow-up"),
        "performance_criterion": _l("performance criterion"),
        "improvement_action": _l("improvement action"),
    },
    "ActionStatus": {
        ActionStatus.PLANNED: _l("Planned"),
        ActionStatus.IN_PROGRESS: _l("In progress"),
        ActionStatus.DONE: _l("Done"),
        ActionStatus.ABANDONED: _l("Abandoned"),
    },
    "quadrant": {
        "priority to improve": _l("Priority to improve"),
        "strength to keep": _l("Strength to keep"),
        "secondary": _l("Secondary"),
        "possible overkill": _l("Possible overkill"),
    },
    "language": {"fr": "Français", "en": "English"},
    "callback_channel": {"phone": _l("By phone"), "email": _l("By email")},
    "indicator_kind": {
        "mean": _l("Mean"),
        "proportion": _l("Share"),
        "nps": _l("Net Promoter Score"),
        "index": _l("Composite index"),
    },
}

# The enums whose every value must have a label (checked by the tests).
ENUMS: tuple[type[enum.Enum], ...] = (Role, CampaignStatus, Disposition, Channel, MessageKind,
                                      MessageState, ResponseStatus, FollowUpKind, FollowUpStatus,
                                      JobKind, JobState, ActionStatus)

# How a badge shows a status: "ok", "warn", "bad", "info" or "muted" (colour is never the only
# sign: the badge always carries its label).
TONES: dict[str, str] = {
    "draft": "muted", "sampled": "info", "open": "ok", "closed": "muted", "archived": "muted",
    "complete": "ok", "delivered": "ok", "succeeded": "ok", "in_progress": "info",
    "running": "info", "queued": "muted", "pending": "muted", "partial": "warn",
    "bounced": "bad", "failed": "bad", "opted_out": "warn", "cancelled": "muted",
    "planned": "muted", "done": "ok", "abandoned": "muted", "overdue": "bad",
}


def register(kind: str, labels: Mapping[str, Any]) -> None:
    """Add (or replace) the labels of one kind of code, from another package."""
    LABELS.setdefault(kind, {}).update({str(code): text for code, text in labels.items()})


def _find(value: Any, kind: str | None) -> Any | None:
    if isinstance(value, enum.Enum):
        kind = kind or type(value).__name__
        value = value.value
    code = str(value)
    if kind is not None:
        return LABELS.get(kind, {}).get(code)
    for labels in LABELS.values():
        if code in labels:
            return labels[code]
    return None


def label(value: Any, kind: str | None = None) -> str:
    """The translated label of a code (an enum member or its stored value).

    `kind` says which list to look in when the same code means different things (a message's
    `sent` and an invitation's); without it the first list that knows the code answers.
    A code nobody labelled is returned as it is.
    """
    if value is None or value == "":
        return "–"
    found = _find(value, kind)
    return str(found) if found is not None else str(value)


def labels_for(values: Any, kind: str | None = None, separator: str = ", ") -> str:
    """Several codes as one readable list (`Email, SMS`), never a Python list's repr."""
    return separator.join(label(value, kind) for value in (values or []))


def tone(value: Any) -> str:
    """The badge tone of a status code."""
    code = value.value if isinstance(value, enum.Enum) else str(value)
    return TONES.get(code, "info")


def register_filters(app: Any) -> None:
    app.jinja_env.filters.update(label=label, labels=labels_for, tone=tone)
    app.jinja_env.globals.update(label=label)
