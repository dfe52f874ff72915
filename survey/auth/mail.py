"""The password reset email, sent through the configured email backend."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from survey.distribution.backends import ACCEPTED, OutboxBackend, backend_for, build_email
from survey.distribution.rendering import MessageTemplate, Outgoing
from survey.models import Channel, User


class _StaffEmail(Outgoing):
    """An email to a staff member: no unsubscribe headers (they are for customers)."""

    @property
    def headers(self) -> dict[str, str]:
        return {}


class MailError(RuntimeError):
    """The email backend did not accept the message; says why."""


def send_password_reset(config: Any, user: User, link: str, reset_id: int) -> None:
    """Email `link` to `user`, in the language of the current request.

    The outbox backend (demo, development) writes `outbox/password-reset-<id>.eml`, for the
    service user only; the others send as they send invitations.
    """
    subject = _("barometre: choose a new password")
    text = _(
        "A new password was requested for your barometre account %(email)s.\n\n"
        "Open this link within one hour to choose it (it works once):\n%(link)s\n\n"
        "If you did not expect this email, tell your administrator.",
        email=user.email, link=link,
    )
    template = MessageTemplate(channel=Channel.EMAIL.value, language="fr", wording="reset",
                               text=text, subject=subject)
    outgoing = _StaffEmail(message_id=0, channel=Channel.EMAIL.value, to=user.email,
                        template=template, reference=f"password-reset-{reset_id}")
    backend = backend_for(Channel.EMAIL, config)
    if isinstance(backend, OutboxBackend):
        path = Path(backend.folder) / f"password-reset-{reset_id}.eml"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(bytes(build_email(outgoing, backend.mail_from)))
        return
    outcome = backend.send([outgoing])[0]
    if outcome.status != ACCEPTED:
        raise MailError(outcome.error or "the email backend refused the message")
