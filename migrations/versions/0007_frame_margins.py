"""frame margins: the count of every level of every frame variable, frozen at the draw

Calibration margins are computed from the frame as it stood at the draw, so that a later
import of the customer base changes no report.

Revision ID: frame_margins
Revises: job_queue
"""

import sqlalchemy as sa
from alembic import op

revision = "frame_margins"
down_revision = "job_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("frame_margins", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("frame_margins")
