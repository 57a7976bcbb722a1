"""record_keys: the identifiers, file names and checksums by which ingest attaches a file to the record
catalogued before it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 03:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_record_keys_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_keys')),
    sa.UniqueConstraint('item_id', 'key', name=op.f('uq_record_keys_item_id'))
    )
    op.create_index(op.f('ix_record_keys_item_id'), 'record_keys', ['item_id'], unique=False)
    op.create_index(op.f('ix_record_keys_key'), 'record_keys', ['key'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_record_keys_key'), table_name='record_keys')
    op.drop_index(op.f('ix_record_keys_item_id'), table_name='record_keys')
    op.drop_table('record_keys')
