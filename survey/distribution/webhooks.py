"""Provider events: SendGrid's signed Event Webhook and Twilio's status callbacks.

Signatures are checked on the raw request before anything is parsed; an event is applied at
most once (`WebhookEvent`, unique on provider and event id); states and dispositions only move
forward (`operations.ADVANCES_FROM`).
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.distribution.operations import advance_dispositions, opt_out
from survey.models import Disposition, Invitation, Message, MessageState, WebhookEvent

MAX_TIMESTAMP_SKEW = 300  # seconds: older (or future) signed requests are replays
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
    by_type: dict[str, int] = field(default_factory=dict)


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


def parse_sendgrid_events(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(e, dict) for e in body):
        raise MalformedEvents("expected a JSON array of event objects")
    for position, event in enumerate(body):
        if not isinstance(event.get("sg_event_id"), str) or not isinstance(event.get("event"), str):
            raise MalformedEvents(f"event {position} lacks sg_event_id or event")
    return body


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


def apply_sendgrid_events(session: Session, events: list[dict[str, Any]], *,
                          secret_key: str) -> Applied:
    """Apply verified SendGrid events to messages and dispositions; flushes."""
    result = Applied()
    for event in events:
        kind = event["event"]
        raw_id = event.get("barometre_message_id")
        message = session.get(Message, int(raw_id)) if str(raw_id or "").isdigit() else None
        if not _first_time(session, "sendgrid", event["sg_event_id"], kind,
                           message.id if message else None):
            result.duplicates += 1
            continue
        if message is None:
            result.ignored += 1
            continue
        if kind in SENDGRID_EFFECTS:
            _apply_effect(session, message, SENDGRID_EFFECTS[kind], event.get("reason"))
        elif kind in OPT_OUT_EVENTS:
            invitation = session.get(Invitation, message.invitation_id)
            opt_out(session, invitation, secret_key=secret_key, source=f"sendgrid:{kind}",
                    actor="webhook:sendgrid")
        else:
            result.ignored += 1
            continue
        result.applied += 1
        result.by_type[kind] = result.by_type.get(kind, 0) + 1
    _record(session, "sendgrid", result)
    return result


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
    if result.applied:
        record_event(session, "distribution.webhook", actor=f"webhook:{provider}",
                     object_type="webhook", summary={"provider": provider,
                                                     "applied": result.by_type,
                                                     "duplicates": result.duplicates})
