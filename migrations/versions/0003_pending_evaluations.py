"""pending evaluations; one delivery lifecycle with attempts (Jira's "done" becomes "processed")

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import app.models.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_evaluations',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id')
    )
    op.execute("UPDATE webhook_deliveries SET status = 'processed' WHERE status = 'done'")
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('next_attempt_at', app.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.drop_column('next_attempt_at')
        batch.drop_column('attempts')
    op.drop_table('pending_evaluations')
