"""Fault tests with real RQ worker processes: nothing duplicated, nothing lost.

* a 429 storm (with and without Retry-After), 503s and creates whose response
  is lost, over 500 actions with updates arriving during the storm;
* a worker SIGKILLed in the middle of a sync;
* Redis stopped while the API keeps writing.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from app.catalog import load_catalog
from app.domain.vocabulary import ActionStatus, Priority
from app.models import Action, Incident, OutboxItem, Postmortem
from app.runtime import Runtime
from app.schemas.actions import ActionUpdate
from app.services.actions import update_action
from app.sync.mapping import load_mapping, owner_ref
from tests.conftest import ApiClient, runtime
from tests.jira_server import JiraTestServer, encode_delivery
from tests.jira_server.webhooks import payload_of

from .conftest import SECRET, complete_incident, jira_settings, start_jira, wait_for
from .seed import CONFIG_DIR, seed_postmortems
from .workers import RedisProcess, WorkerProcess, worker_env

OUTAGE_SECONDS = float(os.environ.get("HINDSIGHT_TEST_REDIS_OUTAGE", "3"))


def idle(redis_url: str) -> bool:
    """No sync job queued or running: nothing can pick up new rows except the sweep."""
    from redis import Redis
    from rq import Queue
    from rq.registry import StartedJobRegistry

    with Redis.from_url(redis_url) as conn:
        queue = Queue("sync", connection=conn)
        return queue.count == 0 and StartedJobRegistry(queue=queue).count == 0


def mirrored_actions(rt: Runtime) -> int:
    with rt.db.sessions() as session:
        return (
            session.scalar(select(func.count(Action.id)).where(Action.tracker_key.is_not(None)))
            or 0
        )


def settled(rt: Runtime) -> bool:
    with rt.db.sessions() as session:
        open_rows = session.scalar(
            select(func.count(OutboxItem.id)).where(
                OutboxItem.status.in_(["pending", "processing"])
            )
        )
    return open_rows == 0


def assert_mirrored_exactly(rt: Runtime, srv: JiraTestServer) -> None:
    """Every entity has exactly one issue, and every action's issue shows its latest state."""
    mapping = load_mapping(CONFIG_DIR, "OPS")
    catalog = load_catalog(CONFIG_DIR)
    with srv.state.lock:
        issues = list(srv.state.issues_by_key.values())
        by_label: Counter[str] = Counter(
            lb for i in issues for lb in i.values.get("labels", []) if lb.startswith("hs-")
        )
        state = {
            i.key: (
                i,
                srv.state.status(i.status_id).category,
                srv.state.priority(i.values["priority"]).name,
            )
            for i in issues
        }
    duplicates = {lb: n for lb, n in by_label.items() if n > 1}
    assert not duplicates, f"duplicate Jira issues: {duplicates}"
    with rt.db.sessions() as session:
        counts = [
            session.scalar(select(func.count()).select_from(m))
            for m in (Incident, Postmortem, Action)
        ]
        assert len(issues) == sum(counts), (len(issues), counts)
        dead = session.scalar(select(func.count(OutboxItem.id)).where(OutboxItem.status == "dead"))
        assert dead == 0
        for action in session.scalars(select(Action)):
            assert action.tracker_key, f"{action.key} never reached Jira"
            issue, category, priority = state[action.tracker_key]
            assert f"hs-{action.key}" in issue.values["labels"]
            target = mapping.status_target("action", action.status)
            assert category == target.category, (action.key, action.status, category)
            assert priority == mapping.jira_priority(action.priority), action.key
            assert issue.values.get("duedate") == (
                action.due_date.isoformat() if action.due_date else None
            )
            owner = owner_ref(catalog, action.owner)
            assert issue.values.get("assignee") == (owner.account_id if owner else None)


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path


def test_storms_503s_and_lost_creates_over_500_actions(
    database_url: str, redis_url: str, logs: Path, request: pytest.FixtureRequest
) -> None:
    srv = start_jira("cloud", webhook_mode="hold")
    request.addfinalizer(srv.stop)
    settings = jira_settings(database_url, srv, redis_url=redis_url, sync_backoff_base_seconds=0.1)
    app = create_app(settings)
    rt = runtime(app)
    request.addfinalizer(rt.close)
    srv.faults.storm(0.02, "429", retry_after="1", seed=1)  # honoured: a 1 s pause
    srv.faults.storm(0.18, "429", retry_after=None, seed=2)  # our back-off with jitter
    srv.faults.storm(0.07, "503", retry_after=None, seed=3)
    srv.faults.add("lost_response", method="POST", path="/rest/api/3/issue/bulk", times=3)
    srv.faults.add(
        "lost_response", method="POST", path="/rest/api/3/issue", times=2, close_connection=True
    )
    workers = [
        WorkerProcess(worker_env(settings), logs / f"worker{n}.log").start() for n in range(2)
    ]
    for w in workers:
        request.addfinalizer(w.stop)

    seed_postmortems(rt, 50, 10)  # 50 transactions, 600 entities, jobs on the RQ queue
    # Updates to issues that already exist, while the rest is still fighting the storm:
    # two rounds in quick succession, so the second lands while the first is being pushed.
    wait_for(lambda: mirrored_actions(rt) >= 100, 120, "part of the first mirror", 0.2)
    with rt.db.sessions() as session:
        keys = list(
            session.scalars(
                select(Action.key)
                .where(Action.tracker_key.is_not(None))
                .order_by(Action.id)
                .limit(60)
            )
        )
    for key in keys:
        update_action(
            rt,
            key,
            ActionUpdate(status=ActionStatus.IN_PROGRESS, priority=Priority.P0, due_date=None),
            "test",
        )
    for key in keys[::3]:
        update_action(rt, key, ActionUpdate(status=ActionStatus.DONE, owner="Noor Haddad"), "test")

    # Generous: two RQ workers share two cores with the rest of the suite in CI.
    wait_for(lambda: settled(rt), 600, "the outbox to drain", every=0.5)
    assert all(w.alive() for w in workers), workers[0].log()
    assert_mirrored_exactly(rt, srv)
    fired = srv.faults.fired
    print(f"faults fired: {dict(fired)} over {srv.total_calls} Jira calls")
    assert fired["429"] >= 20 and fired["503"] >= 5 and fired["lost_response"] >= 3, fired
    assert not srv.server_errors, srv.server_errors


def test_worker_killed_mid_sync_loses_nothing(
    database_url: str, redis_url: str, logs: Path, request: pytest.FixtureRequest
) -> None:
    srv = start_jira("dc", webhook_mode="hold")
    request.addfinalizer(srv.stop)
    settings = jira_settings(database_url, srv, redis_url=redis_url, sync_lease_seconds=3)
    app = create_app(settings)
    rt = runtime(app)
    request.addfinalizer(rt.close)
    # Slow Jira down so the kill lands mid-sync: bulk creates take 0.4 s each.
    srv.faults.add("latency", method="POST", path="/rest/api/2/issue/bulk", delay=0.4, times=None)
    srv.faults.add(
        "latency", method="POST", path="/rest/api/2/issue/*/transitions", delay=0.05, times=None
    )
    seed_postmortems(rt, 20, 12)  # 280 entities queued before any worker runs
    env = worker_env(settings)
    first = WorkerProcess(env, logs / "first.log").start()
    request.addfinalizer(first.stop)
    wait_for(lambda: len(srv.state.issues_by_key) >= 40, 60, "the sync to be under way", 0.05)
    first.kill9()
    at_kill = len(srv.state.issues_by_key)
    assert at_kill < 280, "killed before the sync finished"
    assert not settled(rt)

    second = WorkerProcess(env, logs / "second.log").start()
    request.addfinalizer(second.stop)
    wait_for(lambda: settled(rt), 90, "the restarted worker to finish", 0.3)
    assert_mirrored_exactly(rt, srv)


@pytest.mark.parametrize("outage", [OUTAGE_SECONDS])
def test_redis_stopped_during_writes_loses_nothing(
    database_url: str, logs: Path, request: pytest.FixtureRequest, outage: float
) -> None:
    _redis_outage(database_url, logs, request, outage)


@pytest.mark.slow
def test_redis_stopped_for_a_minute_loses_nothing(
    database_url: str, logs: Path, request: pytest.FixtureRequest
) -> None:
    _redis_outage(database_url, logs, request, 60.0)


def _redis_outage(
    database_url: str, logs: Path, request: pytest.FixtureRequest, outage: float
) -> None:
    redis = RedisProcess().start()
    request.addfinalizer(redis.stop)
    srv = start_jira("cloud", webhook_mode="hold")
    request.addfinalizer(srv.stop)
    settings = jira_settings(database_url, srv, redis_url=redis.url)
    app = create_app(settings)
    rt = runtime(app)
    request.addfinalizer(rt.close)
    api = ApiClient(app.test_client())
    env = worker_env(settings)
    worker = WorkerProcess(env, logs / "worker.log").start()
    request.addfinalizer(worker.stop)

    key, actions = complete_incident(api, actions=2)
    wait_for(
        lambda: settled(rt) and len(srv.state.issues_by_key) == 4 and idle(redis.url),
        30,
        "the first push before the outage, and an idle worker",
    )

    redis.stop()
    written = []
    for n in range(5):  # the API keeps accepting writes; only the enqueue fails
        r = api.post(
            f"/api/v1/incidents/{key}/actions",
            json={
                "title": f"Written during the outage {n}",
                "type": "process",
                "owner": "Priya Raman",
                "due_date": "2030-06-01",
                "priority": "P2",
            },
        )
        assert r.status_code == 201, r.json
        written.append(r.json["key"])
    r = api.patch(f"/api/v1/actions/{actions[0]}", json={"status": "in_progress", "priority": "P0"})
    assert r.status_code == 200
    # A Jira webhook arriving now is stored and answered 202; its job cannot be enqueued.
    issue_key = api.get(f"/api/v1/actions/{actions[1]}").json["tracker_key"]
    change = srv.simulate_user_edit(issue_key, "priya", status="Done")[0]
    body, headers = encode_delivery(payload_of(change), secret=SECRET)
    assert api.client.post("/webhooks/jira", data=body, headers=headers).status_code == 202
    with rt.db.sessions() as session:  # every write is in the database, waiting
        waiting = session.scalar(
            select(func.count(OutboxItem.id)).where(OutboxItem.status == "pending")
        )
    assert waiting and waiting >= len(written)
    time.sleep(outage)
    assert len(srv.state.issues_by_key) == 4, "no job could start while Redis was down"
    redis.start()
    if not worker.alive():  # RQ may exit on a lost connection; a supervisor restarts it
        worker = WorkerProcess(env, logs / "worker2.log").start()
        request.addfinalizer(worker.stop)
    wait_for(lambda: settled(rt), 60, "the sweep to re-enqueue the stranded rows")
    assert len(srv.state.issues_by_key) == 4 + len(written)
    wait_for(
        lambda: api.get(f"/api/v1/actions/{actions[1]}").json["status"] == "done",
        30,
        "the sweep to process the webhook stored during the outage",
    )
    assert_mirrored_exactly(rt, srv)


def test_worker_runs_the_reconcile_on_schedule(
    database_url: str, redis_url: str, logs: Path, request: pytest.FixtureRequest
) -> None:
    srv = start_jira("dc", webhook_mode="hold")  # webhooks are never delivered
    request.addfinalizer(srv.stop)
    settings = jira_settings(database_url, srv, redis_url=redis_url, sync_reconcile_seconds=2)
    app = create_app(settings)
    rt = runtime(app)
    request.addfinalizer(rt.close)
    api = ApiClient(app.test_client())
    worker = WorkerProcess(worker_env(settings), logs / "worker.log").start()
    request.addfinalizer(worker.stop)
    _, (action,) = complete_incident(api, actions=1)
    wait_for(
        lambda: bool(api.get(f"/api/v1/actions/{action}").json["tracker_key"]), 30, "the first push"
    )
    issue_key = api.get(f"/api/v1/actions/{action}").json["tracker_key"]
    srv.simulate_user_edit(issue_key, "priya", priority="Highest", duedate="2031-01-31")
    wait_for(
        lambda: api.get(f"/api/v1/actions/{action}").json["priority"] == "P0",
        30,
        "the scheduled reconcile to notice the change",
    )
    assert api.get(f"/api/v1/actions/{action}").json["due_date"] == "2031-01-31"
