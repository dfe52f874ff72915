"""The words of each message, rendered once per group and personalised by substitution.

A campaign's invitations in one language share every word but the two links. Rendering the
Jinja templates once per (campaign, channel, wording, language) with placeholders, then
substituting the links per recipient, keeps the sender fast, and it is exactly what SendGrid's
`substitutions` do on its side, so a batch of 1000 recipients travels as one request.

Templates: `templates/email/message.<lang>.html` (blocks `subject`, `text`, `html`) and
`templates/sms/message.<lang>.txt`, each branching on `wording`: `invitation`, `reminder`, or
`finish` (a reminder to a customer who started and did not finish).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from babel.dates import format_date
from flask import current_app

from survey.branding import DEFAULT_PRIMARY
from survey.clients.operations import readable_colour, sms_sender_id
from survey.models import Campaign, Channel, Client, Disposition, MessageKind
from survey.tokens import token_for

LINK = "%%link%%"
UNSUBSCRIBE = "%%unsubscribe%%"
LANGUAGES = ("fr", "en")
DEFAULT_MINUTES = 5


class Wording:
    INVITATION = "invitation"
    REMINDER = "reminder"
    FINISH = "finish"


@dataclass(frozen=True)
class MessageTemplate:
    """A rendered message with placeholders for the links; `html` and `subject` are email only."""

    channel: str
    language: str
    wording: str
    text: str
    subject: str | None = None
    html: str | None = None
    # The campaign's client's email sender (None: the installation's, BAROMETRE_MAIL_FROM).
    # SMS keep the provider's number as sender, whose replies (STOP) an alphanumeric sender
    # could not receive: the client's short name signs their text (`sms_sender_name`).
    sender_name: str | None = None
    sender_email: str | None = None
    reply_to: str | None = None

    def personalise(self, values: Mapping[str, str]) -> tuple[str | None, str, str | None]:
        def fill(part: str | None) -> str | None:
            if part is None:
                return None
            for placeholder, value in values.items():
                part = part.replace(placeholder, value)
            return part

        return fill(self.subject), fill(self.text) or "", fill(self.html)


@dataclass(frozen=True)
class Outgoing:
    """One message ready for a backend: a shared template and this recipient's values."""

    message_id: int
    channel: str
    to: str
    template: MessageTemplate
    values: Mapping[str, str] = field(default_factory=dict)
    reference: str = ""  # how the provider's events name it back ("barometre-<id>")

    @property
    def subject(self) -> str | None:
        return self.template.personalise(self.values)[0]

    @property
    def text(self) -> str:
        return self.template.personalise(self.values)[1]

    @property
    def html(self) -> str | None:
        return self.template.personalise(self.values)[2]

    @property
    def headers(self) -> dict[str, str]:
        """RFC 8058 one-click unsubscribe on every email."""
        if self.channel != Channel.EMAIL:
            return {}
        return {
            "List-Unsubscribe": f"<{self.values[UNSUBSCRIBE]}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }


def wording_for(kind: str, disposition: str) -> str:
    if kind == MessageKind.INVITATION:
        return Wording.INVITATION
    return Wording.FINISH if disposition == Disposition.PARTIAL else Wording.REMINDER


def estimated_minutes(campaign: Campaign) -> int:
    """The questionnaire's own estimate when its definition gives one, else five minutes."""
    try:
        definition = json.loads(campaign.questionnaire_version.definition or "{}")
        minutes = int(definition.get("estimated_minutes") or DEFAULT_MINUTES)
    except (ValueError, TypeError, AttributeError):
        return DEFAULT_MINUTES
    return max(1, minutes)


def campaign_client(campaign: Campaign) -> Client | None:
    """The client whose customers the campaign surveys (its branding signs the messages)."""
    from sqlalchemy.orm import object_session

    session = object_session(campaign)
    if session is None or campaign.client_id is None:
        return None
    return session.get(Client, campaign.client_id)


def organisation_name(campaign: Campaign) -> str:
    """Who is asking: the client's name for its customers, else `BAROMETRE_ORGANISATION_NAME`,
    else the programme's name."""
    client = campaign_client(campaign)
    return ((client.display_name if client is not None else None)
            or current_app.config.get("ORGANISATION_NAME")
            or os.environ.get("BAROMETRE_ORGANISATION_NAME") or campaign.programme.name)


def sms_sender_name(campaign: Campaign) -> str:
    """A short name for SMS: the client's alphanumeric sender, else `BAROMETRE_SMS_SENDER_NAME`
    (one segment leaves ~25 characters)."""
    client = campaign_client(campaign)
    own = sms_sender_id(client.sender_name) if client is not None else None
    return (own or current_app.config.get("SMS_SENDER_NAME")
            or os.environ.get("BAROMETRE_SMS_SENDER_NAME") or organisation_name(campaign))


def closing_date(campaign: Campaign, language: str) -> str:
    end = campaign.fieldwork_end or date.today()
    return format_date(end, format="long", locale=language)


def render_template(
    campaign: Campaign, channel: str, wording: str, language: str
) -> MessageTemplate:
    """The campaign's message of this channel, wording and language; links as placeholders."""
    language = language if language in LANGUAGES else "fr"
    client = campaign_client(campaign)
    sender = {
        "sender_name": client.sender_name or client.display_name,
        "sender_email": client.sender_email, "reply_to": client.reply_to,
    } if client is not None and channel == Channel.EMAIL else {}
    colour = (client.primary_colour if client is not None else None) or DEFAULT_PRIMARY
    context = {
        "wording": wording,
        "organisation": organisation_name(campaign),
        "sms_name": sms_sender_name(campaign),
        "programme": campaign.programme.name,
        "closing_date": closing_date(campaign, language),
        "closing_date_short": (campaign.fieldwork_end or date.today()).strftime("%d/%m"),
        "minutes": estimated_minutes(campaign),
        "link": LINK,
        "unsubscribe_link": UNSUBSCRIBE,
        "mail_from": (client.sender_email if client is not None else None)
        or current_app.config.get("MAIL_FROM", ""),
        "privacy_notice": client.privacy_notice if client is not None else None,
        "dpo_contact": client.dpo_contact if client is not None else None,
        "colour": colour if readable_colour(colour) else DEFAULT_PRIMARY,
    }
    env = current_app.jinja_env
    if channel == Channel.SMS:
        text = env.get_template(f"sms/message.{language}.txt").render(context)
        return MessageTemplate(channel, language, wording, " ".join(text.split()), **sender)
    template = env.get_template(f"email/message.{language}.html")

    def block(name: str) -> str:
        return "".join(template.blocks[name](template.new_context(context))).strip()

    return MessageTemplate(
        channel,
        language,
        wording,
        text=block("text") + "\n",
        subject=" ".join(block("subject").split()),
        html=block("html"),
        **sender,
    )


def links_for(token_salt: str) -> dict[str, str]:
    """The personal survey and opt-out links of an invitation, rebuilt from its salt."""
    config = current_app.config
    token = token_for(config["SECRET_KEY"], token_salt)
    base = config["BASE_URL"].rstrip("/")
    return {LINK: f"{base}/r/{token}", UNSUBSCRIBE: f"{base}/unsubscribe/{token}"}


class TemplateCache:
    """Rendered templates by (campaign, channel, wording, language), for one sender run."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str, str, str], MessageTemplate] = {}

    def get(self, campaign: Campaign, channel: str, wording: str, language: str) -> MessageTemplate:
        key = (campaign.id, channel, wording, language)
        if key not in self._cache:
            self._cache[key] = render_template(campaign, channel, wording, language)
        return self._cache[key]
