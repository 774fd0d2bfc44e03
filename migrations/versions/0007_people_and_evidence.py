"""people and evidence: token owners and expiry, action validations, waiver expiry, notifications

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

from app.models.base import UTCDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('api_tokens', sa.Column('owner', sa.String(length=200), nullable=True))
    op.add_column(
        'api_tokens',
        sa.Column('kind', sa.String(length=20), server_default='person', nullable=False),
    )
    op.add_column('api_tokens', sa.Column('expires_at', UTCDateTime(timezone=True), nullable=True))
    op.add_column('waivers', sa.Column('expires_at', UTCDateTime(timezone=True), nullable=True))
    op.add_column('timeline_events', sa.Column('obligation', sa.String(length=80), nullable=True))
    op.create_table('action_validations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('checked', sa.Text(), nullable=False),
    sa.Column('result', sa.String(length=10), nullable=False),
    sa.Column('checked_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_by', sa.String(length=200), nullable=False),
    sa.Column('evidence', sa.String(length=2000), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_validations_action_id_actions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_validations'))
    )
    op.create_index(op.f('ix_action_validations_action_id'), 'action_validations', ['action_id'], unique=False)


def downgrade() -> None:
    op.drop_table('action_validations')
    with op.batch_alter_table('timeline_events') as batch:
        batch.drop_column('obligation')
    with op.batch_alter_table('waivers') as batch:
        batch.drop_column('expires_at')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('expires_at')
        batch.drop_column('kind')
        batch.drop_column('owner')
