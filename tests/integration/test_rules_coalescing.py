"""With Redis and the worker, a burst of writes to one incident is one evaluation job (two at
most, when a write lands while it runs), and the findings stored afterwards are those of
the last write, not of any state before it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue

from app.factory import create_app
from app.models import Finding, Incident, PendingEvaluation
from app.services.evaluation import context, dry_run
from app.worker import run_worker
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
SUMMARY = {"summary": "A config push broke checkout for 55 minutes; we rolled it back."}


@pytest.mark.redis
@pytest.mark.parametrize("fork", [False, True], ids=["in-process", "forking"])
def test_a_burst_of_writes_is_one_job_and_the_findings_are_the_last_writes(
    committed_database_url: str, redis_url: str, fork: bool
) -> None:
    settings = make_settings(committed_database_url, redis_url=redis_url)
    application = create_app(settings)
    rt = runtime(application)
    conn = Redis.from_url(redis_url)
    client = application.test_client()
    headers = {"Authorization": f"Bearer {WRITE_TOKEN}"}

    def send(method: str, path: str, body: dict[str, Any]) -> Any:
        res = getattr(client, method)(path, json=body, headers=headers)
        assert res.status_code < 300, res.get_json()
        return res.get_json()

    try:
        key = send("post", "/api/v1/incidents", INCIDENT)["key"]
        assert run_worker(settings, ["rules"], burst=True, fork=fork) == 0
        assert "completeness.summary" in _rules(rt)  # the state before the burst lacks one
        for n in range(15):
            event = {"at": f"2026-11-30T10:{n + 10:02d}:00Z", "kind": "note", "text": f"n{n}"}
            send("post", f"/api/v1/incidents/{key}/timeline", event)
        send("patch", f"/api/v1/incidents/{key}", SUMMARY)  # the last write
        rules = Queue("rules", connection=conn)
        with rt.db.sessions() as session:
            incident_id = session.scalars(sa.select(Incident.id).where(Incident.key == key)).one()
        assert rules.get_job_ids() == [f"rules-incident-{incident_id}"]  # 16 writes, one job

        assert run_worker(settings, ["rules"], burst=True, fork=fork) == 0
        assert rules.count == 0
        with rt.db.sessions() as session:
            incident = session.scalars(sa.select(Incident).where(Incident.key == key)).one()
            expected = {f.fingerprint for f in dry_run(session, incident, context(rt)).findings}
            stored = set(session.scalars(sa.select(Finding.fingerprint)))
            waiting = session.scalar(sa.select(sa.func.count()).select_from(PendingEvaluation))
        assert stored == expected and waiting == 0
        assert "completeness.summary" not in _rules(rt)
    finally:
        conn.close()
        rt.close()


def _rules(rt: Any) -> set[str]:
    with rt.db.sessions() as session:
        return set(session.scalars(sa.select(Finding.rule)))
