"""the PostgreSQL search engine's index in the catalogue (archive.search.pg_tables): items,
segments and collections with tsvector columns and GIN indexes, search_words for "did you mean"
(pg_trgm, fuzzystrmatch), search_state; on PostgreSQL only, SQLite keeps the whoosh engine

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 00:45:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

TABLES = ('search_words', 'search_collections', 'search_segments', 'search_items', 'search_state')


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    # Both are trusted extensions (PostgreSQL 13 and later): the database's owner may create them.
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.execute('CREATE EXTENSION IF NOT EXISTS fuzzystrmatch')
    op.create_table('search_state',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_search_state'))
    )
    op.create_table('search_items',
    sa.Column('item_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.String(length=100), nullable=False),
    sa.Column('access', sa.String(length=20), nullable=False),
    sa.Column('collection_id', sa.Integer(), nullable=True),
    sa.Column('meta', postgresql.JSONB(), nullable=False),
    sa.Column('stem_languages', postgresql.ARRAY(sa.String(length=10)), nullable=False),
    sa.Column('stems', postgresql.TSVECTOR(), nullable=False),
    sa.Column('words', postgresql.TSVECTOR(), nullable=False),
    sa.Column('title_stems', postgresql.TSVECTOR(), nullable=False),
    sa.Column('title_words', postgresql.TSVECTOR(), nullable=False),
    sa.Column('facets', postgresql.TSVECTOR(), nullable=False),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_search_items'))
    )
    op.create_index('ix_search_items_stems', 'search_items', ['stems'], postgresql_using='gin')
    op.create_index('ix_search_items_words', 'search_items', ['words'], postgresql_using='gin')
    op.create_index('ix_search_items_facets', 'search_items', ['facets'], postgresql_using='gin')
    op.create_index('ix_search_items_collection_id', 'search_items', ['collection_id'])
    op.create_table('search_segments',
    sa.Column('segment_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.Float(), nullable=False),
    sa.Column('end', sa.Float(), nullable=False),
    sa.Column('speaker', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('stem_language', sa.String(length=10), nullable=False),
    sa.Column('catalogue_language', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('stems', postgresql.TSVECTOR(), nullable=False),
    sa.Column('words', postgresql.TSVECTOR(), nullable=False),
    sa.Column('speaker_words', postgresql.TSVECTOR(), nullable=False),
    sa.PrimaryKeyConstraint('segment_id', name=op.f('pk_search_segments'))
    )
    op.create_index('ix_search_segments_item_id', 'search_segments', ['item_id'])
    op.create_index('ix_search_segments_stems', 'search_segments', ['stems'], postgresql_using='gin')
    op.create_index('ix_search_segments_words', 'search_segments', ['words'], postgresql_using='gin')
    op.create_table('search_collections',
    sa.Column('collection_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.String(length=100), nullable=False),
    sa.Column('meta', postgresql.JSONB(), nullable=False),
    sa.Column('stems', postgresql.TSVECTOR(), nullable=False),
    sa.Column('words', postgresql.TSVECTOR(), nullable=False),
    sa.PrimaryKeyConstraint('collection_id', name=op.f('pk_search_collections'))
    )
    op.create_table('search_words',
    sa.Column('word', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('word', name=op.f('pk_search_words'))
    )
    op.create_index('ix_search_words_word_trgm', 'search_words', ['word'], postgresql_using='gin',
                    postgresql_ops={'word': 'gin_trgm_ops'})


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.drop_table(table)
