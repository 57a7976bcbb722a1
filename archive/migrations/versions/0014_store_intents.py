"""store intents in the database (store_intents), not marker files in the data root's tmp/intents:
with an object store and separate local folders per node, any node must see them

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('store_intents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_intents'))
    )
    op.create_index(op.f('ix_store_intents_sha256'), 'store_intents', ['sha256'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_store_intents_sha256'), table_name='store_intents')
    op.drop_table('store_intents')
