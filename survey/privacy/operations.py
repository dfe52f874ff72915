"""Personal-data retention and erasure (GDPR art. 5(1)(e) and 17).

Personal data lives in `Customer` (email, phone, name), `Message.to_address`, the outbox files
of the demo backend, and whatever customers wrote in free text (comments, follow-up notes); the
statistics live in invitations (stratum, weight, snapshot of the declared survey variables,
disposition) and responses. Purging therefore blanks those columns, removes those files, stores
free text as reports and exports show it (emails and phone numbers masked, by
`survey.privacy.masking`) and cuts `Invitation.customer_id`, and every number of the report and
every cell of the export stays identical.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.models import (
    Campaign,
    CampaignStatus,
    Customer,
    FollowUp,
    FollowUpNote,
    Invitation,
    Message,
    Response,
    utcnow,
)
from survey.privacy.masking import mask_personal_data

DEFAULT_RETENTION_DAYS = 90
# Campaigns whose contacts are still needed: their customers are never erased by a purge.
_LIVE = (CampaignStatus.DRAFT, CampaignStatus.SAMPLED, CampaignStatus.OPEN)


class ErasureError(ValueError):
    """An erasure request that names no customer, or more than one way."""


@dataclass(frozen=True)
class PurgeSummary:
    campaigns: tuple[str, ...]
    messages_blanked: int
    invitations_unlinked: int
    customers_erased: int
    texts_redacted: int = 0
    outbox_files_removed: int = 0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "campaigns": list(self.campaigns)}


def retention_days_of(session: Session, client_id: int | None, default: int) -> int:
    """The retention period of a client: its own when set (each client is the controller of
    its customers' data), else the installation's `default`."""
    from survey.models import Client

    if client_id is None:
        return default
    own = session.scalar(select(Client.retention_days).where(Client.id == client_id))
    return own if own is not None else default


def purge_every_client(session: Session, *, default_days: int, now: datetime | None = None,
                       actor: str, outbox_folder: Path | str | None = None
                       ) -> dict[str, tuple[int, PurgeSummary]]:
    """Purge each client's campaigns with that client's retention period, one client's scope
    at a time; returns {client slug: (days, summary)}."""
    from survey.clients.scope import client_scope
    from survey.models import Client

    done = {}
    for client_id, slug, own in session.execute(
            select(Client.id, Client.slug, Client.retention_days).order_by(Client.slug)):
        days = own if own is not None else default_days
        with client_scope(client_id):
            done[slug] = (days, purge_personal_data(session, retention_days=days, now=now,
                                                    actor=actor, outbox_folder=outbox_folder))
    return done


def purgeable_campaigns(session: Session, now: datetime, retention_days: int) -> list[Campaign]:
    cutoff = now - timedelta(days=retention_days)
    return list(
        session.scalars(
            select(Campaign)
            .where(
                Campaign.status.in_([CampaignStatus.CLOSED, CampaignStatus.ARCHIVED]),
                Campaign.closed_at <= cutoff,
                Campaign.purged_at.is_(None),
            )
            .order_by(Campaign.closed_at)
        )
    )


def purge_personal_data(
    session: Session,
    *,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    now: datetime | None = None,
    dry_run: bool = False,
    actor: str,
    outbox_folder: Path | str | None = None,
) -> PurgeSummary:
    """Erase the personal data of campaigns closed for more than `retention_days` days.

    A customer is erased when, once the link is cut, no other campaign still in preparation or
    in fieldwork has invited them. Free-text answers and follow-up notes of those campaigns are
    stored masked, as reports show them; the outbox files of their messages are removed from
    `outbox_folder` when given. With `dry_run`, count what would go and change nothing.
    """
    if retention_days < 0:
        raise ValueError(f"the retention period must be zero or more days, not {retention_days}")
    now = now or utcnow()
    campaigns = purgeable_campaigns(session, now, retention_days)
    ids = [campaign.id for campaign in campaigns]
    if not ids:
        return PurgeSummary((), 0, 0, 0)

    message_filter = (Message.campaign_id.in_(ids), Message.to_address.is_not(None))
    invited = select(Invitation.customer_id).where(
        Invitation.campaign_id.in_(ids), Invitation.customer_id.is_not(None)
    )
    still_needed = exists().where(
        Invitation.customer_id == Customer.id,
        Invitation.campaign_id == Campaign.id,
        Campaign.status.in_(_LIVE),
    )
    to_erase = select(Customer.id).where(
        Customer.id.in_(invited), Customer.erased_at.is_(None), ~still_needed
    )
    summary = PurgeSummary(
        campaigns=tuple(campaign.slug for campaign in campaigns),
        messages_blanked=session.scalar(select(func.count()).where(*message_filter)) or 0,
        invitations_unlinked=session.scalar(select(func.count()).select_from(invited.subquery()))
        or 0,
        customers_erased=session.scalar(select(func.count()).select_from(to_erase.subquery()))
        or 0,
    )
    if dry_run:
        return summary

    erase_ids = list(session.scalars(to_erase))
    outbox_files = _outbox_files(session, ids, outbox_folder)
    redacted = _redact_free_text(session, campaigns)
    for campaign in campaigns:
        invited_on = (campaign.launched_at or campaign.closed_at or now).date()
        session.execute(
            update(Customer)
            .where(Customer.id.in_(
                select(Invitation.customer_id).where(Invitation.campaign_id == campaign.id)
            ))
            .where((Customer.last_invited_on.is_(None)) | (Customer.last_invited_on < invited_on))
            .values(last_invited_on=invited_on)
        )
    session.execute(update(Message).where(*message_filter).values(to_address=None))
    session.execute(
        update(Invitation).where(Invitation.campaign_id.in_(ids)).values(customer_id=None)
    )
    if erase_ids:
        session.execute(
            update(Customer)
            .where(Customer.id.in_(erase_ids))
            .values(email=None, phone=None, name=None, erased_at=now)
        )
    for campaign in campaigns:
        campaign.purged_at = now
    session.flush()
    removed = 0
    for path in outbox_files:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    summary = PurgeSummary(summary.campaigns, summary.messages_blanked,
                           summary.invitations_unlinked, summary.customers_erased,
                           texts_redacted=redacted, outbox_files_removed=removed)
    record_event(session, "privacy.purge", actor=actor, object_type="campaign",
                 summary={**summary.as_dict(), "retention_days": retention_days})
    return summary


def _outbox_files(
    session: Session, campaign_ids: list[int], folder: Path | str | None
) -> list[Path]:
    """The outbox files (recipients, personal links) of the campaigns' messages."""
    if folder is None:
        return []
    folder = Path(folder)
    names = session.scalars(
        select(Message.provider_id).where(
            Message.campaign_id.in_(campaign_ids), Message.provider_id.like("outbox:%")
        )
    )
    paths = []
    for provider_id in names:
        name = Path(provider_id.partition(":")[2]).name  # a file of the folder, never elsewhere
        if name:
            paths.append(folder / name)
    return paths


def _text_codes(campaign: Campaign) -> set[str] | None:
    """The codes of the questionnaire's free-text questions; None when it cannot be read (then
    every text answer is masked: a choice's code never looks like an email or a number)."""
    from questionnaires.schema import Questionnaire

    try:
        questionnaire = Questionnaire.from_canonical_json(
            campaign.questionnaire_version.definition
        )
    except ValueError:
        return None
    return {entry["code"] for entry in questionnaire.data_dictionary("en")
            if entry["type"] == "text"}


def _redact_free_text(session: Session, campaigns: list[Campaign]) -> int:
    """Store the campaigns' free-text answers and follow-up notes masked; how many changed.

    Masking is idempotent, so the report and the export, which mask the same text, stay
    identical.
    """
    changed = 0
    for campaign in campaigns:
        codes = _text_codes(campaign)
        rows = session.execute(
            select(Response.id, Response.answers)
            .join(Invitation, Response.invitation_id == Invitation.id)
            .where(Invitation.campaign_id == campaign.id)
        ).all()
        for response_id, answers in rows:
            answers = answers if isinstance(answers, dict) else json.loads(answers or "{}")
            masked = {
                code: mask_personal_data(value)
                if (codes is None or code in codes) and isinstance(value, str) else value
                for code, value in answers.items()
            }
            if masked != answers:
                session.execute(
                    update(Response).where(Response.id == response_id).values(answers=masked)
                )
                changed += 1
        for note_id, body in session.execute(
            select(FollowUpNote.id, FollowUpNote.body)
            .join(FollowUp, FollowUp.id == FollowUpNote.follow_up_id)
            .where(FollowUp.campaign_id == campaign.id)
        ):
            masked_body = mask_personal_data(body)
            if masked_body != body:
                session.execute(
                    update(FollowUpNote).where(FollowUpNote.id == note_id)
                    .values(body=masked_body)
                )
                changed += 1
    return changed


def erase_customer(
    session: Session,
    *,
    secret_key: str,
    external_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    actor: str,
) -> int:
    """Erase one customer wherever they appear; return how many customer rows were erased.

    The customer row is deleted (invitations keep their statistics with no link), their
    messages lose the address, and their contacts are suppressed so that a later import
    does not bring them back into a sample. The audit event holds no personal data.
    """
    from survey.frame.suppressions import add_suppression, normalise_email, normalise_phone

    given = [v for v in (external_id, email, phone) if v]
    if len(given) != 1:
        raise ErasureError("name the customer by exactly one of external id, email or phone")
    if external_id:
        condition = Customer.external_id == external_id
    elif email:
        condition = Customer.email == normalise_email(email)
    else:
        condition = Customer.phone == normalise_phone(phone or "")
    customers = list(session.scalars(select(Customer).where(condition)))
    for customer in customers:
        for kind, value in (("email", customer.email), ("phone", customer.phone)):
            if value:
                add_suppression(session, kind, value, "erasure", "erasure request", secret_key,
                                actor=actor)
        invitation_ids = select(Invitation.id).where(Invitation.customer_id == customer.id)
        session.execute(
            update(Message).where(Message.invitation_id.in_(invitation_ids))
            .values(to_address=None)
        )
        session.execute(
            update(Invitation).where(Invitation.customer_id == customer.id)
            .values(customer_id=None)
        )
        record_event(session, "privacy.erase", actor=actor, object_type="customer",
                     object_id=customer.id)
        session.delete(customer)
    session.flush()
    return len(customers)
