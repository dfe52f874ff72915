"""job outputs: the files background jobs make for download (auditor's packs, posters) (issue #21)

Revision ID: job_outputs
Revises: performance_criteria
"""
import sqlalchemy as sa
from alembic import op

revision = "job_outputs"
down_revision = "performance_criteria"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_output",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("mimetype", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_job_output_job_id_job"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_output")),
        sa.UniqueConstraint("name", name=op.f("uq_job_output_name")),
    )


def downgrade() -> None:
    op.drop_table("job_output")
