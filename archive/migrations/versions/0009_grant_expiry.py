"""grants of confidential collections may end: user_collections.expires_on, the last UTC day a
grant is in force (none: until revoked)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 15:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_collections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_on', sa.Date(), nullable=True))


def downgrade() -> None:
    # An expired grant would open its collection again without its end date: drop those first.
    op.execute("DELETE FROM user_collections WHERE expires_on < CURRENT_DATE")
    with op.batch_alter_table('user_collections', schema=None) as batch_op:
        batch_op.drop_column('expires_on')
