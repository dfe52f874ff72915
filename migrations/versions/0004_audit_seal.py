"""audit events are sealed after they are appended: a chain position, keyed hashes

Appends no longer compute the chain (they took a global lock, twice per response); a sealer
gives each committed event its position (`seq`) and its HMAC under BAROMETRE_AUDIT_KEY. The
events of the earlier plain SHA-256 chain are unsealed here, and the sealer chains them again,
in their order, under the key.

Revision ID: audit_seal
Revises: followups
"""
from alembic import op
import sqlalchemy as sa


revision = 'audit_seal'
down_revision = 'followups'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE audit_event SET prev_hash = NULL")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_seq'), ['seq'])
    op.execute("UPDATE audit_event SET hash = NULL")


def downgrade() -> None:
    # The plain chain cannot be rebuilt here (its hashes need the application's code): the
    # sealed hashes stay, unsealed events get a placeholder unique to them.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE audit_event SET hash = lpad(id::text, 64, 'f') WHERE hash IS NULL")
    else:
        op.execute("UPDATE audit_event SET hash = substr('" + "f" * 64 + "' || id, -64) "
                   "WHERE hash IS NULL")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_seq'), type_='unique')
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('seq')
