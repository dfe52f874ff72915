"""A client's settings: creating one, its branding (what its customers see), its retention
period, and which clients a member of staff works for (the admin pages, `users create
--client`). The views and commands validate the words; these functions check what must hold
whatever the caller (the logo is an image we re-encode, the colour is readable) and flush.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.branding import AA_CONTRAST, contrast_ratio
from survey.clients.scope import only_client_id
from survey.models import Client, Role, User, UserClient

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,49}$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# A logo is shown at most ~60 px high in a header and on a report cover: these caps leave room
# for a sharp one and keep a hostile upload (a decompression bomb, a 50 MB photo) out.
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_PIXELS = 2000 * 2000
LOGO_MAX_SIDE = 4000
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
# Alphanumeric SMS sender ids: 1 to 11 letters, digits and spaces, at least one letter.
SMS_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")

# The branding fields an edit may change, as they are audited (names only, never values:
# a privacy notice is long and an address is personal data of the client's staff).
BRANDING_FIELDS = ("display_name", "primary_colour", "sender_name", "sender_email", "reply_to",
                   "privacy_notice", "dpo_contact")


class ClientSettingsError(ValueError):
    """A setting that cannot be kept; `code` says which rule it broke (the views translate)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Logo:
    data: bytes
    mime: str


def readable_colour(colour: str) -> bool:
    """Whether white text on `colour` reaches WCAG AA (4.5:1)."""
    return bool(COLOUR.match(colour)) and contrast_ratio(colour, "#ffffff") >= AA_CONTRAST


def sms_sender_id(name: str | None) -> str | None:
    """`name` when operators accept it as an alphanumeric SMS sender, else None."""
    name = (name or "").strip()
    return name if SMS_SENDER_ID.match(name) else None


def reencode_logo(upload: bytes) -> Logo:
    """Decode an uploaded PNG or JPEG and encode it again, so that nothing but pixels is kept
    (no metadata, no trailing payload, no polyglot file served from our origin).

    Raises `ClientSettingsError` (code `logo_size`, `logo_pixels` or `logo_format`)."""
    from PIL import Image, UnidentifiedImageError

    if len(upload) > LOGO_MAX_BYTES:
        raise ClientSettingsError("logo_size", f"the logo is {len(upload)} bytes, over "
                                  f"{LOGO_MAX_BYTES}")
    try:
        with Image.open(io.BytesIO(upload)) as image:
            kind = image.format
            if kind not in LOGO_FORMATS:
                raise ClientSettingsError("logo_format", f"the logo is {kind}, not PNG or JPEG")
            width, height = image.size
            if width * height > LOGO_MAX_PIXELS or max(width, height) > LOGO_MAX_SIDE:
                raise ClientSettingsError("logo_pixels", f"the logo is {width}×{height} pixels")
            image.load()
            out = io.BytesIO()
            if kind == "PNG":
                mode = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") else "RGB"
                image.convert(mode).save(out, format="PNG", optimize=True)
            else:
                image.convert("RGB").save(out, format="JPEG", quality=90)
    except ClientSettingsError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ClientSettingsError("logo_format", f"the logo cannot be read: {exc}") from exc
    data = out.getvalue()
    if len(data) > LOGO_MAX_BYTES:
        raise ClientSettingsError("logo_size", "the re-encoded logo is too large")
    return Logo(data, LOGO_FORMATS[kind])


def logo_digest(sha256: str | None) -> str | None:
    """The part of a logo's hash (`Client.logo_sha256`) its URL carries, so that browsers may
    cache it for ever."""
    return sha256[:16] if sha256 else None


def create_client(session: Session, slug: str, name: str, *, actor: str,
                  actor_id: int | None = None) -> Client:
    slug, name = slug.strip(), name.strip()
    if not SLUG.match(slug):
        raise ClientSettingsError("slug", f"slug {slug!r}: 2 to 50 lower-case letters, "
                                  "digits and hyphens")
    if not name or len(name) > 200:
        raise ClientSettingsError("name", "name: 1 to 200 characters")
    if session.scalar(select(Client.id).where(Client.slug == slug)) is not None:
        raise ClientSettingsError("slug_taken", f"slug {slug!r}: a client has this slug already")
    client = Client(slug=slug, name=name)
    session.add(client)
    session.flush()
    record_event(session, "client.create", actor=actor, actor_id=actor_id,
                 object_type="client", object_id=client.id, summary={"slug": slug},
                 client_id=client.id)
    return client


def update_client(session: Session, client: Client, values: dict[str, Any], *,
                  logo: Logo | None = None, remove_logo: bool = False,
                  actor: str, actor_id: int | None = None) -> list[str]:
    """Change `client`'s branding (and retention period when `values` has one); returns the
    names of the settings that changed, which the audit trail records."""
    changed = []
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip() or None
        if name == "primary_colour" and value is not None:
            value = value.lower()
            if not readable_colour(value):
                raise ClientSettingsError("colour", f"{value}: white text on it is not "
                                          "readable (WCAG AA 4.5:1)")
        if name == "retention_days" and value is not None and int(value) < 1:
            raise ClientSettingsError("retention", "the retention period is one day or more")
        if getattr(client, name) != value:
            setattr(client, name, value)
            changed.append(name)
    if logo is not None:
        client.logo, client.logo_mime = logo.data, logo.mime
        changed.append("logo")
    elif remove_logo and client.logo_mime is not None:
        client.logo, client.logo_mime = None, None
        changed.append("logo")
    if changed:
        session.flush()
        record_event(session, "client.update", actor=actor, actor_id=actor_id,
                     object_type="client", object_id=client.id,
                     summary={"slug": client.slug, "changed": changed}, client_id=client.id)
    return changed


class ClientChoiceError(ValueError):
    """The clients asked for do not suit the account (message shown to the admin)."""


def user_client_ids(session: Session, user: User) -> list[int]:
    return sorted(session.scalars(select(UserClient.client_id).where(
        UserClient.user_id == user.id)))


def check_clients(session: Session, role: str, client_ids: Iterable[int]) -> list[int]:
    """The client ids an account of `role` keeps: none for an admin (every client), exactly one
    for a client's viewer (the installation's only client when none is named).

    Raises `ClientChoiceError` for an unknown client or a viewer without exactly one."""
    wanted = sorted(set(client_ids))
    known = set(session.scalars(select(Client.id)))
    if set(wanted) - known:
        raise ClientChoiceError("unknown client")
    if role == Role.ADMIN.value:
        return []
    if role == Role.CLIENT_VIEWER.value:
        if not wanted and (only := only_client_id(session)) is not None:
            wanted = [only]
        if len(wanted) != 1:
            raise ClientChoiceError("a client viewer belongs to exactly one client")
    return wanted


def set_user_clients(session: Session, user: User, client_ids: Iterable[int], *, actor: str,
                     actor_id: int | None = None, role: str | None = None) -> bool:
    """Limit `user` (with `role`, default theirs) to `client_ids`; False when nothing changes.
    Audited as `user.clients` with the clients' slugs."""
    kept = check_clients(session, role or user.role, client_ids)
    if kept == user_client_ids(session, user):
        return False
    session.execute(delete(UserClient).where(UserClient.user_id == user.id))
    session.add_all(UserClient(user_id=user.id, client_id=client_id) for client_id in kept)
    slugs = list(session.scalars(select(Client.slug).where(Client.id.in_(kept))
                                 .order_by(Client.slug))) if kept else []
    record_event(session, "user.clients", actor=actor, actor_id=actor_id, object_type="user",
                 object_id=user.id, summary={"clients": slugs or "all"})
    session.flush()
    return True
