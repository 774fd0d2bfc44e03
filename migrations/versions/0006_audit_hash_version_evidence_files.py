"""audit chain: hash version per entry (old entries keep the old hash); uploaded evidence files

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 17:05:00.000000

Entries written before this revision keep hash_version 1 and are checked the way they were
hashed; new entries are hashed as canonical JSON (version 2). No stored hash is recomputed,
so an existing chain verifies after the upgrade exactly as it did before it.
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.add_column(sa.Column('hash_version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('evidence') as batch:
        batch.add_column(sa.Column('file_name', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('file_size', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('media_type', sa.String(length=127), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('evidence') as batch:
        batch.drop_column('media_type')
        batch.drop_column('file_size')
        batch.drop_column('file_name')
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_column('hash_version')
