"""questionnaire drafts, numbered versions and a campaign's trend check (issue #17)

Revision ID: questionnaire_editor
Revises: survey_variables
"""
import sqlalchemy as sa
from alembic import op

revision = "questionnaire_editor"
down_revision = "survey_variables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "questionnaire_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("undo", sa.JSON(), nullable=True),
        sa.Column("undo_label", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_draft")),
        sa.UniqueConstraint("key", name=op.f("uq_questionnaire_draft_key")),
    )
    with op.batch_alter_table("questionnaire_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=100), nullable=True))

    # Versions frozen before the editor are numbered in the order they were frozen.
    connection = op.get_bind()
    version = sa.table("questionnaire_version", sa.column("id", sa.Integer),
                       sa.column("key", sa.String), sa.column("number", sa.Integer))
    counts: dict[str, int] = {}
    for row in connection.execute(sa.select(version.c.id, version.c.key).order_by(version.c.id)):
        counts[row.key] = counts.get(row.key, 0) + 1
        connection.execute(
            version.update().where(version.c.id == row.id).values(number=counts[row.key])
        )

    with op.batch_alter_table("questionnaire_version", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_questionnaire_version_key_number"), ["key", "number"]
        )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trend_check", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("trend_check")
    with op.batch_alter_table("questionnaire_version", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_questionnaire_version_key_number"), type_="unique")
        batch_op.drop_column("created_by")
        batch_op.drop_column("number")
    op.drop_table("questionnaire_draft")
