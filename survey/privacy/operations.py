"""Personal-data retention and erasure (GDPR art. 5(1)(e) and 17).

Personal data lives only in `Customer` (email, phone, name) and `Message.to_address`; the
statistics live in invitations (stratum, weight, snapshot, disposition) and responses. Purging
therefore blanks those columns and cuts `Invitation.customer_id`, and every number of the
report stays identical.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.models import Campaign, CampaignStatus, Customer, Invitation, Message, utcnow

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

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "campaigns": list(self.campaigns)}


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
) -> PurgeSummary:
    """Erase the personal data of campaigns closed for more than `retention_days` days.

    A customer is erased when, once the link is cut, no other campaign still in preparation or
    in fieldwork has invited them. With `dry_run`, count what would go and change nothing.
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
    record_event(session, "privacy.purge", actor=actor, object_type="campaign",
                 summary={**summary.as_dict(), "retention_days": retention_days})
    return summary


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
