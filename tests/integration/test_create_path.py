"""The create path's short cuts keep their promises, on SQLite and PostgreSQL.

Creating an incident writes its key in the INSERT (no UPDATE once the id is
known) and moves the audit head once, from the head this process last wrote;
a head another writer moved since (another process, a rolled-back write) is
taken afresh, so the chain stays whole whichever path a write took.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask

from app import audit
from app.db import Database
from app.queue import BackgroundQueue
from app.settings import Settings
from tests.conftest import ApiClient, runtime
from tests.integration.test_api_incidents import INCIDENT, create


@contextmanager
def _statements(engine: sa.Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def _engine(app: Flask) -> sa.Engine:
    """The engine the app's sessions run on (the rolled-back fixture binds them to a connection)."""
    db = runtime(app).db
    bind = db.sessions.kw.get("bind") or db.engine
    engine: sa.Engine = bind.engine
    return engine


def _chain(app: Flask) -> tuple[audit.VerifyResult, list[int]]:
    with runtime(app).db.sessions() as s:
        seqs = list(s.scalars(sa.text("SELECT seq FROM audit_log ORDER BY seq")))
    with runtime(app).db.sessions() as s:
        return audit.verify(s), seqs


def _note(session: Any, key: str) -> None:
    audit.record(session, actor="other", action="incident.note", entity_type="x", entity_key=key)


def test_the_key_is_written_by_the_insert_and_the_head_moves_once(
    app: Flask, api: ApiClient
) -> None:
    first = create(api)  # the head this process wrote is known from here on
    queue = runtime(app).queue
    assert isinstance(queue, BackgroundQueue)
    queue.pause()  # the evaluation it asks for waits: only the request's statements are seen
    try:
        with _statements(_engine(app)) as seen:
            resp = app.test_client().post(
                "/api/v1/incidents", json={**INCIDENT, "title": "Second"}, headers=api._headers()
            )
    finally:
        queue.resume()
    assert resp.status_code == 201, resp.json
    second = resp.json
    assert second["key"] == f"INC-{int(first['key'][4:]) + 1}"
    writes = [s for s in seen if s.split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    assert [s for s in writes if s.startswith("UPDATE incidents")] == []
    assert len([s for s in writes if s.startswith("UPDATE audit_head")]) == 1
    assert api.get(f"/api/v1/incidents/{second['key']}").json["title"] == "Second"
    result, seqs = _chain(app)
    assert result.ok and seqs == list(range(1, len(seqs) + 1))


def test_a_rolled_back_write_leaves_no_false_head(app: Flask, api: ApiClient) -> None:
    create(api)
    with runtime(app).db.sessions() as s:
        _note(s, "never")  # the process now guesses a head that was never committed
        s.rollback()
    key = create(api, title="After the rollback")["key"]
    result, seqs = _chain(app)
    assert result.ok and seqs == list(range(1, len(seqs) + 1))
    with runtime(app).db.sessions() as s:
        keys = list(s.scalars(sa.text("SELECT entity_key FROM audit_log ORDER BY seq")))
    assert "never" not in keys and key in keys


def test_a_head_moved_by_another_process_is_taken_not_guessed(
    committed_app: Flask, committed_settings: Settings
) -> None:
    api = ApiClient(committed_app.test_client())
    create(api)
    other = Database(committed_settings)  # another process: its own engine, its own guess
    try:
        for n in range(2):
            with other.sessions() as s:
                _note(s, f"other-{n}")
                s.commit()
    finally:
        other.dispose()
    create(api, title="After the other writer")  # this process's guess is two entries behind
    create(api, title="And once more")
    result, seqs = _chain(committed_app)
    assert result.ok, result.broken
    assert seqs == list(range(1, len(seqs) + 1))
    with committed_app.config["HINDSIGHT_RUNTIME"].db.sessions() as s:
        keys = list(s.scalars(sa.text("SELECT entity_key FROM audit_log ORDER BY seq")))
    assert keys.count("other-0") == keys.count("other-1") == 1 and len(keys) >= 5
