"""tracker sync: per-entity sync state and the outbox lease

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import app.models.base
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tracker_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_type', sa.String(length=30), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('entity_key', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('issue_key', sa.String(length=64), nullable=True),
    sa.Column('issue_id', sa.String(length=32), nullable=True),
    sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('versions', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_links')),
    sa.UniqueConstraint('entity_type', 'entity_id', name='uq_tracker_links_entity')
    )
    with op.batch_alter_table('tracker_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracker_links_label'), ['label'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracker_links_issue_key'), ['issue_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracker_links_issue_id'), ['issue_id'], unique=False)

    op.create_table('sync_leases',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('expires_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sync_leases'))
    )


def downgrade() -> None:
    op.drop_table('sync_leases')
    with op.batch_alter_table('tracker_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracker_links_issue_id'))
        batch_op.drop_index(batch_op.f('ix_tracker_links_issue_key'))
        batch_op.drop_index(batch_op.f('ix_tracker_links_label'))
    op.drop_table('tracker_links')
