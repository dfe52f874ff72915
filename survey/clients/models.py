"""The client company and which staff may work for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import db
from survey.models import UTCDateTime, utcnow


class Client(db.Model):
    """The company whose customers are surveyed: the centre itself, or a client of an
    outsourced centre. It owns every `ClientOwned` row; with one client it is invisible.

    The branding columns are shown to that client's customers (respondent pages, emails, SMS
    sender, the report's cover); blank ones fall back to the installation's settings.
    """

    __tablename__ = "client"
    __table_args__ = (
        CheckConstraint("length(slug) >= 2", name="slug_length"),
        CheckConstraint("retention_days IS NULL OR retention_days > 0", name="retention_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_mime: Mapped[str | None] = mapped_column(String(20))
    primary_colour: Mapped[str | None] = mapped_column(String(7))  # #RRGGBB
    sender_name: Mapped[str | None] = mapped_column(String(100))
    sender_email: Mapped[str | None] = mapped_column(String(254))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    privacy_notice: Mapped[str | None] = mapped_column(Text)
    dpo_contact: Mapped[str | None] = mapped_column(String(300))
    # None: the installation's retention period (`survey.privacy`).
    retention_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserClient(db.Model):
    """A member of staff limited to some clients: a user with no row here works for all."""

    __tablename__ = "user_client"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("client.id", ondelete="CASCADE"), primary_key=True, index=True
    )
