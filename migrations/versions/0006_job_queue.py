"""the durable job queue, the scheduler's tasks, shared throttles, reports kept in the database

Revision ID: job_queue
Revises: user_sessions
"""
from alembic import op
import sqlalchemy as sa


revision = 'job_queue'
down_revision = 'user_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        # Kinds are a registry now (`survey.worker.register_job_type`), not a fixed list.
        batch_op.drop_constraint(op.f('ck_job_kind'), type_='check')
        batch_op.alter_column('kind', existing_type=sa.String(length=20),
                              type_=sa.String(length=50), existing_nullable=False)
        batch_op.add_column(sa.Column('payload', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('max_attempts', sa.Integer(), nullable=False,
                                      server_default='3'))
        batch_op.add_column(sa.Column('run_after', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))
    op.execute("UPDATE job SET run_after = created_at")
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.alter_column('run_after', existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column('attempts', server_default=None, existing_type=sa.Integer())
        batch_op.alter_column('max_attempts', server_default=None, existing_type=sa.Integer())
        batch_op.create_check_constraint(op.f('ck_job_attempts'), 'attempts >= 0 AND max_attempts >= 1')
        batch_op.create_index('ix_job_state_run_after', ['state', 'run_after'], unique=False)

    op.create_table('scheduled_task',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('next_run_at', sa.DateTime(), nullable=False),
    sa.Column('last_run_at', sa.DateTime(), nullable=True),
    sa.Column('last_job_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduled_task'))
    )
    op.create_table('throttle_hit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_throttle_hit'))
    )
    with op.batch_alter_table('throttle_hit', schema=None) as batch_op:
        batch_op.create_index('ix_throttle_hit_name_key_at', ['name', 'key', 'at'], unique=False)
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('content')
    with op.batch_alter_table('throttle_hit', schema=None) as batch_op:
        batch_op.drop_index('ix_throttle_hit_name_key_at')
    op.drop_table('throttle_hit')
    op.drop_table('scheduled_task')
    # Jobs of kinds the old schema does not know cannot stay.
    op.execute("DELETE FROM job WHERE kind NOT IN ('customer_import', 'report')")
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ix_job_state_run_after')
        batch_op.drop_constraint(op.f('ck_job_attempts'), type_='check')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('run_after')
        batch_op.drop_column('max_attempts')
        batch_op.drop_column('attempts')
        batch_op.drop_column('payload')
        batch_op.alter_column('kind', existing_type=sa.String(length=50),
                              type_=sa.String(length=20), existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_job_kind'), "kind IN ('customer_import', 'report')")
