"""improvement actions decided from a campaign's results, with their history (issue #24)

Revision ID: improvement_actions
Revises: job_outputs
"""
import sqlalchemy as sa
from alembic import op

revision = "improvement_actions"
down_revision = "job_outputs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "improvement_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=True),
        sa.Column("commitment", sa.String(length=300), nullable=True),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("indicator", sa.String(length=100), nullable=True),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('planned', 'in_progress', 'done', 'abandoned')",
                           name=op.f("ck_improvement_action_status")),
        sa.CheckConstraint("(status = 'done') = (done_on IS NOT NULL)",
                           name=op.f("ck_improvement_action_done_on_iff_done")),
        sa.CheckConstraint("item IS NOT NULL OR commitment IS NOT NULL",
                           name=op.f("ck_improvement_action_addresses")),
        sa.CheckConstraint("(indicator IS NULL) = (target IS NULL)",
                           name=op.f("ck_improvement_action_target_with_indicator")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_improvement_action_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"],
                                name=op.f("fk_improvement_action_owner_id_user")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"],
                                name=op.f("fk_improvement_action_created_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_action")),
    )
    op.create_index("ix_improvement_action_status_due", "improvement_action",
                    ["status", "due_on"], unique=False)
    op.create_index("ix_improvement_action_campaign", "improvement_action", ["campaign_id"],
                    unique=False)
    op.create_index(op.f("ix_improvement_action_owner_id"), "improvement_action", ["owner_id"],
                    unique=False)
    op.create_table(
        "improvement_action_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('created', 'edited', 'status')",
                           name=op.f("ck_improvement_action_change_kind")),
        sa.ForeignKeyConstraint(["action_id"], ["improvement_action.id"],
                                name=op.f("fk_improvement_action_change_action_id_"
                                          "improvement_action"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"],
                                name=op.f("fk_improvement_action_change_actor_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_action_change")),
    )
    op.create_index(op.f("ix_improvement_action_change_action_id"), "improvement_action_change",
                    ["action_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_improvement_action_change_action_id"),
                  table_name="improvement_action_change")
    op.drop_table("improvement_action_change")
    op.drop_index(op.f("ix_improvement_action_owner_id"), table_name="improvement_action")
    op.drop_index("ix_improvement_action_campaign", table_name="improvement_action")
    op.drop_index("ix_improvement_action_status_due", table_name="improvement_action")
    op.drop_table("improvement_action")
