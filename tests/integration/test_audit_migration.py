"""Migration 0006 breaks no existing chain: entries hashed the old way still verify after it.

Including entries whose numbers PostgreSQL's JSONB re-formed (1e20 handed
back as an integer, -0.0 as 0.0), which the old verify called altered.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import audit
from app.db import make_engine, upgrade
from app.settings import Settings
from tests.conftest import PG_ADMIN_URL, need_service


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (the shared ones are already at head)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    need_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"hindsight_test_{uuid.uuid4().hex[:8]}_mig"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield (PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}").replace("+psycopg", "")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _old_digest(row: dict[str, object]) -> str:
    """Exactly what Hindsight hashed before 0006 (json.dumps of the values as they came back)."""
    body = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def test_a_chain_written_before_0006_verifies_after_it(fresh_url: str) -> None:
    settings = Settings(database_url=fresh_url)
    upgrade(settings, "0004")
    engine = make_engine(settings)
    prev = audit.GENESIS
    with engine.begin() as conn:
        for seq in (1, 2, 3):
            at = datetime(2026, 11, 30, 12, seq, tzinfo=UTC)
            # numbers JSONB re-forms: the pre-0006 hash of these broke on PostgreSQL
            after = {"summary": f"s{seq}", "impact_revenue": [1e20, 1e16, -0.0][seq - 1]}
            fields = {
                "seq": seq,
                "at": at.isoformat(),
                "actor": "token:old",
                "action": "incident.update",
                "entity_type": "incident",
                "entity_key": "INC-1",
                "before": None,
                "after": after,
                "prev": prev,
            }
            digest = _old_digest(fields)
            conn.execute(
                sa.text(
                    "INSERT INTO audit_log (seq, at, actor, action, entity_type, entity_key,"
                    " before, after, prev_hash, hash) VALUES (:seq, :at, 'token:old',"
                    " 'incident.update', 'incident', 'INC-1', NULL, :after, :prev, :hash)"
                ),
                {
                    "seq": seq,
                    "at": at if engine.dialect.name != "sqlite" else at.replace(tzinfo=None),
                    "after": json.dumps(after),
                    "prev": prev,
                    "hash": digest,
                },
            )
            prev = digest
        conn.execute(sa.text("UPDATE audit_head SET last_seq = 3, last_hash = :h"), {"h": prev})
    engine.dispose()
    upgrade(settings)
    engine = make_engine(settings)
    try:
        with sa.orm.Session(engine) as session:
            assert audit.verify(session).ok
        with sa.orm.Session(engine) as session:
            audit.record(
                session,
                actor="new",
                action="incident.update",
                entity_type="incident",
                entity_key="INC-1",
                after={"revenue": 1e20},
            )
            session.commit()
        with sa.orm.Session(engine) as session:
            result = audit.verify(session)
            versions = session.scalars(sa.text("SELECT hash_version FROM audit_log ORDER BY seq"))
            assert list(versions) == [1, 1, 1, 2]
        assert result.ok and result.checked == 4, result.broken
    finally:
        engine.dispose()
