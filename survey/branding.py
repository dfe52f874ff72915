"""The branding a page shows: the name, logo and primary colour of whoever the customer knows.

One small function, `current_branding()`, that every template reads through the `branding`
global. Today it returns barometre's own look; the clients model (#16) makes it return the
current client's name, logo and colour. Whatever the source, `Branding.checked` keeps the
primary colour only when white text on it (buttons, the header bar) reaches WCAG AA contrast
(4.5:1), and falls back to barometre's blue otherwise, so that no client's colour can make a
page unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

DEFAULT_PRIMARY = "#0b4f9c"  # 8.0:1 against white
AA_CONTRAST = 4.5

__all__ = ["Branding", "DEFAULT_PRIMARY", "contrast_ratio", "current_branding"]


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of `#rrggbb` (or `#rgb`)."""
    text = colour.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) != 6:
        raise ValueError(f"colour {colour!r} is not of the form #rrggbb")
    r, g, b = (int(text[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    a, b = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@dataclass(frozen=True)
class Branding:
    """What a page shows of its owner. `name` None: the page shows barometre's name."""

    name: str | None = None
    logo_url: str | None = None
    primary: str = DEFAULT_PRIMARY
    # What the respondent pages and emails add at their foot (None: nothing).
    privacy_notice: str | None = None
    dpo_contact: str | None = None

    def checked(self) -> Branding:
        """This branding with a primary colour that white text can be read on (WCAG AA)."""
        try:
            readable = contrast_ratio(self.primary, "#ffffff") >= AA_CONTRAST
        except ValueError:
            readable = False
        if readable:
            return self
        return replace(self, primary=DEFAULT_PRIMARY)

    @property
    def is_default(self) -> bool:
        return self.primary == DEFAULT_PRIMARY

    @property
    def stylesheet_url(self) -> str | None:
        """The stylesheet that sets the client's colour (None: barometre's own colours)."""
        if self.is_default:
            return None
        from flask import url_for

        return url_for("clients.colours", colour=self.primary.lstrip("#").lower())


def client_branding(session: Any, client_id: int | None, *, logo_url: bool = True) -> Branding:
    """The branding of client `client_id` (barometre's own for None or an unbranded client)."""
    if client_id is None:
        return Branding()
    from sqlalchemy import select

    from survey.models import Client

    client = session.scalar(select(Client).where(Client.id == client_id)
                            .execution_options(barometre_all_clients=True))
    if client is None:
        return Branding()
    url = None
    if logo_url and client.logo_mime:
        from survey.clients.views import logo_url as url_of

        url = url_of(client)
    return Branding(client.display_name, url, client.primary_colour or DEFAULT_PRIMARY,
                    client.privacy_notice, client.dpo_contact).checked()


def branding_client_id() -> int | None:
    """The client whose page is being drawn: the one a public page names (`g.branding_client`,
    set by the published results), else the request's client scope (a manager's client, a
    respondent's invitation's client), else the installation's only client."""
    from flask import g

    from survey.clients.scope import current_client_id, only_client_id
    from survey.extensions import db

    named = g.get("branding_client")
    if named is not None:
        return named
    return current_client_id() or only_client_id(db.session)


def current_branding() -> Branding:
    """The branding of the page being drawn: its client's, read once per request."""
    from flask import g, has_request_context

    if not has_request_context():
        return Branding()
    found = g.get("_branding")
    if found is None:
        from survey.extensions import db

        found = g._branding = client_branding(db.session, branding_client_id())
    return found
