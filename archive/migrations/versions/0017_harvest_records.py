"""harvest_records: what OAI-PMH harvesters know of each item that was ever harvestable, so that one
no longer public or trashed is reported as deleted; filled with the public items, and the public ones
in the trash (they were harvestable before they were trashed) as deleted

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 18:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

CHUNK = 500


def upgrade() -> None:
    op.create_table('harvest_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pid', sa.String(length=200), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('collection_id', sa.Integer(), nullable=True),
    sa.Column('datestamp', sa.DateTime(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_harvest_records')),
    sa.UniqueConstraint('item_id', name=op.f('uq_harvest_records_item_id')),
    sa.UniqueConstraint('pid', name=op.f('uq_harvest_records_pid'))
    )
    op.create_index('ix_harvest_records_datestamp', 'harvest_records', ['datestamp', 'id'], unique=False)
    op.create_index(op.f('ix_harvest_records_collection_id'), 'harvest_records', ['collection_id'], unique=False)
    items = sa.table('items', sa.column('id', sa.Integer), sa.column('pid', sa.String),
                     sa.column('access', sa.String), sa.column('collection_id', sa.Integer),
                     sa.column('updated_at', sa.DateTime), sa.column('deleted_at', sa.DateTime))
    records = sa.table('harvest_records', sa.column('pid', sa.String), sa.column('item_id', sa.Integer),
                       sa.column('collection_id', sa.Integer), sa.column('datestamp', sa.DateTime),
                       sa.column('deleted', sa.Boolean))
    conn = op.get_bind()
    # Dates are stored as naive UTC (archive.models.UTCDateTime); OAI datestamps have whole seconds.
    rows = conn.execute(sa.select(items.c.id, items.c.pid, items.c.collection_id, items.c.updated_at,
                                  items.c.deleted_at).where(items.c.access == 'public').order_by(items.c.id)).all()
    values = [{"pid": pid, "item_id": item_id, "collection_id": collection_id,
               "datestamp": (deleted_at or updated_at).replace(microsecond=0), "deleted": deleted_at is not None}
              for item_id, pid, collection_id, updated_at, deleted_at in rows]
    for start in range(0, len(values), CHUNK):
        conn.execute(records.insert(), values[start:start + CHUNK])


def downgrade() -> None:
    op.drop_index(op.f('ix_harvest_records_collection_id'), table_name='harvest_records')
    op.drop_index('ix_harvest_records_datestamp', table_name='harvest_records')
    op.drop_table('harvest_records')
