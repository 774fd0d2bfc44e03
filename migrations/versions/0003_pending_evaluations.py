"""pending evaluations; one delivery lifecycle (Jira's "done" becomes "processed")

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


def downgrade() -> None:
    op.drop_table('pending_evaluations')
