"""the survey's method per programme, as the report states it (issue #24)

Revision ID: programme_method
Revises: improvement_actions
"""
import sqlalchemy as sa
from alembic import op

revision = "programme_method"
down_revision = "improvement_actions"
branch_labels = None
depends_on = None

FIELDS = ("commissioned_by", "conducted_by", "objectives", "incentives", "subcontracting",
          "validation", "limitations")


def upgrade() -> None:
    # Plain ALTER TABLE statements: a batch copy of `programme` would break the foreign keys
    # of its campaigns on SQLite (see 0007_frame_margins).
    for name in FIELDS:
        op.add_column("programme", sa.Column(f"method_{name}", sa.Text(), nullable=True))


def downgrade() -> None:
    for name in reversed(FIELDS):
        op.drop_column("programme", f"method_{name}")
