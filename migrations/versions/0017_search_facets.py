"""search documents: the incident's filter fields on each document (facets, started)

A filtered search on PostgreSQL joined every text match to its incident to test the
service, severity, category and dates: for a common word, tens of thousands of rows
per search. The fields now sit on the document, `facets` (`service:<name>`,
`severity:<SEV>`, `category:<cause category>`; text[] on PostgreSQL, JSON on SQLite)
and `started` (coalesce(started_at, created_at), btree), so the filters are answered
by indexes: on PostgreSQL the GIN index of 0015 on `tsv` becomes one GIN on `tsv` and
`facets` (words and filters intersected inside the index). SQLite searches through
FTS5 and keeps its plain indexes, renamed alike so the models describe one table. Backfilled here from the incidents and causes; the
write path keeps them current (it rebuilds an incident's documents on every write).

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-04 19:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import app.models.base

revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None

PG_BACKFILL = """
UPDATE search_documents d SET
  started = coalesce(i.started_at, i.created_at),
  facets = ARRAY['severity:' || i.severity]
    || ARRAY(SELECT 'service:' || s FROM jsonb_array_elements_text(i.services) AS s)
    || ARRAY(SELECT DISTINCT 'category:' || c.category FROM causes c
             WHERE c.incident_id = i.id AND c.category IS NOT NULL)
FROM incidents i WHERE i.id = d.incident_id
"""

SQLITE_BACKFILL = """
UPDATE search_documents SET
  started = (SELECT coalesce(i.started_at, i.created_at) FROM incidents i
             WHERE i.id = search_documents.incident_id),
  facets = (SELECT json_group_array(f) FROM (
      SELECT 'severity:' || i.severity AS f FROM incidents i
        WHERE i.id = search_documents.incident_id
      UNION ALL SELECT 'service:' || s.value FROM incidents i, json_each(i.services) s
        WHERE i.id = search_documents.incident_id
      UNION ALL SELECT DISTINCT 'category:' || c.category FROM causes c
        WHERE c.incident_id = search_documents.incident_id AND c.category IS NOT NULL))
"""


def upgrade() -> None:
    pg = op.get_bind().dialect.name == 'postgresql'
    facets = postgresql.ARRAY(sa.Text()) if pg else sa.JSON()
    # plain ALTERs, no batch: a batch copy of the table would have to rebuild SQLite's
    # generated `tsv` column
    op.add_column('search_documents', sa.Column('facets', facets, nullable=True))
    op.add_column(
        'search_documents',
        sa.Column('started', app.models.base.UTCDateTime(timezone=True), nullable=True),
    )
    op.execute(PG_BACKFILL if pg else SQLITE_BACKFILL)
    op.execute("DROP INDEX IF EXISTS ix_search_documents_tsv")
    how = "USING gin (tsv, facets)" if pg else "(tsv, facets)"
    op.execute(f"CREATE INDEX ix_search_documents_search ON search_documents {how}")
    op.create_index('ix_search_documents_started', 'search_documents', ['started'])


def downgrade() -> None:
    pg = op.get_bind().dialect.name == 'postgresql'
    op.drop_index('ix_search_documents_started', table_name='search_documents')
    op.execute("DROP INDEX IF EXISTS ix_search_documents_search")
    how = "USING gin (tsv)" if pg else "(tsv)"
    op.execute(f"CREATE INDEX ix_search_documents_tsv ON search_documents {how}")
    op.execute("ALTER TABLE search_documents DROP COLUMN started")
    op.execute("ALTER TABLE search_documents DROP COLUMN facets")
