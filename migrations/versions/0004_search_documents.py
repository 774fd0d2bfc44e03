"""knowledge base: search documents, with a GIN full-text index on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 05:10:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('search_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_search_documents_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_documents'))
    )
    op.create_index(op.f('ix_search_documents_incident_id'), 'search_documents', ['incident_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "CREATE INDEX ix_search_documents_tsv ON search_documents "
            "USING gin (to_tsvector('english', body))"
        )


def downgrade() -> None:
    op.drop_table('search_documents')
