"""Provider events: SendGrid's signed Event Webhook and Twilio's status callbacks.

Signatures are checked on the raw request before anything is parsed; an event is applied at
most once (`WebhookEvent`, unique on provider and event id); states and dispositions only move
forward (`operations.ADVANCES_FROM`). A SendGrid batch is applied event by event: an event that
is malformed, names no message we could have sent, or fails to apply is skipped and counted
(`Applied.rejected`, with the reason in the audit trail and the log), and the batch's other
events are applied all the same — a refused batch would be sent again forever.
"""

from __future__ import annotations

import binascii
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.distribution.operations import advance_dispositions, opt_out
from survey.models import Disposition, Invitation, Message, MessageState, WebhookEvent

MAX_TIMESTAMP_SKEW = 300  # seconds: older (or future) signed requests are replays
# Message ids are the table's integer keys: anything larger names no message of ours.
MAX_MESSAGE_ID = 2**31 - 1
# Reasons kept per batch in the audit trail; the count is always exact.
MAX_REASONS_RECORDED = 20
logger = logging.getLogger(__name__)
S = MessageState

# Event → (new message state, the states it may replace, new disposition)
SENDGRID_EFFECTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "delivered": (S.DELIVERED, (S.SENDING, S.SENT), Disposition.DELIVERED),
    "bounce": (S.BOUNCED, (S.SENDING, S.SENT, S.DELIVERED), Disposition.BOUNCED),
    "dropped": (S.FAILED, (S.QUEUED, S.SENDING, S.SENT), Disposition.FAILED),
}
TWILIO_EFFECTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "delivered": (S.DELIVERED, (S.SENDING, S.SENT), Disposition.DELIVERED),
    "undelivered": (S.BOUNCED, (S.SENDING, S.SENT, S.DELIVERED), Disposition.BOUNCED),
    "failed": (S.FAILED, (S.SENDING, S.SENT), Disposition.FAILED),
}
OPT_OUT_EVENTS = ("spamreport", "unsubscribe")
TWILIO_UNSUBSCRIBED = "21610"


class MalformedEvents(ValueError):
    """The body is not what the provider sends (400)."""


@dataclass
class Applied:
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    rejected: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def reject(self, position: int, reason: str) -> None:
        self.rejected += 1
        if len(self.reasons) < MAX_REASONS_RECORDED:
            self.reasons.append(f"event {position}: {reason}")


def sendgrid_signature_ok(public_key: str | None, payload: bytes, signature: str | None,
                          timestamp: str | None, *, now: float | None = None) -> bool:
    """ECDSA check of SendGrid's signed Event Webhook, with the library's helper."""
    from cryptography.exceptions import InvalidSignature
    from sendgrid.helpers.eventwebhook import EventWebhook

    if not (public_key and signature and timestamp):
        return False
    try:
        if abs((now or time.time()) - int(timestamp)) > MAX_TIMESTAMP_SKEW:
            return False
        verifier = EventWebhook()
        key = verifier.convert_public_key_to_ecdsa(public_key)
        return verifier.verify_signature(payload.decode("utf-8"), signature, timestamp, key)
    except (ValueError, binascii.Error, UnicodeDecodeError, InvalidSignature):
        return False


def twilio_signature_ok(auth_token: str | None, url: str, params: Mapping[str, str],
                        signature: str | None) -> bool:
    from twilio.request_validator import RequestValidator

    if not (auth_token and signature):
        return False
    return RequestValidator(auth_token).validate(url, dict(params), signature)


def parse_sendgrid_events(body: Any) -> list[Any]:
    """The batch's events; each is checked as it is applied (`apply_sendgrid_events`)."""
    if not isinstance(body, list):
        raise MalformedEvents("expected a JSON array of event objects")
    return body


def _event_problem(event: Any) -> str | None:
    if not isinstance(event, dict):
        return "not an event object"
    event_id, kind = event.get("sg_event_id"), event.get("event")
    if not isinstance(event_id, str) or not event_id or not isinstance(kind, str) or not kind:
        return "lacks sg_event_id or event"
    return None


def _message_id(raw: Any) -> int | None:
    """The message id an event names, or None when it names none we could have sent."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        return None
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_MESSAGE_ID else None


def _first_time(session: Session, provider: str, event_id: str, event_type: str,
                message_id: int | None) -> bool:
    """Record the event; False when it was already applied."""
    seen = session.scalar(select(WebhookEvent.id).where(
        WebhookEvent.provider == provider, WebhookEvent.event_id == event_id[:200]))
    if seen is not None:
        return False
    session.add(WebhookEvent(provider=provider, event_id=event_id[:200],
                             event_type=event_type[:50], message_id=message_id))
    session.flush()
    return True


def _apply_effect(session: Session, message: Message, effect: tuple[str, tuple[str, ...], str],
                  reason: str | None) -> None:
    state, from_states, disposition = effect
    values: dict[str, Any] = {"state": state}
    if reason:
        values["last_error"] = reason[:2000]
    session.execute(update(Message).where(Message.id == message.id,
                                          Message.state.in_(from_states)).values(**values))
    advance_dispositions(session, [message.invitation_id], disposition)


def apply_sendgrid_events(session: Session, events: list[Any], *, secret_key: str) -> Applied:
    """Apply verified SendGrid events to messages and dispositions; flushes.

    Each event is applied in a savepoint of its own: a bad one is skipped and counted, never
    the end of the batch.
    """
    result = Applied()
    for position, event in enumerate(events):
        problem = _event_problem(event)
        if problem is not None:
            result.reject(position, problem)
            continue
        raw_id = event.get("barometre_message_id")
        message_id = _message_id(raw_id)
        if raw_id not in (None, "") and message_id is None:
            result.reject(position, "barometre_message_id is not a message id")
            continue
        try:
            with session.begin_nested():
                _apply_sendgrid_event(session, event, message_id, result, secret_key)
        except (SQLAlchemyError, ValueError, TypeError) as exc:
            result.reject(position, f"could not be applied ({type(exc).__name__})")
            logger.warning("sendgrid event %s skipped: %s", position, exc)
    if result.rejected:
        logger.warning("sendgrid batch: %d events skipped: %s", result.rejected,
                       "; ".join(result.reasons))
    _record(session, "sendgrid", result)
    return result


def _apply_sendgrid_event(session: Session, event: dict[str, Any], message_id: int | None,
                          result: Applied, secret_key: str) -> None:
    kind = event["event"]
    message = session.get(Message, message_id) if message_id is not None else None
    if not _first_time(session, "sendgrid", event["sg_event_id"], kind,
                       message.id if message else None):
        result.duplicates += 1
        return
    if message is None:
        result.ignored += 1
        return
    if kind in SENDGRID_EFFECTS:
        reason = event.get("reason")
        _apply_effect(session, message, SENDGRID_EFFECTS[kind],
                      reason if isinstance(reason, str) else None)
    elif kind in OPT_OUT_EVENTS:
        invitation = session.get(Invitation, message.invitation_id)
        opt_out(session, invitation, secret_key=secret_key, source=f"sendgrid:{kind}",
                actor="webhook:sendgrid")
    else:
        result.ignored += 1
        return
    result.applied += 1
    result.by_type[kind] = result.by_type.get(kind, 0) + 1


def apply_twilio_status(session: Session, params: Mapping[str, str], *,
                        secret_key: str) -> Applied:
    """Apply one verified Twilio status callback; flushes."""
    sid, status = params.get("MessageSid"), params.get("MessageStatus")
    if not sid or not status:
        raise MalformedEvents("MessageSid and MessageStatus are required")
    result = Applied()
    message = session.scalar(select(Message).where(Message.provider_id == sid))
    if not _first_time(session, "twilio", f"{sid}:{status}", status,
                       message.id if message else None):
        result.duplicates += 1
        return result
    if message is None or status not in TWILIO_EFFECTS:
        result.ignored += 1
        return result
    error_code = params.get("ErrorCode") or ""
    if error_code == TWILIO_UNSUBSCRIBED:
        opt_out(session, session.get(Invitation, message.invitation_id), secret_key=secret_key,
                source="twilio:stop", actor="webhook:twilio")
    reason = f"Twilio {status} {error_code}".strip() if status != "delivered" else None
    _apply_effect(session, message, TWILIO_EFFECTS[status], reason)
    result.applied += 1
    result.by_type[status] = 1
    _record(session, "twilio", result)
    return result


def _record(session: Session, provider: str, result: Applied) -> None:
    session.flush()
    if result.applied or result.rejected:
        summary: dict[str, Any] = {"provider": provider, "applied": result.by_type,
                                   "duplicates": result.duplicates}
        if result.rejected:
            summary.update(rejected=result.rejected, reasons=result.reasons)
        record_event(session, "distribution.webhook", actor=f"webhook:{provider}",
                     object_type="webhook", summary=summary)
