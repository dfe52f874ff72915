"""Where messages go: outbox files, SMTP, SendGrid (email) and Twilio (SMS), one interface.

`Backend.send(batch)` returns one `Outcome` per message, in order: accepted (with the
provider's id), retry (temporary: 429, 5xx, timeouts, connection errors; with the provider's
`retry_after` when it gave one) or failed (permanent, with the provider's reason). A backend
never touches the database: the sender records outcomes.
"""

from __future__ import annotations

import contextlib
import json
import os
import smtplib
import time
import urllib.error
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

from survey.distribution.rendering import Outgoing
from survey.files import private_folder, write_private
from survey.models import Channel

ACCEPTED, RETRY, FAILED = "accepted", "retry", "failed"
# Long headers (the unsubscribe URL) stay on one line: some mail clients mishandle folded URLs.
UNFOLDED = email_policy.default.clone(max_line_length=998)
SENDGRID_MAX_PERSONALIZATIONS = 1000
# Twilio's error code when the recipient answered STOP: it is an opt-out, not a bad number.
TWILIO_UNSUBSCRIBED = 21610


@dataclass(frozen=True)
class Outcome:
    status: str  # accepted, retry or failed
    provider_id: str | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds, when the provider said how long to wait
    in_doubt: bool = False  # the provider may have accepted it (timeout after sending)
    opted_out: bool = False  # the provider refuses because the recipient opted out

    @classmethod
    def accepted(cls, provider_id: str | None) -> Outcome:
        return cls(ACCEPTED, provider_id=provider_id)

    @classmethod
    def retry(cls, error: str, *, retry_after: float | None = None, in_doubt: bool = False):
        return cls(RETRY, error=error, retry_after=retry_after, in_doubt=in_doubt)

    @classmethod
    def failed(cls, error: str, *, opted_out: bool = False) -> Outcome:
        return cls(FAILED, error=error, opted_out=opted_out)


#: Called by a per-message backend with each message's outcome as soon as it is known.
OutcomeCallback = Callable[[Outgoing, Outcome], None]


class Backend(Protocol):
    name: str
    channel: str
    max_batch: int
    # True when the provider takes one message per call (SMTP, Twilio): the sender then marks
    # each message sent right after its call (`on_outcome`), so that a killed worker re-sends
    # at most the one message in flight.
    per_message: bool

    def send(self, batch: Sequence[Outgoing],
             on_outcome: OutcomeCallback | None = None) -> list[Outcome]: ...


class BackendConfigurationError(RuntimeError):
    """The configuration names a backend that cannot work as configured."""


def sender_of(message: Outgoing, mail_from: str) -> tuple[str, str, str | None]:
    """(name, address, reply-to) of an email: its client's, else the installation's
    `mail_from` (which may carry a name: "Name <address>")."""
    default_name, default_address = parseaddr(mail_from)
    template = message.template
    return (template.sender_name or default_name,
            template.sender_email or default_address or mail_from, template.reply_to)


def build_email(message: Outgoing, mail_from: str) -> EmailMessage:
    """The MIME message of an email: text and HTML alternatives, one-click unsubscribe headers."""
    email = EmailMessage(policy=UNFOLDED)
    name, address, reply_to = sender_of(message, mail_from)
    email["From"] = formataddr((name, address)) if name else address
    if reply_to:
        email["Reply-To"] = reply_to
    mail_from = address
    email["To"] = message.to
    email["Subject"] = message.subject or ""
    email["Date"] = formatdate(localtime=False)
    domain = mail_from.rpartition("@")[2] or "localhost"
    email["Message-ID"] = make_msgid(idstring=message.reference or None, domain=domain)
    for name, value in message.headers.items():
        email[name] = value
    email["X-Barometre-Message"] = str(message.message_id)
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


class OutboxBackend:
    """Writes each message to a file under `<instance>/outbox/` (demo and development)."""

    name = "outbox"
    max_batch = 500
    per_message = True

    def __init__(self, folder: Path, channel: str, mail_from: str) -> None:
        self.folder = Path(folder)
        self.channel = channel
        self.mail_from = mail_from
        private_folder(self.folder)

    @staticmethod
    def file_name(message: Outgoing) -> str:
        suffix = "eml" if message.channel == Channel.EMAIL else "txt"
        return f"{message.message_id:08d}-{message.channel}.{suffix}"

    def send(self, batch: Sequence[Outgoing],
             on_outcome: OutcomeCallback | None = None) -> list[Outcome]:
        outcomes = []
        for message in batch:
            name = self.file_name(message)
            if message.channel == Channel.EMAIL:
                content = bytes(build_email(message, self.mail_from))
            else:
                content = f"To: {message.to}\n\n{message.text}\n".encode()
            # Whole files only, even after a crash, and for the service user only: they hold
            # recipients and personal links.
            write_private(self.folder / name, content)
            outcomes.append(Outcome.accepted(f"outbox:{name}"))
            if on_outcome is not None:
                on_outcome(message, outcomes[-1])
        return outcomes


class SmtpBackend:
    """Standard-library SMTP to the centre's relay, one connection per batch."""

    name = "smtp"
    channel = Channel.EMAIL
    max_batch = 100
    per_message = True

    def __init__(self, host: str, port: int, mail_from: str, *, user: str | None = None,
                 password: str | None = None, tls: bool = False, timeout: float = 30) -> None:
        if not host:
            raise BackendConfigurationError("the smtp backend needs BAROMETRE_SMTP_HOST")
        self.host, self.port, self.mail_from = host, port, mail_from
        self.user, self.password, self.tls, self.timeout = user, password, tls, timeout

    def _connect(self) -> smtplib.SMTP:
        connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.tls:
            connection.starttls()
        if self.user:
            connection.login(self.user, self.password or "")
        return connection

    @staticmethod
    def _by_code(code: int, text: str) -> Outcome:
        return Outcome.failed(f"SMTP {code} {text}") if code >= 500 else Outcome.retry(
            f"SMTP {code} {text}")

    def send(self, batch: Sequence[Outgoing],
             on_outcome: OutcomeCallback | None = None) -> list[Outcome]:
        try:
            connection = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            return [Outcome.retry(f"SMTP connection: {exc}")] * len(batch)
        outcomes: list[Outcome] = []
        try:
            for message in batch:
                email = build_email(message, self.mail_from)
                try:
                    connection.send_message(email)
                    outcomes.append(Outcome.accepted(email["Message-ID"]))
                    if on_outcome is not None:
                        on_outcome(message, outcomes[-1])
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = next(iter(exc.recipients.values()))
                    outcomes.append(self._by_code(code, text.decode(errors="replace")))
                except smtplib.SMTPResponseException as exc:
                    message_text = exc.smtp_error
                    if isinstance(message_text, bytes):
                        message_text = message_text.decode(errors="replace")
                    outcomes.append(self._by_code(exc.smtp_code, message_text))
                    if exc.smtp_code in (421,):  # the server is closing: stop here
                        break
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            # The one being sent may or may not have gone; the rest certainly did not.
            outcomes.append(Outcome.retry(f"SMTP connection lost: {exc}", in_doubt=True))
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.quit()
        rest = len(batch) - len(outcomes)
        return outcomes + [Outcome.retry("SMTP connection lost before sending")] * rest


def _seconds_until_reset(headers) -> float | None:  # noqa: ANN001 - a mapping of headers
    """`X-RateLimit-Reset` is an epoch second; the wait until then, if the header is there."""
    reset = headers.get("X-RateLimit-Reset") if headers is not None else None
    if reset is None:
        return None
    try:
        return max(0.0, float(reset) - time.time())
    except ValueError:
        return None


class SendGridBackend:
    """SendGrid v3 mail send: one request per template, up to 1000 personalizations.

    Each recipient's links travel as `substitutions`; `custom_args` carries the message id,
    which the Event Webhook sends back. Click tracking is off: the links hold personal tokens.
    A 400 or 413 on a batch is split in halves until the culprit stands alone, so that one bad
    address never fails its 999 neighbours.
    """

    name = "sendgrid"
    channel = Channel.EMAIL
    max_batch = SENDGRID_MAX_PERSONALIZATIONS
    per_message = False  # one request per batch: a crash may re-send the batch in flight

    def __init__(self, api_key: str | None, host: str, mail_from: str, *,
                 timeout: float = 30) -> None:
        from sendgrid import SendGridAPIClient

        if not api_key:
            raise BackendConfigurationError("the sendgrid backend needs SENDGRID_API_KEY")
        self.client = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        self.client.client.timeout = timeout
        self.mail_from = mail_from

    def request_body(self, batch: Sequence[Outgoing]) -> dict:
        template = batch[0].template
        name, address, reply_to = sender_of(batch[0], self.mail_from)
        return {
            "from": {"email": address, **({"name": name} if name else {})},
            **({"reply_to": {"email": reply_to}} if reply_to else {}),
            "subject": template.subject,
            "content": [
                {"type": "text/plain", "value": template.text},
                {"type": "text/html", "value": template.html},
            ],
            "personalizations": [
                {
                    "to": [{"email": message.to}],
                    "substitutions": dict(message.values),
                    "headers": message.headers,
                    "custom_args": {"barometre_message_id": str(message.message_id)},
                }
                for message in batch
            ],
            "tracking_settings": {"click_tracking": {"enable": False, "enable_text": False}},
        }

    def send(self, batch: Sequence[Outgoing],
             on_outcome: OutcomeCallback | None = None) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        groups: dict[int, list[Outgoing]] = {}
        for message in batch:  # one request per shared template
            groups.setdefault(id(message.template), []).append(message)
        for group in groups.values():
            for start in range(0, len(group), self.max_batch):
                self._post(group[start:start + self.max_batch], outcomes)
        return [outcomes[message.message_id] for message in batch]

    def _post(self, group: list[Outgoing], outcomes: dict[int, Outcome]) -> None:
        from python_http_client.exceptions import HTTPError

        def all_get(outcome: Outcome) -> None:
            for message in group:
                outcomes[message.message_id] = outcome

        try:
            response = self.client.client.mail.send.post(request_body=self.request_body(group))
        except HTTPError as exc:
            status = exc.status_code
            reason = _sendgrid_reason(exc.body) or str(exc.reason)
            if status in (400, 413) and len(group) > 1:
                middle = len(group) // 2
                self._post(group[:middle], outcomes)
                self._post(group[middle:], outcomes)
            elif status == 429:
                all_get(Outcome.retry(f"SendGrid 429 {reason}",
                                      retry_after=_seconds_until_reset(exc.headers)))
            elif status >= 500 or status in (401, 403, 408):
                # 401/403: a configuration to fix, not a reason to give up on the customers.
                all_get(Outcome.retry(f"SendGrid {status} {reason}"))
            else:
                all_get(Outcome.failed(f"SendGrid {status} {reason}"))
            return
        except TimeoutError as exc:
            all_get(Outcome.retry(f"SendGrid timeout: {exc}", in_doubt=True))
            return
        except (urllib.error.URLError, OSError) as exc:
            all_get(Outcome.retry(f"SendGrid connection: {exc}"))
            return
        provider_id = response.headers.get("X-Message-Id") if response.headers else None
        all_get(Outcome.accepted(provider_id))


def _sendgrid_reason(body: bytes | str | None) -> str:
    """The messages of SendGrid's error body (`{"errors": [{"message": ...}]}`), if any."""
    try:
        errors = json.loads(body or b"{}").get("errors") or []
        return "; ".join(str(error.get("message")) for error in errors if isinstance(error, dict))
    except (ValueError, AttributeError):
        return (body.decode(errors="replace") if isinstance(body, bytes) else str(body or ""))[:500]


class TwilioBackend:
    """Twilio Programmable Messaging through the `twilio` library, one request per SMS.

    `base_url` (BAROMETRE_TWILIO_BASE_URL) replaces `https://api.twilio.com` on the library's
    Api domain, the one Messages live in; everything else is the library's own code.
    """

    name = "twilio"
    channel = Channel.SMS
    max_batch = 50
    per_message = True

    def __init__(self, account_sid: str | None, auth_token: str | None, from_number: str | None,
                 *, base_url: str | None = None, status_callback: str | None = None,
                 timeout: float = 30) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        if not (account_sid and auth_token and from_number):
            raise BackendConfigurationError(
                "the twilio backend needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM")
        self.client = Client(account_sid, auth_token,
                             http_client=TwilioHttpClient(timeout=timeout))
        if base_url:
            self.client.api.base_url = base_url.rstrip("/")
        self.from_number = from_number
        self.status_callback = status_callback

    def send(self, batch: Sequence[Outgoing],
             on_outcome: OutcomeCallback | None = None) -> list[Outcome]:
        import requests
        from twilio.base.exceptions import TwilioRestException

        outcomes = []
        for message in batch:
            options = {"status_callback": self.status_callback} if self.status_callback else {}
            try:
                sent = self.client.messages.create(
                    to=message.to, from_=self.from_number, body=message.text, **options)
                outcomes.append(Outcome.accepted(sent.sid))
                if on_outcome is not None:
                    on_outcome(message, outcomes[-1])
            except TwilioRestException as exc:
                reason = f"Twilio {exc.status} {exc.code}: {exc.msg}"
                if exc.status == 429 or exc.status >= 500:
                    outcomes.append(Outcome.retry(reason))
                else:
                    outcomes.append(Outcome.failed(reason,
                                                   opted_out=exc.code == TWILIO_UNSUBSCRIBED))
            except requests.Timeout as exc:
                outcomes.append(Outcome.retry(f"Twilio timeout: {exc}", in_doubt=True))
            except requests.RequestException as exc:
                outcomes.append(Outcome.retry(f"Twilio connection: {exc}"))
        return outcomes


def backend_for(channel: str, config) -> Backend:  # noqa: ANN001 - the Flask config
    """The backend the configuration chooses for `channel` (docs/architecture.md,
    "Distribution")."""
    outbox = Path(config["INSTANCE_PATH"]) / "outbox"
    mail_from = config.get("MAIL_FROM") or "barometre@localhost"
    timeout = float(config.get("SEND_TIMEOUT") or os.environ.get("BAROMETRE_SEND_TIMEOUT", 30))
    if channel == Channel.EMAIL:
        name = config.get("EMAIL_BACKEND") or "outbox"
        if name == "outbox":
            return OutboxBackend(outbox, Channel.EMAIL, mail_from)
        if name == "smtp":
            return SmtpBackend(config.get("SMTP_HOST"), int(config.get("SMTP_PORT") or 25),
                               mail_from, user=config.get("SMTP_USER"),
                               password=config.get("SMTP_PASSWORD"),
                               tls=bool(config.get("SMTP_TLS")), timeout=timeout)
        if name == "sendgrid":
            return SendGridBackend(config.get("SENDGRID_API_KEY"),
                                   config.get("SENDGRID_HOST") or "https://api.sendgrid.com",
                                   mail_from, timeout=timeout)
        raise BackendConfigurationError(
            f"BAROMETRE_EMAIL_BACKEND is {name!r}; use outbox, smtp or sendgrid")
    name = config.get("SMS_BACKEND") or "outbox"
    if name == "outbox":
        return OutboxBackend(outbox, Channel.SMS, mail_from)
    if name == "twilio":
        base = config.get("BASE_URL", "").rstrip("/")
        return TwilioBackend(config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN"),
                             config.get("TWILIO_FROM"), base_url=config.get("TWILIO_BASE_URL"),
                             status_callback=f"{base}/webhooks/twilio" if base else None,
                             timeout=timeout)
    raise BackendConfigurationError(f"BAROMETRE_SMS_BACKEND is {name!r}; use outbox or twilio")
