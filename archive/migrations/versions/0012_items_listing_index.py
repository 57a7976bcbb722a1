"""an index for listing the items a viewer may see, newest first (browse, home, the API)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 01:00:00
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_items_access_created_at', 'items', ['access', 'deleted_at', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_items_access_created_at', table_name='items')
