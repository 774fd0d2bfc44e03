"""incidents.impact_currency: the ISO 4217 code of impact.revenue, so money shows its currency

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:20:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('impact_currency', sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('impact_currency')
