"""performance criteria with their monthly values, and published results (issue #18)

Revision ID: performance_criteria
Revises: questionnaire_editor
"""
import sqlalchemy as sa
from alembic import op

revision = "performance_criteria"
down_revision = "questionnaire_editor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "performance_criterion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("label_fr", sa.String(length=200), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("unit IN ('rate', 'seconds', 'days', 'count')",
                           name=op.f("ck_performance_criterion_unit")),
        sa.CheckConstraint("direction IN ('higher', 'lower')",
                           name=op.f("ck_performance_criterion_direction")),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"],
                                name=op.f("fk_performance_criterion_programme_id_programme")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_criterion")),
        sa.UniqueConstraint("programme_id", "code",
                            name=op.f("uq_performance_criterion_programme_id_code")),
    )
    op.create_table(
        "criterion_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("numerator", sa.Integer(), nullable=True),
        sa.Column("denominator", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("length(month) = 7", name=op.f("ck_criterion_value_month_length")),
        sa.CheckConstraint(
            "numerator IS NULL OR (denominator IS NOT NULL AND numerator >= 0 "
            "AND denominator > 0 AND numerator <= denominator)",
            name=op.f("ck_criterion_value_rate_counts"),
        ),
        sa.ForeignKeyConstraint(["criterion_id"], ["performance_criterion.id"],
                                name=op.f("fk_criterion_value_criterion_id_performance_criterion"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criterion_value")),
        sa.UniqueConstraint("criterion_id", "month",
                            name=op.f("uq_criterion_value_criterion_id_month")),
    )
    op.create_index(op.f("ix_criterion_value_criterion_id"), "criterion_value",
                    ["criterion_id"], unique=False)
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("length(slug) >= 2", name=op.f("ck_publication_slug_length")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_publication_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"],
                                name=op.f("fk_publication_programme_id_programme")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication")),
        sa.UniqueConstraint("programme_id", name=op.f("uq_publication_programme_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_publication_slug")),
    )


def downgrade() -> None:
    op.drop_table("publication")
    op.drop_index(op.f("ix_criterion_value_criterion_id"), table_name="criterion_value")
    op.drop_table("criterion_value")
    op.drop_table("performance_criterion")
