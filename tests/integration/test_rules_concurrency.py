"""Concurrent evaluations stay independent: threads in one process, and two RQ worker processes.

Isolation is checked against a sequential oracle: whatever runs at the same
time, every incident must end up with exactly the findings it gets when
evaluated alone, and the policy's own writes (compliance actions) must
happen once.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError

from app import create_app
from app.models import Action, Finding, Incident
from app.rules.evaluate import evaluate
from app.rules.views import IncidentView
from app.runtime import Runtime
from app.services.documents import import_document
from app.services.evaluation import context, dry_run, evaluate_and_store
from tests.conftest import CONFIG_DIR, ApiClient, make_settings, runtime
from tests.integration.test_rules_api import add_action, complete_incident
from tests.unit.test_policy_kit import action, ctx, incident

Signature = frozenset[tuple[str, str, str]]


def _variants() -> list[IncidentView]:
    """Twelve incidents that each break something different."""
    out = []
    for n in range(12):
        key = f"INC-{n + 1}"
        a = action(
            key=f"ACT-{n + 1}",
            cause_keys=(f"{key}/1",),
            owner=None if n % 3 == 0 else "Maya Okafor",
            success_criteria=None if n % 4 == 1 else "It works",
            priority=("P0", "P1", "P2", "P3")[n % 4],
        )
        base = incident()
        out.append(
            replace(
                base,
                key=key,
                severity=("SEV1", "SEV2", "SEV3")[n % 3],
                actions=(a,),
                causes=tuple(replace(c, key=f"{key}/1") for c in base.causes),
                regulatory=("gdpr",) if n % 5 == 0 else (),
            )
        )
    return out


def _signature(findings: Iterator[tuple[str, str, str]] | list[tuple[str, str, str]]) -> Signature:
    return frozenset(findings)


def test_threads_evaluating_at_once_get_their_own_results() -> None:
    views = _variants()
    context_ = ctx()
    expected = {
        v.key: _signature(
            (f.rule, f.entity_key, f.fingerprint) for f in evaluate([v], context_)[v.key].findings
        )
        for v in views
    }
    assert len(set(expected.values())) == len(views)  # every incident is distinguishable

    def one(view: IncidentView) -> tuple[str, Signature]:
        outcome = evaluate([view], context_)[view.key]
        return view.key, _signature((f.rule, f.entity_key, f.fingerprint) for f in outcome.findings)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, views * 15))
    assert len(results) == 180
    for key, signature in results:
        assert signature == expected[key], key


def test_threads_storing_the_same_incident_write_once(
    committed_api: ApiClient, committed_rt: Runtime
) -> None:
    """Committed: the threads must really run at once, each on a connection of its own."""
    api, rt = committed_api, committed_rt
    key = complete_incident(api, regulatory=["gdpr", "sla"])
    with rt.db.sessions() as s:
        incident_id = s.scalar(sa.select(Incident.id).where(Incident.key == key))
        s.execute(sa.delete(Action).where(Action.is_compliance.is_(True)))
        s.execute(sa.delete(Finding))
        s.commit()
    assert incident_id is not None
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda _: evaluate_and_store(rt, incident_id), range(8)))
    assert all(o is not None for o in outcomes)
    with rt.db.sessions() as s:
        rules = s.scalars(
            sa.select(Action.compliance_rule).where(Action.is_compliance.is_(True))
        ).all()
        fingerprints = s.scalars(sa.select(Finding.fingerprint)).all()
    assert sorted(rules) == ["gdpr.supervisory_authority", "sla.credit_statement"]
    assert len(fingerprints) == len(set(fingerprints)) > 0


def _document(n: int) -> dict[str, Any]:
    """An incident of its own service, so no two share prevention history (scores stay put)."""
    at = datetime.now(UTC) - timedelta(hours=3)
    return {
        "incident": {
            "title": f"Incident {n}",
            "severity": ("SEV1", "SEV2", "SEV3")[n % 3],
            "status": "resolved",
            "services": [f"service-{n}"],
            "regulatory": ["gdpr"] if n % 2 else [],
            "summary": "Queue backlog.",
            "started_at": at.isoformat(),
            "detected_at": at.isoformat(),
            "resolved_at": (at + timedelta(hours=1)).isoformat(),
        },
        "timeline": [{"at": at.isoformat(), "kind": "alert", "text": "Backlog alert"}],
        "participants": [{"role": "responder", "name": "Maya Okafor"}],
        "causes": [
            {
                "ref": "C1",
                "kind": "root_cause",
                "category": "capacity",
                "statement": "The queue has no autoscaling",
            }
        ],
        "actions": [
            {
                "title": "Autoscale the queue",
                "type": "prevent",
                "owner": "Maya Okafor",
                "success_criteria": None if n % 4 == 1 else "Backlog under 1 minute",
                "addresses": ["C1"],
            }
        ],
        "postmortem": {"facilitator": "Noor Haddad"},
    }


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def private_redis(redis_url: str) -> Iterator[str]:
    """A redis-server of this test's own: the shared db 15 is flushed and worked by every
    concurrent test session on the machine, whose workers would take (or wipe) our jobs."""
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait(lambda: _pings(url), 10, "the private redis-server")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _pings(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.2).ping())
    except RedisError:
        return False


@pytest.mark.redis
def test_two_worker_processes_evaluate_independently(
    committed_database_url: str, private_redis: str
) -> None:
    database_url, redis_url = committed_database_url, private_redis
    from rq import Queue, Worker
    from rq.job import Job
    from rq.registry import FinishedJobRegistry, StartedJobRegistry

    env = {
        **os.environ,
        "HINDSIGHT_DATABASE_URL": database_url,
        "HINDSIGHT_REDIS_URL": redis_url,
        "HINDSIGHT_CONFIG_DIR": str(CONFIG_DIR),
        "HINDSIGHT_API_TOKENS": "",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "rules"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    conn = Redis.from_url(redis_url)
    app = create_app(make_settings(database_url, redis_url=redis_url))
    rt = runtime(app)
    try:
        _wait(lambda: len(Worker.all(connection=conn)) == 2, 90, "two workers to register")
        keys = [import_document(rt, _document(n), actor="test") for n in range(8)]
        api = ApiClient(app.test_client())
        for key in keys[::3]:
            add_action(api, key, owner=None, title="Unowned follow-up")
        queue = Queue("rules", connection=conn)
        _wait(
            lambda: queue.count == 0 and StartedJobRegistry(queue=queue).count == 0,
            60,
            "the rules queue to drain",
        )
        finished = FinishedJobRegistry(queue=queue).get_job_ids()
        names = {Job.fetch(job_id, connection=conn).worker_name for job_id in finished}
        # One job per incident; a write landing while its job runs adds one "-again" follow-up.
        # The schedule's own re-evaluation (app/services/schedule.py) runs on this queue too.
        per_incident = [j for j in finished if j.startswith("rules-incident-")]
        incidents = {job_id.removesuffix("-again") for job_id in per_incident}
        assert len(incidents) == len(keys) and len(names - {None}) == 2, names
    finally:
        for proc in workers:
            proc.terminate()
        errors = [proc.communicate(timeout=30)[1].decode() for proc in workers]
    assert not any("Traceback" in e for e in errors), errors

    ctx_ = context(rt)
    with rt.db.sessions() as s:
        for key in keys:
            inc = s.scalar(sa.select(Incident).where(Incident.key == key))
            assert inc is not None
            stored = {
                (f.rule, f.entity_key, f.fingerprint)
                for f in s.scalars(sa.select(Finding).where(Finding.incident_id == inc.id))
            }
            oracle = {(f.rule, f.entity_key, f.fingerprint) for f in dry_run(s, inc, ctx_).findings}
            assert stored == oracle, key
            compliance = [a for a in inc.actions if a.is_compliance]
            assert len(compliance) == (1 if "gdpr" in inc.regulatory else 0), key
    rt.close()
