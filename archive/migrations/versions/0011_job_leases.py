"""jobs shared by several machines: a lease renewed by the worker's heartbeat (jobs.lease_until),
retries with backoff (not_before, the reasons of every failed attempt in failures),
periodic_runs (one row per periodic job and period, the unique pair lets one worker win), and
fixity_checks (the latest check of each original, for the nightly re-check)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 16:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failures', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('not_before', sa.DateTime(), nullable=True))
    # A job running when the archive is upgraded was run by a worker that knew no leases: its
    # heartbeat stands in, so it is taken again once that is old, as before.
    op.execute("UPDATE jobs SET lease_until = heartbeat_at WHERE state = 'running'")
    op.create_table('periodic_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('period_start', sa.DateTime(), nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_periodic_runs_job_id_jobs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_periodic_runs')),
    sa.UniqueConstraint('name', 'period_start', name=op.f('uq_periodic_runs_name'))
    )
    op.create_table('fixity_checks',
    sa.Column('media_file_id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.Column('result', sa.Enum('ok', 'missing', 'changed', name='fixityresult', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('actual_sha256', sa.String(length=64), nullable=False),
    sa.Column('failing_since', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['media_file_id'], ['media_files.id'], name=op.f('fk_fixity_checks_media_file_id_media_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('media_file_id', name=op.f('pk_fixity_checks'))
    )
    with op.batch_alter_table('fixity_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fixity_checks_checked_at'), ['checked_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fixity_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fixity_checks_checked_at'))
    op.drop_table('fixity_checks')
    op.drop_table('periodic_runs')
    # A retry waiting for its time would run at once without not_before: that is only sooner.
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('not_before')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('failures')
