"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import app.sync.models  # noqa: F401  (registers tracker_links and sync_leases)
from app.db import upgrade
from app.models import Base, Cause, Incident, SearchDocument
from app.runtime import build
from app.schemas.incidents import IncidentCreate
from app.services.incidents import create_incident
from app.services.search import reindex_all
from app.settings import Settings
from tests.conftest import BACKENDS, _postgresql, _sqlite


def test_models_and_migrations_agree(committed_database_url: str) -> None:
    engine = sa.create_engine(Settings(database_url=committed_database_url).sqlalchemy_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


@pytest.fixture(params=BACKENDS)
def fresh_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of its own, migrated to head: this test moves it down and up again."""
    if request.param == "sqlite":
        yield _sqlite(tmp_path_factory, "migrate")
    else:
        yield from _postgresql("migrate")


def _search_rows(url: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(Settings(database_url=url).sqlalchemy_url)
    try:
        with sa.orm.Session(engine) as session:
            rows = session.execute(
                sa.select(
                    SearchDocument.incident_id,
                    SearchDocument.kind,
                    SearchDocument.body,
                    SearchDocument.facets,
                    SearchDocument.started,
                ).order_by(SearchDocument.id)
            )
            return [(*r[:3], sorted(r[3]) if r[3] is not None else None, r[4]) for r in rows]
    finally:
        engine.dispose()


def test_0017_backfills_what_the_write_path_writes_and_goes_back_down(
    fresh_database_url: str,
) -> None:
    """Down to 0015 drops the search facets and keeps the documents; up again, the backfill
    gives each document the same facets and start the write path gave it."""
    url = fresh_database_url
    rt = build(Settings(database_url=url))
    try:
        made = create_incident(
            rt,
            IncidentCreate.model_validate(
                {"title": "Disk full", "severity": "SEV2", "services": ["search", "ledger"]}
            ),
            "tester",
        )
        with rt.uow() as uow:
            incident = uow.session.scalars(sa.select(Incident).where(Incident.key == made.key))
            one = incident.one()
            for category in ("capacity", "capacity", "monitoring"):
                uow.session.add(
                    Cause(incident_id=one.id, kind="root_cause", category=category, statement="x")
                )
            uow.commit()
        reindex_all(rt)
    finally:
        rt.close()
    written = _search_rows(url)
    assert [r[3] for r in written] == [
        ["category:capacity", "category:monitoring", "service:ledger", "service:search"]
        + ["severity:SEV2"]
    ] * 4  # the incident and its three causes, each with the incident's facets
    assert all(r[4] is not None for r in written)

    upgrade(Settings(database_url=url), "0015", down=True)
    engine = sa.create_engine(Settings(database_url=url).sqlalchemy_url)
    try:
        columns = {c["name"] for c in sa.inspect(engine).get_columns("search_documents")}
        indexes = {i["name"] for i in sa.inspect(engine).get_indexes("search_documents")}
        with engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT count(*) FROM search_documents")).scalar_one()
    finally:
        engine.dispose()
    assert "facets" not in columns and "started" not in columns and "tsv" in columns
    assert "ix_search_documents_search" not in indexes and "ix_search_documents_tsv" in indexes
    assert kept == len(written)

    upgrade(Settings(database_url=url))
    assert _search_rows(url) == written
