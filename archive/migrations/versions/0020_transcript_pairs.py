"""transcript_pairs: the two transcripts each account reads side by side on an item's page

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 20:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('transcript_pairs',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('left_id', sa.Integer(), nullable=False),
    sa.Column('right_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_transcript_pairs_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['left_id'], ['transcripts.id'], name=op.f('fk_transcript_pairs_left_id_transcripts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['right_id'], ['transcripts.id'], name=op.f('fk_transcript_pairs_right_id_transcripts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_transcript_pairs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'item_id', name=op.f('pk_transcript_pairs'))
    )
    op.create_index(op.f('ix_transcript_pairs_item_id'), 'transcript_pairs', ['item_id'], unique=False)
    op.create_index(op.f('ix_transcript_pairs_left_id'), 'transcript_pairs', ['left_id'], unique=False)
    op.create_index(op.f('ix_transcript_pairs_right_id'), 'transcript_pairs', ['right_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_transcript_pairs_right_id'), table_name='transcript_pairs')
    op.drop_index(op.f('ix_transcript_pairs_left_id'), table_name='transcript_pairs')
    op.drop_index(op.f('ix_transcript_pairs_item_id'), table_name='transcript_pairs')
    op.drop_table('transcript_pairs')
