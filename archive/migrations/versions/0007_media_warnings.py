"""warnings on a media file: what ingest went on without (frames that did not decode, exiftool failing)

Existing rows start with none.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warnings', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.drop_column('warnings')
