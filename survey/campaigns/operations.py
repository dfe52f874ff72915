"""Campaign service functions: each checks the state, records an AuditEvent and flushes.

The command or request that calls them commits once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.clients.scope import ALL_CLIENTS
from survey.models import Campaign, CampaignStatus, Channel, Programme, QuestionnaireVersion

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,98}[a-z0-9]$")


class CampaignError(ValueError):
    """A request the campaign's data or state does not allow, with the reason."""


def get_campaign(session: Session, slug: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise CampaignError(f"no campaign with slug {slug!r}")
    return campaign


def get_or_create_programme(session: Session, name: str, *, actor: str) -> Programme:
    name = name.strip()
    if not name:
        raise CampaignError("the programme needs a name")
    programme = session.scalar(select(Programme).where(Programme.name == name))
    if programme is None:
        programme = Programme(name=name)
        session.add(programme)
        session.flush()
        record_event(
            session,
            "programme.create",
            actor=actor,
            object_type="programme",
            object_id=programme.id,
            summary={"name": name},
        )
    return programme


def freeze_questionnaire(session: Session, key: str, *, actor: str) -> QuestionnaireVersion:
    """The frozen version a campaign uses for `key`: a template (frozen the first time its
    content is seen), a questionnaire of the centre (its latest version) or `KEY@N`."""
    from survey.editor.operations import EditorError, resolve_questionnaire

    try:
        return resolve_questionnaire(session, key, actor=actor)
    except EditorError as exc:
        raise CampaignError(str(exc)) from exc


def create_campaign(
    session: Session,
    slug: str,
    *,
    programme: str,
    year: int,
    questionnaire_key: str,
    channels: Sequence[str] = ("email",),
    actor: str,
) -> Campaign:
    if not SLUG.match(slug):
        raise CampaignError(f"slug {slug!r} must be 2–100 lowercase letters, digits or hyphens")
    # Campaign slugs are unique in the installation: another client's counts too.
    if session.scalar(select(Campaign.id).where(Campaign.slug == slug)
                      .execution_options(**{ALL_CLIENTS: True})) is not None:
        raise CampaignError(f"a campaign with slug {slug!r} already exists")
    if not 2000 <= year <= 2200:
        raise CampaignError(f"year {year} is out of range")
    unknown = sorted(set(channels) - {c.value for c in Channel})
    if unknown or not channels:
        raise CampaignError(f"channels must be email and/or sms, not {unknown or 'none'}")
    campaign = Campaign(
        slug=slug,
        programme=get_or_create_programme(session, programme, actor=actor),
        year=year,
        questionnaire_version=freeze_questionnaire(session, questionnaire_key, actor=actor),
        channels=sorted(set(channels)),
        status=CampaignStatus.DRAFT.value,
    )
    session.add(campaign)
    session.flush()
    from survey.editor.operations import record_trend_check

    record_trend_check(session, campaign)
    record_event(
        session,
        "campaign.create",
        actor=actor,
        object_type="campaign",
        object_id=campaign.id,
        campaign_id=campaign.id,
        summary={
            "slug": slug,
            "year": year,
            "questionnaire": questionnaire_key,
            "channels": campaign.channels,
        },
    )
    return campaign


#: Reminders the scheduler sends at most (`survey.distribution.operations.MAX_REMINDERS`), and
#: the latest day one may come: after that, the fieldwork has usually ended.
MAX_REMINDER_DAY = 60


class ReminderDaysError(CampaignError):
    """Reminder days that cannot be used; `reason` and `params` let a page say why in the
    reader's language (`survey.campaigns.forms.REMINDER_PROBLEMS`)."""

    def __init__(self, reason: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params


def parse_reminder_days(text: str) -> list[int]:
    """"7, 14" → [7, 14]; empty → no reminder. Days count from the invitation's sending, are
    whole, at least 1 and at most `MAX_REMINDER_DAY`, strictly ascending, and at most
    `MAX_REMINDERS` of them (`ReminderDaysError` says which rule a value breaks)."""
    from survey.distribution.operations import MAX_REMINDERS

    days: list[int] = []
    for raw in (part.strip() for part in re.split(r"[,;\s]+", text or "")):
        if not raw:
            continue
        if not re.fullmatch(r"[+-]?\d{1,6}", raw):
            raise ReminderDaysError("not_a_number", f"{raw!r} is not a whole number of days",
                                    value=raw)
        day = int(raw)
        if day < 1:
            raise ReminderDaysError(
                "not_positive", f"a reminder comes at least 1 day after the invitation, not "
                f"{day}", value=day)
        if day > MAX_REMINDER_DAY:
            raise ReminderDaysError(
                "too_late", f"a reminder comes at most {MAX_REMINDER_DAY} days after the "
                f"invitation, not {day}", value=day, max=MAX_REMINDER_DAY)
        if days and day <= days[-1]:
            raise ReminderDaysError(
                "not_ascending", f"the days must be in ascending order, each after the one "
                f"before: {day} comes after {days[-1]}", value=day, previous=days[-1])
        days.append(day)
    if len(days) > MAX_REMINDERS:
        raise ReminderDaysError("too_many", f"at most {MAX_REMINDERS} reminders, not "
                                f"{len(days)}", count=len(days), max=MAX_REMINDERS)
    return days


def set_reminder_days(session: Session, campaign: Campaign, days: Sequence[int] | str, *,
                      actor: str, actor_id: int | None = None) -> list[int]:
    """Set the days after its invitation at which each reminder of `campaign` is due; the
    workers' scheduler reads them at its next run (`survey.worker.tasks.queue_reminders`).
    Refused once the campaign is closed (its fieldwork is over)."""
    parsed = parse_reminder_days(days if isinstance(days, str)
                                 else ", ".join(str(day) for day in days))
    if campaign.status in (CampaignStatus.CLOSED.value, CampaignStatus.ARCHIVED.value):
        raise ReminderDaysError("closed", f"campaign {campaign.slug!r} is closed: its reminders "
                                "can no longer change", campaign=campaign.slug)
    before = list(campaign.reminder_days or [])
    campaign.reminder_days = parsed
    session.flush()
    record_event(session, "campaign.reminders", actor=actor, actor_id=actor_id,
                 object_type="campaign", object_id=campaign.id, campaign_id=campaign.id,
                 summary={"before": before, "after": parsed})
    return parsed
