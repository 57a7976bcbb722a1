"""a version counter on every edited record (items, collections, people, tags, transcripts, places,
crossings, journeys, legs) and the version each audit entry left its object at

Existing rows start at version 1.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 20:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None

VERSIONED = ('items', 'collections', 'people', 'tags', 'transcripts', 'places', 'border_crossings', 'journeys',
             'legs')


def upgrade() -> None:
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('object_version', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('object_version')
    for table in reversed(VERSIONED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
