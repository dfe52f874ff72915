"""Suppressions (opt-outs): kept only as a keyed hash of the normalised email or phone.

The hash is HMAC-SHA256 under the application's secret key, so the table alone reveals no
contact and cannot be reversed by hashing a directory of addresses. The normalised forms:

- ``email``: the address as `email-validator` normalises it, lowercased (local part included);
- ``phone``: E.164 (``+33612345678``), parsed with France as the default region.

(`survey.frame.contacts` holds both normalisations; the import stores contacts the same way.)
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.clients.scope import effective_client_id
from survey.frame.contacts import ContactError, normalise_email, normalise_phone
from survey.models import Suppression

KINDS = ("email", "phone")


class SuppressionError(ValueError):
    """A contact that cannot be suppressed as given (unknown kind, unparseable value)."""


def contact_hash(secret_key: str, kind: str, normalised_value: str) -> str:
    """The keyed hash (64 hex digits) of an already normalised contact of `kind`."""
    if kind not in KINDS:
        raise SuppressionError(f"suppression kind must be email or phone, not {kind!r}")
    message = f"{kind}:{normalised_value}".encode()
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def normalise_contact(kind: str, value: str) -> str:
    """The form `contact_hash` expects; raises `SuppressionError` if `value` is not one."""
    try:
        if kind == "email":
            return normalise_email(value)
        if kind == "phone":
            return normalise_phone(value)
    except ContactError as exc:
        raise SuppressionError(f"cannot suppress this {kind}: {exc}") from exc
    raise SuppressionError(f"suppression kind must be email or phone, not {kind!r}")


def is_suppressed(session: Session, secret_key: str, kind: str, value: str,
                  client_id: int | None = None) -> bool:
    """Whether the client (`client_id`, else the current one) suppressed the contact."""
    client_id = client_id or effective_client_id(session)
    digest = contact_hash(secret_key, kind, normalise_contact(kind, value))
    found = session.scalar(select(Suppression.id).where(
        Suppression.contact_hash == digest, Suppression.client_id == client_id))
    return found is not None


def add_suppression(
    session: Session,
    kind: str,
    value: str,
    reason: str,
    source: str | None,
    secret_key: str,
    *,
    actor: str = "system",
    client_id: int | None = None,
) -> Suppression:
    """Suppress a contact; idempotent (the existing row is returned unchanged).

    Records ``suppression.add`` in the audit trail with the kind, reason and source only,
    never the contact. Flushes; the caller commits.
    """
    # The client of the opt-out (an invitation's), else the current one: it silences that
    # client's surveys only.
    client_id = client_id or effective_client_id(session)
    digest = contact_hash(secret_key, kind, normalise_contact(kind, value))
    existing = session.scalar(select(Suppression).where(
        Suppression.contact_hash == digest, Suppression.client_id == client_id))
    if existing is not None:
        return existing
    suppression = Suppression(client_id=client_id, contact_hash=digest, kind=kind,
                              reason=reason[:100], source=source)
    session.add(suppression)
    session.flush()
    record_event(
        session,
        "suppression.add",
        actor=actor,
        object_type="suppression",
        object_id=suppression.id,
        summary={"kind": kind, "reason": reason[:100], "source": source},
        client_id=client_id,
    )
    return suppression
