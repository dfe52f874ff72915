"""the closed loop: service levels per programme, follow-up owners, outcomes, notes thread and
staff notifications (issue #19)

Revision ID: followups
Revises: survey_variables
"""
from alembic import op
import sqlalchemy as sa


revision = "followups"
down_revision = "survey_variables"
branch_labels = None
depends_on = None

OUTCOMES = "('resolved', 'not_resolved', 'complaint', 'unreachable', 'declined')"


def upgrade() -> None:
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_days", sa.Integer(), server_default="2",
                                      nullable=False))
        batch_op.add_column(sa.Column("detractor_days", sa.Integer(), server_default="5",
                                      nullable=False))

    # The single notes field becomes the first entry of each thread. Read first: on SQLite the
    # follow_up table is rebuilt below, and with foreign keys on, dropping the old table would
    # cascade to any note already pointing at it.
    bind = op.get_bind()
    notes = bind.execute(sa.text(
        "SELECT id, owner_id, notes, COALESCE(closed_at, created_at) FROM follow_up "
        "WHERE notes IS NOT NULL ORDER BY id")).all()

    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.add_column(sa.Column("score", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("score_max", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("assigned_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("first_contact_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("contact_attempts", sa.Integer(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("outcome_reference", sa.String(length=100), nullable=True))
        batch_op.drop_column("notes")
        batch_op.create_check_constraint(
            "outcome", f"outcome IS NULL OR outcome IN {OUTCOMES}")
        batch_op.create_check_constraint(
            "outcome_only_closed", "outcome IS NULL OR status = 'closed'")
        batch_op.create_check_constraint("contact_attempts", "contact_attempts >= 0")
        batch_op.create_index("ix_follow_up_status_due", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_follow_up_owner", ["owner_id"], unique=False)

    op.create_table(
        "follow_up_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("contact_attempt", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"],
                                name=op.f("fk_follow_up_note_author_id_user")),
        sa.ForeignKeyConstraint(["follow_up_id"], ["follow_up.id"], ondelete="CASCADE",
                                name=op.f("fk_follow_up_note_follow_up_id_follow_up")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_note")),
    )
    with op.batch_alter_table("follow_up_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_up_note_follow_up_id"), ["follow_up_id"],
                              unique=False)
    if notes:
        note = sa.table("follow_up_note", sa.column("follow_up_id"), sa.column("author_id"),
                        sa.column("body"), sa.column("contact_attempt"),
                        sa.column("created_at"))
        op.bulk_insert(note, [
            {"follow_up_id": row[0], "author_id": row[1], "body": row[2],
             "contact_attempt": False, "created_at": row[3]} for row in notes])

    op.create_table(
        "staff_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('assignment', 'digest')",
                           name=op.f("ck_staff_notification_kind")),
        sa.CheckConstraint("state IN ('queued', 'sending', 'sent', 'failed')",
                           name=op.f("ck_staff_notification_state")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_staff_notification_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notification")),
        sa.UniqueConstraint("key", name=op.f("uq_staff_notification_key")),
    )
    with op.batch_alter_table("staff_notification", schema=None) as batch_op:
        batch_op.create_index("ix_staff_notification_state", ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_notification_state")
    op.drop_table("staff_notification")

    # Each thread becomes one notes field again, its entries in order; read before the tables
    # change (see upgrade).
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT follow_up_id, body FROM follow_up_note ORDER BY follow_up_id, id")).all()
    joined: dict[int, list[str]] = {}
    for follow_up_id, body in rows:
        joined.setdefault(follow_up_id, []).append(body)
    with op.batch_alter_table("follow_up_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_note_follow_up_id"))
    op.drop_table("follow_up_note")

    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch_op.drop_index("ix_follow_up_owner")
        batch_op.drop_index("ix_follow_up_status_due")
        batch_op.drop_constraint(op.f("ck_follow_up_contact_attempts"), type_="check")
        batch_op.drop_constraint(op.f("ck_follow_up_outcome_only_closed"), type_="check")
        batch_op.drop_constraint(op.f("ck_follow_up_outcome"), type_="check")
        batch_op.drop_column("outcome_reference")
        batch_op.drop_column("outcome")
        batch_op.drop_column("contact_attempts")
        batch_op.drop_column("first_contact_at")
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("score_max")
        batch_op.drop_column("score")
    for follow_up_id, bodies in joined.items():
        bind.execute(sa.text("UPDATE follow_up SET notes = :notes WHERE id = :id"),
                     {"notes": "\n\n".join(bodies), "id": follow_up_id})

    # Dropped in place (SQLite 3.35+): rebuilding programme would drop a table that campaigns
    # point to.
    with op.batch_alter_table("programme", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("detractor_days")
        batch_op.drop_column("callback_days")
