"""Distribution service functions: launch, close, reminders, opt-outs and dispositions.

Each takes the session and explicit arguments, records an AuditEvent (never personal data) and
flushes; the command or request that calls it commits once.

Dispositions only move forward: an invitation that was answered is never set back to `sent` by
a late provider event, and a delivery report never undoes a bounce.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from survey.audit import record_event
from survey.campaigns.operations import CampaignError
from survey.distribution.sms_window import DEFAULT_SMS_WINDOW, SmsWindow
from survey.frame.suppressions import add_suppression, contact_hash
from survey.models import (
    Campaign,
    CampaignStatus,
    Channel,
    Customer,
    Disposition,
    Invitation,
    Message,
    MessageKind,
    MessageState,
    Suppression,
    utcnow,
)

DEFAULT_FIELDWORK_DAYS = 28
MAX_REMINDERS = 2

D = Disposition
# Which dispositions each new one may replace: the order in which a case can only advance.
ADVANCES_FROM: dict[str, tuple[str, ...]] = {
    D.SENT: (D.PENDING,),
    D.DELIVERED: (D.PENDING, D.SENT),
    D.BOUNCED: (D.PENDING, D.SENT, D.DELIVERED),
    D.FAILED: (D.PENDING, D.SENT),
    # A partial interview stays a partial interview (AAPOR P) even if the customer opts out.
    D.OPTED_OUT: (D.PENDING, D.SENT, D.DELIVERED, D.BOUNCED, D.FAILED),
}
# No reminder to these: answered, refused, unreachable, out of scope.
NO_REMINDER = (D.COMPLETE, D.OPTED_OUT, D.BOUNCED, D.FAILED, D.INELIGIBLE, D.PENDING)


class DistributionError(CampaignError):
    """A distribution request the campaign's state or data does not allow."""


def contact_kind(channel: str) -> str:
    return "email" if channel == Channel.EMAIL else "phone"


def normalised_contact(channel: str, address: str) -> str:
    """The form `survey.frame.suppressions` hashes: emails lowercased, phones in E.164.

    Customer contacts are stored normalised by the import, so the sender need not parse them
    again for every message (it checks thousands per second).
    """
    return address.strip().lower() if channel == Channel.EMAIL else address.strip()


def suppression_hash(secret_key: str, channel: str, address: str) -> str:
    return contact_hash(secret_key, contact_kind(channel), normalised_contact(channel, address))


def suppressed_hashes(session: Session, hashes: Iterable[str], client_id: int) -> set[str]:
    """Which of `hashes` the client `client_id` has suppressed (an opt-out is one client's)."""
    return {digest for _client, digest in suppressed_pairs(
        session, ((client_id, digest) for digest in hashes))}


def suppressed_pairs(
    session: Session, pairs: Iterable[tuple[int, str]]
) -> set[tuple[int, str]]:
    """Which (client id, contact hash) pairs are suppressed: messages of several clients'
    campaigns are checked at once by the sender."""
    wanted = set(pairs)
    hashes = sorted({digest for _client, digest in wanted})
    found: set[tuple[int, str]] = set()
    for start in range(0, len(hashes), 500):
        chunk = hashes[start:start + 500]
        found.update((client, digest) for client, digest in session.execute(
            select(Suppression.client_id, Suppression.contact_hash)
            .where(Suppression.contact_hash.in_(chunk))) if (client, digest) in wanted)
    return found


def advance_dispositions(session: Session, invitation_ids: Iterable[int], to: str,
                         at: datetime | None = None) -> int:
    """Move these invitations to disposition `to` where the order allows; returns how many."""
    ids = list(invitation_ids)
    changed = 0
    values: dict = {"disposition": to}
    if to == D.OPTED_OUT:
        values["opted_out_at"] = at or utcnow()
    for start in range(0, len(ids), 1000):
        result = session.execute(
            update(Invitation)
            .where(Invitation.id.in_(ids[start:start + 1000]),
                   Invitation.disposition.in_(ADVANCES_FROM[to]))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        changed += result.rowcount or 0
    return changed


@dataclass(frozen=True)
class LaunchResult:
    messages: int
    email: int
    sms: int
    suppressed: int
    no_contact: int
    fieldwork_start: date
    fieldwork_end: date

    def as_dict(self) -> dict:
        return asdict(self)


def _address(invitation_channel: str, email: str | None, phone: str | None) -> str | None:
    return email if invitation_channel == Channel.EMAIL else phone


def launch_campaign(session: Session, campaign: Campaign, *, secret_key: str, actor: str,
                    until: date | None = None, timezone: str = "Europe/Paris",
                    now: datetime | None = None, sms_window: bool = True,
                    window: SmsWindow = DEFAULT_SMS_WINDOW) -> LaunchResult:
    """Open fieldwork: one invitation Message (sequence 0) per sampled, non-test invitation.

    Contacts suppressed since the draw get no message and the disposition `opted_out` (they
    refused: AAPOR R). Invitations without a usable contact get `failed` (AAPOR NC). SMS due
    outside the sending `window` (the configured `SMS_WINDOW`) are due at its next opening
    (unless `sms_window` is False, for the demo's outbox where no phone rings).
    """
    if campaign.status != CampaignStatus.SAMPLED:
        raise DistributionError(
            f"campaign {campaign.slug} is {campaign.status}: only a sampled campaign can be "
            "launched (draw the sample first)")
    now = now or utcnow()
    start = now.date()
    end = until or start + timedelta(days=DEFAULT_FIELDWORK_DAYS)
    if end < start:
        raise DistributionError(f"--until {end} is before the start of fieldwork ({start})")
    rows = session.execute(
        select(Invitation.id, Invitation.channel, Customer.email, Customer.phone)
        .join(Customer, Invitation.customer_id == Customer.id, isouter=True)
        .where(Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False),
               Invitation.disposition == D.PENDING)
        .order_by(Invitation.id)
    ).all()
    contacts = {}
    no_contact: list[int] = []
    for invitation_id, channel, email, phone in rows:
        address = _address(channel, email, phone)
        if address:
            contacts[invitation_id] = (channel, address,
                                       suppression_hash(secret_key, channel, address))
        else:
            no_contact.append(invitation_id)
    suppressed_now = suppressed_hashes(session, (h for _, _, h in contacts.values()),
                                       campaign.client_id)
    suppressed = [i for i, (_, _, h) in contacts.items() if h in suppressed_now]
    sms_due = window.next_opening(now, timezone) if sms_window else now
    messages = [
        {"invitation_id": invitation_id, "campaign_id": campaign.id,
         "client_id": campaign.client_id, "channel": channel,
         "kind": MessageKind.INVITATION.value, "sequence": 0, "to_address": address,
         "state": MessageState.QUEUED.value, "attempts": 0, "possibly_duplicated": False,
         "due_at": sms_due if channel == Channel.SMS else now, "created_at": now}
        for invitation_id, (channel, address, digest) in contacts.items()
        if digest not in suppressed_now
    ]
    for start_at in range(0, len(messages), 5000):
        session.execute(insert(Message), messages[start_at:start_at + 5000])
    advance_dispositions(session, suppressed, D.OPTED_OUT, now)
    advance_dispositions(session, no_contact, D.FAILED, now)
    campaign.status = CampaignStatus.OPEN.value
    campaign.launched_at = now
    campaign.fieldwork_start = start
    campaign.fieldwork_end = end
    session.flush()
    result = LaunchResult(
        messages=len(messages),
        email=sum(1 for m in messages if m["channel"] == Channel.EMAIL),
        sms=sum(1 for m in messages if m["channel"] == Channel.SMS),
        suppressed=len(suppressed), no_contact=len(no_contact),
        fieldwork_start=start, fieldwork_end=end,
    )
    record_event(session, "campaign.launch", actor=actor, object_type="campaign",
                 object_id=campaign.id, campaign_id=campaign.id, summary=result.as_dict())
    return result


def cancel_queued(session: Session, *conditions) -> int:  # noqa: ANN002 - SQL conditions
    result = session.execute(
        update(Message)
        .where(Message.state == MessageState.QUEUED, *conditions)
        .values(state=MessageState.CANCELLED.value, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def close_campaign(session: Session, campaign: Campaign, *, actor: str,
                   now: datetime | None = None) -> int:
    """Close fieldwork: no more messages leave; returns how many queued ones were cancelled."""
    if campaign.status != CampaignStatus.OPEN:
        raise DistributionError(
            f"campaign {campaign.slug} is {campaign.status}: only an open campaign can be closed")
    cancelled = cancel_queued(session, Message.campaign_id == campaign.id)
    campaign.status = CampaignStatus.CLOSED.value
    campaign.closed_at = now or utcnow()
    session.flush()
    record_event(session, "campaign.close", actor=actor, object_type="campaign",
                 object_id=campaign.id, campaign_id=campaign.id,
                 summary={"cancelled_messages": cancelled})
    return cancelled


def schedule_reminders(session: Session, *, secret_key: str, now: datetime | None = None,
                       timezone: str = "Europe/Paris", actor: str = "worker",
                       window: SmsWindow = DEFAULT_SMS_WINDOW) -> int:
    """Queue the reminders that are due in every open campaign; returns how many.

    Reminder k (1, 2) of an invitation is due `reminder_days[k-1]` days after its invitation
    was sent, to customers who have not completed, not opted out, and whose contact did not
    bounce or fail, and only once the previous message went out. The wording (reminder or
    "finish your answers") is chosen when the message is sent, from the disposition then.
    Reminders by SMS are due at the next opening of `window`.
    """
    now = now or utcnow()
    queued = 0
    for campaign in session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.OPEN)
    ):
        days = [int(d) for d in (campaign.reminder_days or [])][:MAX_REMINDERS]
        for sequence, delay in enumerate(days, start=1):
            queued += _queue_reminders(session, campaign, sequence, delay, secret_key, now,
                                       timezone, window, actor)
    return queued


def _queue_reminders(session: Session, campaign: Campaign, sequence: int, delay: int,
                     secret_key: str, now: datetime, timezone: str, window: SmsWindow,
                     actor: str) -> int:
    first, previous, later = aliased(Message), aliased(Message), aliased(Message)
    rows = session.execute(
        select(Invitation.id, first.channel, first.to_address)
        .join(first, and_(first.invitation_id == Invitation.id, first.sequence == 0))
        .join(previous, and_(previous.invitation_id == Invitation.id,
                             previous.sequence == sequence - 1))
        .where(
            Invitation.campaign_id == campaign.id,
            Invitation.is_test.is_(False),
            Invitation.disposition.not_in(NO_REMINDER),
            Invitation.opted_out_at.is_(None),
            first.sent_at.is_not(None),
            first.sent_at <= now - timedelta(days=delay),
            previous.state.in_((MessageState.SENT, MessageState.DELIVERED)),
            ~exists().where(later.invitation_id == Invitation.id, later.sequence == sequence),
        )
    ).all()
    if not rows:
        return 0
    hashes = {i: suppression_hash(secret_key, channel, address)
              for i, channel, address in rows if address}
    suppressed_now = suppressed_hashes(session, hashes.values(), campaign.client_id)
    sms_due = window.next_opening(now, timezone)
    reminders = [
        {"invitation_id": i, "campaign_id": campaign.id, "client_id": campaign.client_id,
         "channel": channel,
         "kind": MessageKind.REMINDER.value, "sequence": sequence, "to_address": address,
         "state": MessageState.QUEUED.value, "attempts": 0, "possibly_duplicated": False,
         "due_at": sms_due if channel == Channel.SMS else now, "created_at": now}
        for i, channel, address in rows if address and hashes[i] not in suppressed_now
    ]
    if reminders:
        session.execute(insert(Message), reminders)
    record_event(session, "distribution.reminders", actor=actor, object_type="campaign",
                 object_id=campaign.id, campaign_id=campaign.id,
                 summary={"sequence": sequence, "queued": len(reminders),
                          "skipped_suppressed": len(rows) - len(reminders)})
    return len(reminders)


def invitation_by_token(session: Session, token: str) -> Invitation | None:
    from survey.tokens import hash_token

    if not token or len(token) > 100:
        return None
    return session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))


def opt_out(session: Session, invitation: Invitation, *, secret_key: str, source: str,
            actor: str = "respondent", now: datetime | None = None) -> bool:
    """The customer refuses further messages: suppress the contact, everywhere, at once.

    Adds a Suppression for the address the invitation was sent to (and the customer's contact
    of that channel), sets the disposition `opted_out` where the order allows, and cancels
    every queued message to that address in every campaign. Returns False when the invitation
    had already opted out (nothing changes twice).
    """
    now = now or utcnow()
    if invitation.opted_out_at is not None:
        return False
    addresses = set(session.scalars(
        select(Message.to_address).where(Message.invitation_id == invitation.id,
                                          Message.to_address.is_not(None))))
    customer = invitation.customer
    if customer is not None:
        own = customer.email if invitation.channel == Channel.EMAIL else customer.phone
        if own:
            addresses.add(own)
    kind = contact_kind(invitation.channel)
    for address in sorted(addresses):
        add_suppression(session, kind, normalised_contact(invitation.channel, address),
                        reason="opt-out", source=source, secret_key=secret_key, actor=actor,
                        client_id=invitation.client_id)
    cancelled = cancel_queued(session, Message.invitation_id == invitation.id)
    if addresses:  # the same person may be queued in other campaigns too
        normalised = sorted({normalised_contact(invitation.channel, a) for a in addresses})
        column = func.lower(Message.to_address) if invitation.channel == Channel.EMAIL \
            else Message.to_address
        cancelled += cancel_queued(session, column.in_(normalised),
                                   Message.client_id == invitation.client_id)
    invitation.opted_out_at = now
    if invitation.disposition in ADVANCES_FROM[D.OPTED_OUT]:
        invitation.disposition = D.OPTED_OUT.value
    session.flush()
    record_event(session, "distribution.opt_out", actor=actor, object_type="invitation",
                 object_id=invitation.id, campaign_id=invitation.campaign_id,
                 summary={"source": source, "cancelled_messages": cancelled})
    return True


def message_counts(session: Session, campaign_id: int) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for channel, state, n in session.execute(
        select(Message.channel, Message.state, func.count())
        .where(Message.campaign_id == campaign_id)
        .group_by(Message.channel, Message.state)
    ):
        counts.setdefault(channel, {})[state] = n
    return counts
