"""Campaign service functions: each checks the state, records an AuditEvent and flushes.

The command or request that calls them commits once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.audit import record_event
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
    if session.scalar(select(Campaign.id).where(Campaign.slug == slug)) is not None:
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
