"""report cache: each report (name + parameter hash) with its body and computed_at

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02 18:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import app.models.base
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_cache',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('params_hash', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('computed_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data_version', sa.Integer(), nullable=False),
    sa.Column('refresh_requested_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', 'params_hash')
    )


def downgrade() -> None:
    op.drop_table('report_cache')
