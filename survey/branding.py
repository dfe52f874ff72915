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


def client_branding(client_id: int | None) -> Branding:
    """The branding of client `client_id`, or of the installation's only client when None
    (barometre's own for an unbranded client or none).

    Read outside the ORM session, by statements that each commit on their own
    (`autocommit_connection`): a respondent's page must not take SQLite's write lock (every
    session transaction begins IMMEDIATE there), nor wait for whoever holds it."""
    from flask import url_for
    from sqlalchemy import select

    from survey.clients.operations import logo_digest
    from survey.database import autocommit_connection
    from survey.models import Client

    with autocommit_connection() as connection:
        if client_id is None:
            ids = connection.scalars(select(Client.id).order_by(Client.id).limit(2)).all()
            if len(ids) != 1:
                return Branding()
            client_id = ids[0]
        row = connection.execute(
            select(Client.display_name, Client.logo_sha256, Client.logo_mime,
                   Client.primary_colour, Client.privacy_notice, Client.dpo_contact)
            .where(Client.id == client_id)
        ).first()
    if row is None:
        return Branding()
    url = None
    if row.logo_mime and row.logo_sha256:
        url = url_for("clients.logo", client_id=client_id, digest=logo_digest(row.logo_sha256))
    return Branding(row.display_name, url, row.primary_colour or DEFAULT_PRIMARY,
                    row.privacy_notice, row.dpo_contact).checked()


def branding_client_id() -> int | None:
    """The client whose page is being drawn: the one a public page names (`g.branding_client`,
    set by the published results), else the request's client scope (a manager's client, a
    respondent's invitation's client); None: the installation's only client, if one."""
    from flask import g

    from survey.clients.scope import current_client_id

    named = g.get("branding_client")
    return named if named is not None else current_client_id()


def current_branding() -> Branding:
    """The branding of the page being drawn: its client's, read once per request."""
    from flask import g, has_request_context

    if not has_request_context():
        return Branding()
    found = g.get("_branding")
    if found is None:
        found = g._branding = client_branding(branding_client_id())
    return found
