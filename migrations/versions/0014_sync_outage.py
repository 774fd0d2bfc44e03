"""sync outage: outbox.first_failed_at (dead-letter horizon), tracker_links.create_unconfirmed_at

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 06:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import app.models.base

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(
            sa.Column('first_failed_at', app.models.base.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('tracker_links') as batch:
        batch.add_column(
            sa.Column(
                'create_unconfirmed_at', app.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('tracker_links') as batch:
        batch.drop_column('create_unconfirmed_at')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('first_failed_at')
