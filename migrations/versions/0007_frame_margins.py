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


# Plain ALTER TABLE statements, not a batch copy: on SQLite, copying the campaign table that
# invitations reference breaks their foreign keys on the way down.
def upgrade() -> None:
    op.add_column("campaign", sa.Column("frame_margins", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("campaign", "frame_margins")
