"""Jobs leave the request: an API write answers before its evaluation runs, and a lost
evaluation is found again from its row by the sweep (embedded default, no Redis)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

from app import create_app
from app.models import Finding, PendingEvaluation
from app.queue import BackgroundQueue
from app.runtime import Runtime
from app.services.evaluation import redispatch_pending
from tests.conftest import WRITE_TOKEN, make_settings, runtime

INCIDENT = {
    "title": "Checkout errors after a config push",
    "severity": "SEV2",
    "services": ["checkout"],
    "status": "resolved",
    "started_at": "2026-11-30T10:00:00Z",
    "detected_at": "2026-11-30T10:05:00Z",
    "resolved_at": "2026-11-30T11:00:00Z",
}


def _findings(rt: Runtime) -> int:
    with rt.db.sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Finding)) or 0


def _pending(rt: Runtime) -> list[int]:
    with rt.db.sessions() as session:
        return list(session.scalars(sa.select(PendingEvaluation.incident_id)))


def _post(app: Flask, path: str, body: dict[str, Any]) -> Any:
    return app.test_client().post(
        path, json=body, headers={"Authorization": f"Bearer {WRITE_TOKEN}"}
    )


def test_a_write_answers_before_its_evaluation_runs(app: Flask, rt: Runtime) -> None:
    queue = rt.queue
    assert isinstance(queue, BackgroundQueue)
    queue.pause()
    try:
        created = _post(app, "/api/v1/incidents", INCIDENT)
        assert created.status_code == 201, created.json
        # The answer is here; the evaluation it asked for has not run yet.
        assert _findings(rt) == 0
        assert queue.pending == 1
        assert len(_pending(rt)) == 1
    finally:
        queue.resume()
    assert queue.wait_idle(30)
    assert _findings(rt) > 0
    assert _pending(rt) == []


def test_a_burst_of_writes_to_one_incident_evaluates_it_once(app: Flask, rt: Runtime) -> None:
    queue = rt.queue
    assert isinstance(queue, BackgroundQueue)
    key = _post(app, "/api/v1/incidents", INCIDENT).json["key"]
    assert queue.wait_idle(30)
    queue.pause()
    try:
        for n in range(10):
            event = {"at": f"2026-11-30T10:{n:02d}:00Z", "kind": "note", "text": f"note {n}"}
            assert _post(app, f"/api/v1/incidents/{key}/timeline", event).status_code == 201
        assert queue.pending == 1
    finally:
        queue.resume()
    assert queue.wait_idle(30)
    assert _pending(rt) == []


def test_an_evaluation_lost_with_the_process_is_run_by_the_sweep(database_url: str) -> None:
    first = create_app(make_settings(database_url))
    rt = runtime(first)
    queue = rt.queue
    assert isinstance(queue, BackgroundQueue)
    queue.pause()
    assert _post(first, "/api/v1/incidents", INCIDENT).status_code == 201
    rt.close()  # the process goes away with the job still waiting

    second = create_app(make_settings(database_url))
    rt2 = runtime(second)
    try:
        assert _findings(rt2) == 0 and len(_pending(rt2)) == 1
        assert redispatch_pending(rt2, grace_seconds=0) == 1
        assert isinstance(rt2.queue, BackgroundQueue) and rt2.queue.wait_idle(30)
        assert _findings(rt2) > 0
        assert _pending(rt2) == []
    finally:
        rt2.close()
