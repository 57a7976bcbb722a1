"""clip_lists, clips and clip_shares: accounts' saved clips (item, in, out, note) in ordered, named lists,
shared read-only with other accounts

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 19:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clip_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_clip_lists_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clip_lists'))
    )
    op.create_index(op.f('ix_clip_lists_owner_id'), 'clip_lists', ['owner_id'], unique=False)
    op.create_table('clips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('start_sec', sa.Float(), nullable=False),
    sa.Column('end_sec', sa.Float(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('start_sec >= 0 AND end_sec > start_sec', name=op.f('ck_clips_ordered')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_clips_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['list_id'], ['clip_lists.id'], name=op.f('fk_clips_list_id_clip_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clips'))
    )
    op.create_index(op.f('ix_clips_item_id'), 'clips', ['item_id'], unique=False)
    op.create_index(op.f('ix_clips_list_id'), 'clips', ['list_id'], unique=False)
    op.create_table('clip_shares',
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['clip_lists.id'], name=op.f('fk_clip_shares_list_id_clip_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_clip_shares_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('list_id', 'user_id', name=op.f('pk_clip_shares'))
    )
    op.create_index(op.f('ix_clip_shares_user_id'), 'clip_shares', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_clip_shares_user_id'), table_name='clip_shares')
    op.drop_table('clip_shares')
    op.drop_index(op.f('ix_clips_list_id'), table_name='clips')
    op.drop_index(op.f('ix_clips_item_id'), table_name='clips')
    op.drop_table('clips')
    op.drop_index(op.f('ix_clip_lists_owner_id'), table_name='clip_lists')
    op.drop_table('clip_lists')
