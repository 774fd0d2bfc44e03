"""postmortem reviews: facilitator, due date, timings, participants and the .ics, once per close

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app.models.base import UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('postmortem_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('postmortem_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('facilitator', sa.String(length=200), nullable=True),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('starts_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('timings', JSON, nullable=False),
    sa.Column('participants', JSON, nullable=False),
    sa.Column('invitation_uid', sa.String(length=200), nullable=False),
    sa.Column('invitation', sa.Text(), nullable=False),
    sa.Column('announced_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_postmortem_reviews_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['postmortem_id'], ['postmortems.id'], name=op.f('fk_postmortem_reviews_postmortem_id_postmortems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postmortem_reviews')),
    sa.UniqueConstraint('postmortem_id', name=op.f('uq_postmortem_reviews_postmortem_id'))
    )
    op.create_index(op.f('ix_postmortem_reviews_incident_id'), 'postmortem_reviews', ['incident_id'], unique=False)


def downgrade() -> None:
    op.drop_table('postmortem_reviews')
