"""search documents: a stored tsvector column (generated) with the GIN index on it

PostgreSQL ranked every match by parsing its body again (`ts_rank(to_tsvector(body))`):
the vector is now generated and stored once per document, and the GIN index is on it.
SQLite gets the column as an always-NULL virtual one with a plain index (it searches
through FTS5), so the models describe one table on both backends.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 11:30:00.000000
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_search_documents_tsv")
        op.execute(
            "ALTER TABLE search_documents ADD COLUMN tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, body)) STORED"
        )
        op.execute("CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)")
    else:
        op.execute(
            "ALTER TABLE search_documents ADD COLUMN tsv TEXT GENERATED ALWAYS AS (NULL) VIRTUAL"
        )
        op.execute("CREATE INDEX ix_search_documents_tsv ON search_documents (tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_search_documents_tsv")
        op.execute("ALTER TABLE search_documents DROP COLUMN tsv")
        op.execute(
            "CREATE INDEX ix_search_documents_tsv ON search_documents "
            "USING gin (to_tsvector('english', body))"
        )
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_documents_tsv")
        op.execute("ALTER TABLE search_documents DROP COLUMN tsv")
