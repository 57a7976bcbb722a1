"""secrets shared by every process and web node: app_secrets (the session-signing key, which was a
secret_key file in the data root of each node)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_secrets',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_app_secrets'))
    )


def downgrade() -> None:
    # The key stays in the data root's secret_key file when it came from there (it is adopted, not
    # moved), so logins survive a downgrade too; a key made in the database is lost with the table.
    op.drop_table('app_secrets')
