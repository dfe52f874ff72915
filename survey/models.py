"""The domain model of docs/domain.md, as typed SQLAlchemy 2 mappings.

Personal data (email, phone, name) lives only in `Customer` and `Message`, so that purging those
columns leaves every statistic intact. Constraints protect what the services rely on: one
invitation per customer and campaign, one response per invitation, unique token hashes, and check
constraints on every state column.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always read back timezone-aware.

    SQLite keeps no time zone; storing UTC everywhere makes both databases agree.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: barometre stores aware UTC timestamps")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _in(column: str, values: type[enum.Enum] | tuple[str, ...]) -> str:
    """SQL for a check constraint `column IN (...)` over an enum's values."""
    items = [v.value for v in values] if isinstance(values, type) else list(values)
    return f"{column} IN ({', '.join(repr(v) for v in items)})"


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    AUDITOR = "auditor"
    CLIENT_VIEWER = "client_viewer"  # a client's own staff: aggregated figures only


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SAMPLED = "sampled"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class Disposition(enum.StrEnum):
    """What became of one invitation; `analysis.aapor` maps these to AAPOR codes."""

    PENDING = "pending"  # not sent yet
    SENT = "sent"  # accepted by the provider, nothing heard back
    DELIVERED = "delivered"  # the provider confirmed delivery
    BOUNCED = "bounced"  # undeliverable address or number
    FAILED = "failed"  # could not be sent (invalid contact)
    OPTED_OUT = "opted_out"  # unsubscribed or refused
    PARTIAL = "partial"  # started, not finished
    COMPLETE = "complete"
    INELIGIBLE = "ineligible"  # outside the target population


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class MessageKind(enum.StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"


class MessageState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a worker; in flight
    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    FAILED = "failed"
    CANCELLED = "cancelled"  # not sent on purpose (opt-out, response completed)


class ResponseStatus(enum.StrEnum):
    PARTIAL = "partial"
    COMPLETE = "complete"


class FollowUpKind(enum.StrEnum):
    CALLBACK = "callback"
    DETRACTOR = "detractor"


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class FollowUpOutcome(enum.StrEnum):
    """How a follow-up ended (ISO 10004's "recourse" handled, or why not)."""

    RESOLVED = "resolved"  # reached, and the matter resolved
    NOT_RESOLVED = "not_resolved"  # reached, not resolved
    COMPLAINT = "complaint"  # a complaint opened in the centre's own tool (with its reference)
    UNREACHABLE = "unreachable"  # not reachable after the tries recorded
    DECLINED = "declined"  # the customer declined


class NotificationState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by one process; no other sends it
    SENT = "sent"
    FAILED = "failed"


class JobKind(enum.StrEnum):
    """The kinds of background job of the core; each has its handler in `survey.jobs.tasks`.

    Other packages add kinds with `survey.worker.register_job_type` (the column takes any
    registered name; the worker refuses an unknown one)."""

    CUSTOMER_IMPORT = "customer_import"
    REPORT = "report"
    AUDIT_PACK = "audit_pack"  # the auditor's pack of a campaign (`survey.auditpack.tasks`)
    POSTER = "poster"  # a published poster's PDF (`survey.publication.tasks`)
    SCHEDULED = "scheduled"  # one run of a periodic task (`survey.worker.scheduler`)


class JobState(enum.StrEnum):
    """The stored lifecycle of a job; `survey.jobs.operations.job_state` adds what a stale
    heartbeat means (a job whose process died is failed, not running forever)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


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
    # The logo's SHA-256, kept with it (`_keep_logo_digest`): pages name the logo by it without
    # reading the image.
    logo_sha256: Mapped[str | None] = mapped_column(String(64))
    primary_colour: Mapped[str | None] = mapped_column(String(7))  # #RRGGBB
    sender_name: Mapped[str | None] = mapped_column(String(100))
    sender_email: Mapped[str | None] = mapped_column(String(254))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    privacy_notice: Mapped[str | None] = mapped_column(Text)
    dpo_contact: Mapped[str | None] = mapped_column(String(300))
    # None: the installation's retention period (`survey.privacy`).
    retention_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(Client.logo, "set")
def _keep_logo_digest(client: Client, value: bytes | None, _old: Any, _initiator: Any) -> None:
    """Whoever sets a logo (the settings page, a test, a script) sets its hash with it."""
    client.logo_sha256 = hashlib.sha256(value).hexdigest() if value else None


class UserClient(db.Model):
    """A member of staff limited to some clients: a user with no row here works for all."""

    __tablename__ = "user_client"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("client.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ClientOwned:
    """A row of one client's data (`survey.clients.models.Client`).

    `survey.clients.scope` limits every ORM query on these tables to the current client's rows
    and fills `client_id` of new rows from it: views and services never filter by client.
    """

    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)


class ClientTagged:
    """A row that belongs to a client or to the installation (`client_id` null: a system job,
    a sign-in's audit event); a client's scope sees its own rows and the installation's."""

    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), index=True)


class User(db.Model):
    __tablename__ = "user"
    __table_args__ = (CheckConstraint(_in("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Flask-Login's protocol, written out so that deactivation takes effect at once.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class UserSession(db.Model):
    """One login of a staff member: the cookie carries its random id, the table its hash.

    A session is valid while it is not ended and younger than the absolute lifetime counted
    from login; logout, deactivation and a password change end it here, so that a cookie
    copied before any of those is refused afterwards.
    """

    __tablename__ = "user_session"
    __table_args__ = (CheckConstraint("length(token_hash) = 64", name="token_hash_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(30))


class PasswordReset(db.Model):
    """A one-time link to set a new password, sent by email; only its hash is kept."""

    __tablename__ = "password_reset"
    __table_args__ = (CheckConstraint("length(token_hash) = 64", name="token_hash_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Programme(ClientOwned, db.Model):
    __tablename__ = "programme"
    __table_args__ = (UniqueConstraint("client_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Service levels of the loop, in working days of the centre's calendar (survey.followups).
    callback_days: Mapped[int] = mapped_column(default=2, server_default="2")
    detractor_days: Mapped[int] = mapped_column(default=5, server_default="5")
    # The survey's method as the report states it (ISO 20252's reporting, issue #24): who
    # commissioned and who conducted it, its objectives, incentives, subcontracting, the data
    # validation and cleaning rules, its limitations. Blank: the report's default sentence.
    method_commissioned_by: Mapped[str | None] = mapped_column(Text)
    method_conducted_by: Mapped[str | None] = mapped_column(Text)
    method_objectives: Mapped[str | None] = mapped_column(Text)
    method_incentives: Mapped[str | None] = mapped_column(Text)
    method_subcontracting: Mapped[str | None] = mapped_column(Text)
    method_validation: Mapped[str | None] = mapped_column(Text)
    method_limitations: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaigns: Mapped[list[Campaign]] = relationship(back_populates="programme")


class QuestionnaireVersion(ClientOwned, db.Model):
    """A frozen copy of a questionnaire definition; its SHA-256 names its canonical JSON."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (
        UniqueConstraint("client_id", "key", "sha256"),
        Index("uq_questionnaire_version_client_id_key_number", "client_id", "key", "number",
              unique=True),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    # 1, 2, 3… per key, in the order frozen: what `questionnaires export KEY --version N` names.
    # (Nullable in the schema only: `_number_version` numbers every version inserted.)
    number: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    definition: Mapped[str] = mapped_column(Text)  # canonical JSON
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(QuestionnaireVersion, "before_insert")
def _number_version(mapper: Any, connection: Any, version: QuestionnaireVersion) -> None:
    """Number a new version after the last of its key, wherever it is frozen (campaign
    creation, the editor, an import)."""
    if version.number is None:
        table = QuestionnaireVersion.__table__
        last = connection.scalar(
            select(func.max(table.c.number)).where(
                table.c.key == version.key, table.c.client_id == version.client_id
            )
        )
        version.number = (last or 0) + 1


class QuestionnaireDraft(ClientOwned, db.Model):
    """A questionnaire being written: definition data that may be invalid, saved as it is.

    `data` is what a YAML file would hold; freezing it (once valid) makes a
    QuestionnaireVersion. `undo` keeps the data before the last change, and `undo_label` what
    that change was, so that the last change can be taken back.
    """

    __tablename__ = "questionnaire_draft"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    undo: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    undo_label: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(100))
    updated_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CustomerImport(ClientOwned, db.Model):
    __tablename__ = "customer_import"
    __table_args__ = (CheckConstraint("rows_total >= 0 AND rows_rejected >= 0", name="counts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_created: Mapped[int] = mapped_column(default=0)
    rows_updated: Mapped[int] = mapped_column(default=0)
    rows_unchanged: Mapped[int] = mapped_column(default=0)
    rows_rejected: Mapped[int] = mapped_column(default=0)
    rejects_accepted: Mapped[bool] = mapped_column(default=False)
    rejects: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Customer(ClientOwned, db.Model):
    __tablename__ = "customer"
    __table_args__ = (
        CheckConstraint("language IN ('fr', 'en')", name="language"),
        Index("ix_customer_email", "email"),
        Index("ix_customer_phone", "phone"),
        # The same id, email or phone may be two customers of two clients.
        UniqueConstraint("client_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(2), default="fr")
    last_contact_on: Mapped[date | None] = mapped_column(Date)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consent: Mapped[bool] = mapped_column(default=True)
    # Kept when a purge cuts invitations from customers, so that the recontact rule still holds.
    last_invited_on: Mapped[date | None] = mapped_column(Date)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SurveyVariable(ClientOwned, db.Model):
    """A column of the customer file declared as a survey variable (segment, channel, site…).

    Only declared variables are stored on customers, copied into invitations and reach exports,
    design files and reports: every other column of a customer file is either a customer field
    (identifier, contact) or ignored, and never stored. `survey.frame.variables` reads them.
    """

    __tablename__ = "survey_variable"
    __table_args__ = (
        CheckConstraint("max_levels > 0", name="max_levels"),
        UniqueConstraint("client_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))  # key in `attributes`
    label: Mapped[str] = mapped_column(String(200))  # the header as the file wrote it
    # None: any value, up to `max_levels` distinct ones; else the only values accepted.
    allowed_values: Mapped[list[str] | None] = mapped_column(JSON)
    max_levels: Mapped[int] = mapped_column(default=50)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerImportTouch(db.Model):
    """Which import created or updated which customer: the history a re-import keeps."""

    __tablename__ = "customer_import_touch"
    __table_args__ = (
        UniqueConstraint("import_id", "customer_id"),
        CheckConstraint("action IN ('created', 'updated', 'unchanged')", name="action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("customer_import.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))


class Suppression(ClientOwned, db.Model):
    """An opt-out, stored only as a keyed hash of the normalised email or phone."""

    __tablename__ = "suppression"
    __table_args__ = (
        CheckConstraint("kind IN ('email', 'phone')", name="kind"),
        CheckConstraint("length(contact_hash) = 64", name="hash_length"),
        # An opt-out from one client's survey does not silence another client's.
        UniqueConstraint("client_id", "contact_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(5))
    reason: Mapped[str] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Campaign(ClientOwned, db.Model):
    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint(_in("status", CampaignStatus), name="status"),
        CheckConstraint("year BETWEEN 2000 AND 2200", name="year"),
        CheckConstraint(
            "fieldwork_end IS NULL OR fieldwork_start IS NULL OR fieldwork_end >= fieldwork_start",
            name="fieldwork_window",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    year: Mapped[int] = mapped_column(Integer)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    status: Mapped[str] = mapped_column(String(10), default=CampaignStatus.DRAFT.value)
    channels: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["email"])
    fieldwork_start: Mapped[date | None] = mapped_column(Date)
    fieldwork_end: Mapped[date | None] = mapped_column(Date)
    reminder_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [7, 14])
    # Plan: strata variables, target margin, confidence, response rate, allocation, sizes.
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    seed: Mapped[int | None] = mapped_column(Integer)
    # Frozen at draw time: the population of the analysis.
    frame_counts: Mapped[dict[str, int] | None] = mapped_column(JSON)
    # Frozen at draw time too: {variable: {level: count}} over the frame, the calibration's
    # margins whatever the base becomes after (`survey.weighting.margins`).
    frame_margins: Mapped[dict[str, dict[str, int]] | None] = mapped_column(JSON)
    frame_sha256: Mapped[str | None] = mapped_column(String(64))
    exclusions: Mapped[dict[str, int] | None] = mapped_column(JSON)
    # The comparability of the questionnaire with the programme's previous campaign (which
    # items' trends are broken and why), and who confirmed it: see survey.editor.operations.
    trend_check: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    programme: Mapped[Programme] = relationship(back_populates="campaigns")
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()


class Invitation(ClientOwned, db.Model):
    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id"),
        CheckConstraint(_in("disposition", Disposition), name="disposition"),
        CheckConstraint(_in("channel", Channel), name="channel"),
        CheckConstraint("design_weight > 0", name="design_weight_positive"),
        CheckConstraint("length(token_hash) = 64", name="token_hash_length"),
        Index("ix_invitation_campaign_disposition", "campaign_id", "disposition"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    # Nullable: purge cuts the link between an answer and a person, and test invitations have none.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    stratum: Mapped[str] = mapped_column(String(200))
    design_weight: Mapped[float] = mapped_column(Float)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The link's token is rebuilt from this salt and the secret key (`survey.tokens`).
    token_salt: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(2), default="fr")
    channel: Mapped[str] = mapped_column(String(5), default=Channel.EMAIL.value)
    disposition: Mapped[str] = mapped_column(String(12), default=Disposition.PENDING.value)
    is_test: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()
    customer: Mapped[Customer | None] = relationship()


class Message(ClientOwned, db.Model):
    """One email or SMS to send: the Message table is the queue (transactional outbox)."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("invitation_id", "sequence"),
        CheckConstraint(_in("channel", Channel), name="channel"),
        CheckConstraint(_in("kind", MessageKind), name="kind"),
        CheckConstraint(_in("state", MessageState), name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint("sequence >= 0", name="sequence"),
        Index("ix_message_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    channel: Mapped[str] = mapped_column(String(5))
    kind: Mapped[str] = mapped_column(String(10), default=MessageKind.INVITATION.value)
    sequence: Mapped[int] = mapped_column(default=0)  # 0: invitation, 1..: reminders
    to_address: Mapped[str | None] = mapped_column(String(254))  # personal data; purged
    state: Mapped[str] = mapped_column(String(10), default=MessageState.QUEUED.value)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    batch_id: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set when a worker died with this message in flight and it was sent again.
    possibly_duplicated: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invitation: Mapped[Invitation] = relationship()


class WebhookEvent(db.Model):
    """A provider event already applied; webhooks are deduplicated on (provider, event_id)."""

    __tablename__ = "webhook_event"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(50))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Response(ClientOwned, db.Model):
    """The answers of one invitation. One row per invitation: a partial becomes complete."""

    __tablename__ = "response"
    __table_args__ = (
        CheckConstraint(_in("status", ResponseStatus), name="status"),
        CheckConstraint(
            "(status = 'complete') = (completed_at IS NOT NULL)", name="completed_at_iff_complete"
        ),
        CheckConstraint("current_page >= 0", name="current_page"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id"), unique=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    current_page: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default=ResponseStatus.PARTIAL.value)
    language: Mapped[str] = mapped_column(String(2), default="fr")
    # Incremented at every saved page: a stale resubmission is recognised and not applied twice.
    revision: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invitation: Mapped[Invitation] = relationship()


class FollowUp(ClientOwned, db.Model):
    """A callback request or a detractor alert, handled in a closed loop (`survey.followups`)."""

    __tablename__ = "follow_up"
    __table_args__ = (
        UniqueConstraint("response_id", "kind"),
        CheckConstraint(_in("kind", FollowUpKind), name="kind"),
        CheckConstraint(_in("status", FollowUpStatus), name="status"),
        CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)", name="closed_at_iff_closed"
        ),
        CheckConstraint(
            "outcome IS NULL OR " + _in("outcome", FollowUpOutcome), name="outcome"
        ),
        CheckConstraint("outcome IS NULL OR status = 'closed'", name="outcome_only_closed"),
        CheckConstraint("contact_attempts >= 0", name="contact_attempts"),
        Index("ix_follow_up_status_due", "status", "due_at"),
        Index("ix_follow_up_owner", "owner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"))
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), default=FollowUpStatus.OPEN.value)
    preferred_channel: Mapped[str | None] = mapped_column(String(10))
    # The answer that raised it (NPS, else overall satisfaction) and its scale's top, kept so
    # that the queue sorts and filters on it without reading every response.
    score: Mapped[int | None] = mapped_column(Integer)
    score_max: Mapped[int | None] = mapped_column(Integer)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    # The complaint's reference in the centre's own tool (outcome `complaint`).
    outcome_reference: Mapped[str | None] = mapped_column(String(100))

    response: Mapped[Response] = relationship()
    owner: Mapped[User | None] = relationship()
    campaign: Mapped[Campaign] = relationship()
    notes: Mapped[list[FollowUpNote]] = relationship(
        order_by="FollowUpNote.id", cascade="all, delete-orphan", back_populates="follow_up"
    )


class FollowUpNote(db.Model):
    """One entry of a follow-up's notes thread; it may record a try to reach the customer."""

    __tablename__ = "follow_up_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id", ondelete="CASCADE"),
                                              index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    contact_attempt: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    follow_up: Mapped[FollowUp] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


class StaffNotification(db.Model):
    """An email to a member of staff (assignment, daily digest): its own small outbox.

    `key` makes each notification happen once: two workers building the same day's digest
    insert the same keys, and the second insert is refused.
    """

    __tablename__ = "staff_notification"
    __table_args__ = (
        CheckConstraint(_in("state", NotificationState), name="state"),
        CheckConstraint("kind IN ('assignment', 'digest')", name="kind"),
        Index("ix_staff_notification_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default=NotificationState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(ClientTagged, db.Model):
    """Append-only record of every action that changes data, chained by a keyed hash once
    sealed (`survey.audit`): `seq`, `prev_hash` and `hash` stay null until then."""

    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint("length(hash) = 64", name="hash_length"),
        Index("ix_audit_event_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor: Mapped[str] = mapped_column(String(100))  # "user:3", "cli", "respondent", "worker:…"
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str | None] = mapped_column(String(50))
    object_id: Mapped[str | None] = mapped_column(String(100))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The position in the chain, given by the sealer; null while the event waits for it.
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)


class Report(ClientOwned, db.Model):
    """A generated report, kept so the one an auditor read can be shown again unchanged."""

    __tablename__ = "report"
    __table_args__ = (CheckConstraint("language IN ('fr', 'en')", name="language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    language: Mapped[str] = mapped_column(String(2), default="fr")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data_sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    # The file's bytes, so that any web server shows a report that a worker on another machine
    # generated (each machine has its own instance folder).
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    published: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerHeartbeat(db.Model):
    """The last sign of life of each sender worker, read by the health endpoint."""

    __tablename__ = "worker_heartbeat"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(ClientTagged, db.Model):
    """Background work (customer import, report, scheduled task...), queued in the database and
    run by `barometre worker` processes (`survey.worker`).

    A worker claims a queued job whose `run_after` has come (`FOR UPDATE SKIP LOCKED` on
    PostgreSQL), beats its heartbeat while it runs, and records its end in the transaction that
    commits the job's own work, so that a job is done exactly once. A job whose worker died
    (stale heartbeat) is queued again for another worker, up to `max_attempts`. Parameters,
    result and error hold no personal data beyond the masked rejects an import already records;
    `payload` (an uploaded file) is dropped when the job ends.
    """

    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint(_in("state", JobState), name="state"),
        CheckConstraint("done >= 0 AND (total IS NULL OR total >= 0)", name="progress"),
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts"),
        CheckConstraint(
            "(state IN ('succeeded', 'failed')) = (finished_at IS NOT NULL)",
            name="finished_at_iff_finished",
        ),
        Index("ix_job_kind_state", "kind", "state"),
        Index("ix_job_state_run_after", "state", "run_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))  # a registered job type
    # Null for an import: the customer base is shared by every campaign.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED.value)
    stage: Mapped[str | None] = mapped_column(String(30))  # a key of the task's stages
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None] = mapped_column(Integer)  # None while unknown
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign | None] = relationship()


class JobOutput(ClientTagged, db.Model):
    """A file a job made for people to download (an auditor's pack, a poster's PDF).

    Its bytes are kept in the database, so that any web server sends what a worker on another
    machine made (each machine has its own instance folder, which keeps a copy as a cache);
    `sha256` is checked whenever it is read. `name` says what it is and is unique: a pack is
    `packs/<job id>.zip`, a poster `posters/<SHA-256 of its HTML>.pdf` (printed once per change
    of its numbers). Outputs hold no personal data of the customer base.
    """

    __tablename__ = "job_output"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    mimetype: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScheduledTask(db.Model):
    """When each periodic task runs next: the worker whose conditional update moves
    `next_run_at` forward queues the run, so that a task runs once across all workers."""

    __tablename__ = "scheduled_task"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_job_id: Mapped[int | None] = mapped_column(Integer)


class ThrottleHit(db.Model):
    """One counted attempt of a throttle (a failed login, a bad link), shared by every web
    server; used when no Redis is configured (`survey.throttle`)."""

    __tablename__ = "throttle_hit"
    __table_args__ = (Index("ix_throttle_hit_name_key_at", "name", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    key: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CriterionUnit(enum.StrEnum):
    """What a performance criterion counts: a rate (a share of the cases, numerator over
    denominator), a duration in seconds or days, or a count."""

    RATE = "rate"
    SECONDS = "seconds"
    DAYS = "days"
    COUNT = "count"


class CriterionDirection(enum.StrEnum):
    HIGHER = "higher"  # the target is a floor: higher is better
    LOWER = "lower"  # the target is a ceiling: lower is better


class PerformanceCriterion(ClientOwned, db.Model):
    """A commitment of the centre measured by its own tools (telephony, ticketing), with its
    target: NF Service's "performance criteria", shown beside the satisfaction
    (`survey.publication`).

    A rate's target and values are shares (0.8 for 80 %); `item` names the questionnaire item
    (question code) that asks the customers about the same commitment, when there is one.
    """

    __tablename__ = "performance_criterion"
    __table_args__ = (
        UniqueConstraint("programme_id", "code"),
        CheckConstraint(_in("unit", CriterionUnit), name="unit"),
        CheckConstraint(_in("direction", CriterionDirection), name="direction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    code: Mapped[str] = mapped_column(String(50))
    label_fr: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(10))
    target: Mapped[float] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(10))
    item: Mapped[str | None] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme: Mapped[Programme] = relationship()
    values: Mapped[list[CriterionValue]] = relationship(
        order_by="CriterionValue.month", cascade="all, delete-orphan", back_populates="criterion"
    )


class CriterionValue(db.Model):
    """One month's measured value of a criterion (imported from a CSV or typed in a form)."""

    __tablename__ = "criterion_value"
    __table_args__ = (
        UniqueConstraint("criterion_id", "month"),
        CheckConstraint("length(month) = 7", name="month_length"),
        CheckConstraint(
            "numerator IS NULL OR (denominator IS NOT NULL AND numerator >= 0 "
            "AND denominator > 0 AND numerator <= denominator)",
            name="rate_counts",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("performance_criterion.id", ondelete="CASCADE"), index=True
    )
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    value: Mapped[float] = mapped_column(Float)
    numerator: Mapped[int | None] = mapped_column(Integer)
    denominator: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))  # "form", or the imported file's name
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    criterion: Mapped[PerformanceCriterion] = relationship(back_populates="values")


class Publication(ClientOwned, db.Model):
    """A programme's results published at `/p/<slug>` without login.

    `figures` is the public results as published (`survey.publication.results`), computed when
    the manager publishes, so that the page and its open data stay the same numbers until the
    next publication; the performance criteria are read live (they change every month).
    """

    __tablename__ = "publication"
    __table_args__ = (CheckConstraint("length(slug) >= 2", name="slug_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    published: Mapped[bool] = mapped_column(default=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    figures: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    programme: Mapped[Programme] = relationship()


class ActionStatus(enum.StrEnum):
    """Where an improvement action stands. `survey.improvement.operations.change_status` is the
    one place that moves it (and sets `done_on`)."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    ABANDONED = "abandoned"


class ImprovementAction(ClientOwned, db.Model):
    """An action decided from a campaign's results (ISO 10004's "improvement"): what it
    addresses (a questionnaire item, or a commitment written freely), what will change, who
    carries it, by when, and the indicator of the report it aims to move, with the value aimed
    at. The next campaign's report follows it (`survey.improvement.follow_up`).

    A proportion's `target` is a share (0.85 for 85 %), as the estimates are; a mean, an NPS or
    the index are in their own scale. Every change is kept in `changes` and in the audit trail.
    """

    __tablename__ = "improvement_action"
    __table_args__ = (
        CheckConstraint(_in("status", ActionStatus), name="status"),
        CheckConstraint("(status = 'done') = (done_on IS NOT NULL)", name="done_on_iff_done"),
        CheckConstraint("item IS NOT NULL OR commitment IS NOT NULL", name="addresses"),
        CheckConstraint("(indicator IS NULL) = (target IS NULL)", name="target_with_indicator"),
        Index("ix_improvement_action_status_due", "status", "due_on"),
        Index("ix_improvement_action_campaign", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The campaign whose results led to the action; the programme's next one follows it.
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    title: Mapped[str] = mapped_column(String(200))
    item: Mapped[str | None] = mapped_column(String(100))  # a question code
    commitment: Mapped[str | None] = mapped_column(String(300))
    change: Mapped[str] = mapped_column(Text)  # what will change
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    indicator: Mapped[str | None] = mapped_column(String(100))  # an indicator of the design
    target: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default=ActionStatus.PLANNED.value)
    done_on: Mapped[date | None] = mapped_column(Date)
    # Shown on the programme's published results ("what we changed this year") once done.
    public: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    changes: Mapped[list[ImprovementActionChange]] = relationship(
        order_by="ImprovementActionChange.id", cascade="all, delete-orphan",
        back_populates="action",
    )


class ImprovementActionChange(db.Model):
    """One change of an improvement action: who, when, and each field's value before and after
    (`fields` maps a field to `[before, after]`, dates as ISO text)."""

    __tablename__ = "improvement_action_change"
    __table_args__ = (
        CheckConstraint("kind IN ('created', 'edited', 'status')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("improvement_action.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    action: Mapped[ImprovementAction] = relationship(back_populates="changes")
    author: Mapped[User | None] = relationship()


# The current client's scope is applied by session listeners: registered wherever models are.
from survey.clients import scope as _scope  # noqa: E402, F401
