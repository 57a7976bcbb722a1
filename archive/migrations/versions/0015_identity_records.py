"""persistent identifiers for items (existing ones get a urn:uuid), the kind "catalogued" for records
whose media are not yet attached, and source_records, the imported records kept whole

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 03:20:00
"""
import uuid

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

OLD_KINDS = ('video', 'still', 'audio')
NEW_KINDS = OLD_KINDS + ('catalogued',)


def _kind(kinds: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*kinds, name='itemkind', native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pid', sa.String(length=200), nullable=True))
    items = sa.table('items', sa.column('id', sa.Integer), sa.column('pid', sa.String))
    conn = op.get_bind()
    for (item_id,) in conn.execute(sa.select(items.c.id)).all():
        conn.execute(items.update().where(items.c.id == item_id).values(pid=f"urn:uuid:{uuid.uuid4()}"))
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.alter_column('pid', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_items_pid'), ['pid'])
        batch_op.alter_column('kind', existing_type=_kind(OLD_KINDS), type_=_kind(NEW_KINDS),
                              existing_nullable=False)
    op.create_table('source_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('source_name', sa.String(length=1000), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('item_version', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_source_records_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_records'))
    )
    op.create_index(op.f('ix_source_records_item_id'), 'source_records', ['item_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_source_records_item_id'), table_name='source_records')
    op.drop_table('source_records')
    op.execute("DELETE FROM items WHERE kind = 'catalogued'")
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_kind(NEW_KINDS), type_=_kind(OLD_KINDS),
                              existing_nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_items_pid'), type_='unique')
        batch_op.drop_column('pid')
