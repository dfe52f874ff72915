"""client.logo_sha256: the logo's content hash kept beside it

Every respondent page names its client's logo by a URL carrying the content's hash; computing it
meant reading the whole image (up to 512 KB) and hashing it on each page. The hash is now written
with the logo.

Revision ID: client_logo_digest
Revises: client_viewer_role
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "client_logo_digest"
down_revision = "client_viewer_role"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("client", sa.Column("logo_sha256", sa.String(64), nullable=True))
    bind = op.get_bind()
    client = sa.table("client", sa.column("id", sa.Integer), sa.column("logo", sa.LargeBinary),
                      sa.column("logo_sha256", sa.String))
    for client_id, logo in bind.execute(sa.select(client.c.id, client.c.logo)
                                        .where(client.c.logo.is_not(None))).all():
        bind.execute(client.update().where(client.c.id == client_id)
                     .values(logo_sha256=hashlib.sha256(logo).hexdigest()))


def downgrade() -> None:
    op.drop_column("client", "logo_sha256")
