"""questionnaire drafts, numbered versions and a campaign's trend check (issue #17)

Revision ID: questionnaire_editor
Revises: frame_margins
"""
import sqlalchemy as sa
from alembic import op

revision = "questionnaire_editor"
down_revision = "frame_margins"
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
    # Plain ALTER TABLE statements (no batch copy of the table): on SQLite, copying a table that
    # campaigns and responses reference would fail their foreign keys. `number` stays nullable in
    # the schema; the application numbers every version it inserts (survey.models).
    op.add_column("questionnaire_version", sa.Column("number", sa.Integer(), nullable=True))
    op.add_column("questionnaire_version",
                  sa.Column("created_by", sa.String(length=100), nullable=True))

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
    op.create_index("uq_questionnaire_version_key_number", "questionnaire_version",
                    ["key", "number"], unique=True)
    op.add_column("campaign", sa.Column("trend_check", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("campaign", "trend_check")
    op.drop_index("uq_questionnaire_version_key_number", table_name="questionnaire_version")
    op.drop_column("questionnaire_version", "created_by")
    op.drop_column("questionnaire_version", "number")
    op.drop_table("questionnaire_draft")
