"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import app.sync.models  # noqa: F401  (registers tracker_links and sync_leases)
from app.models import Base
from app.settings import Settings


def test_models_and_migrations_agree(committed_database_url: str) -> None:
    engine = sa.create_engine(Settings(database_url=committed_database_url).sqlalchemy_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
