"""Jira -> Hindsight: signed webhooks over real sockets, applied field by field."""

from __future__ import annotations

import json

import requests
from sqlalchemy import select

from app.models import Action, AuditEntry, Finding
from app.queue import BackgroundQueue
from tests.jira_server import encode_delivery

from .conftest import SECRET, SyncEnv, complete_incident


def _action(env: SyncEnv, key: str) -> dict:
    return dict(env.api.get(f"/api/v1/actions/{key}").json)


def _mirror(env: SyncEnv, actions: int = 2) -> tuple[str, list[str], list[str]]:
    key, acts = complete_incident(env.api, actions=actions)
    env.settle()
    issues = [env.issue_by_label(f"hs-{a}").key for a in acts]
    return key, acts, issues


def test_changes_made_in_jira_come_back(env: SyncEnv) -> None:
    _, (a1, a2), (i1, i2) = _mirror(env)
    before_outbox = env.outbox_counts()
    env.srv.reset_counters()

    env.srv.simulate_user_edit(i1, "priya", status="In Progress")
    env.srv.simulate_user_edit(
        i1, "priya", assignee="tnowak", duedate="2031-02-03", priority="Highest"
    )
    env.srv.simulate_user_edit(i2, "priya", status="Done", resolution="Won't Do")
    env.settle()

    one, two = _action(env, a1), _action(env, a2)
    assert one["status"] == "in_progress"
    assert one["owner"] == "Tomasz Nowak"  # accountId (Cloud) / user name (DC) -> catalog
    assert one["due_date"] == "2031-02-03"
    assert one["priority"] == "P0"
    assert two["status"] == "wont_do"
    assert two["history"][-1]["source"] == "jira"
    assert "Won't Do" in (two["status_reason"] or "")

    assert env.srv.total_calls == 0, f"nothing was pushed back to Jira: {env.srv.calls}"
    assert env.outbox_counts() == before_outbox, "inbound changes write no outbox rows"
    with env.rt.db.sessions() as session:
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "action.sync_in")
        ).all()
    assert {e.entity_key for e in audited} == {a1, a2}
    assert all(e.actor == "jira:Priya Raman" for e in audited)
    assert any(e.after and e.after.get("owner") == "Tomasz Nowak" for e in audited)
    with env.rt.db.sessions() as session:  # the rules ran again on the new values
        findings = {(f.rule, f.entity_key): f.message for f in session.scalars(select(Finding))}
    assert "P0" in findings[("deadlines.too_far", a1)], "judged on Jira's priority and due date"
    assert not [k for k in findings if k[1] == a2], "a wont_do action is no longer chased"


def test_duplicate_and_replayed_deliveries_change_nothing(cloud_env: SyncEnv) -> None:
    env = cloud_env
    _, (a1, _), (i1, _) = _mirror(env)
    env.srv.simulate_user_edit(i1, "priya", status="In Progress")
    env.settle()
    delivery = next(d for d in reversed(env.srv.webhooks.deliveries) if d.payload.get("changelog"))
    stored = len(env.deliveries())
    history = len(_action(env, a1)["history"])

    attempt = env.srv.webhooks.replay(delivery)  # Jira's retry: same identifier, Retry: 1
    assert attempt.status == 200
    body, headers = delivery.request()
    r = requests.post(env.hook_url, data=body, headers=headers, timeout=5)
    assert r.status_code == 200 and r.json()["status"] == "duplicate"
    assert len(env.deliveries()) == stored
    assert len(_action(env, a1)["history"]) == history


def test_out_of_order_deliveries_cannot_roll_a_field_back(dc_env: SyncEnv) -> None:
    env = dc_env
    _, (a1, _), (i1, _) = _mirror(env)
    env.srv.webhooks.mode = "hold"
    env.srv.simulate_user_edit(i1, "priya", status="In Progress")
    env.srv.simulate_user_edit(i1, "priya", priority="Low")
    env.srv.simulate_user_edit(i1, "priya", status="Done")
    env.srv.simulate_user_edit(i1, "priya", priority="High")
    env.srv.webhooks.flush("reverse")  # newest first
    env.settle()
    action = _action(env, a1)
    assert action["status"] == "done"
    assert action["priority"] == "P1"
    statuses = [d.status for d in env.deliveries()]
    assert "processed" in statuses


def test_unsigned_and_badly_signed_deliveries_are_refused(cloud_env: SyncEnv) -> None:
    env = cloud_env
    _, _, (i1, _) = _mirror(env)
    env.srv.webhooks.mode = "hold"
    env.srv.simulate_user_edit(i1, "priya", status="In Progress")
    payload = env.srv.webhooks.held[0].payload
    stored = len(env.deliveries())

    body, headers = encode_delivery(payload, secret=None)
    r = requests.post(env.hook_url, data=body, headers=headers, timeout=5)
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("application/problem+json")

    body, headers = encode_delivery(payload, secret="not-the-secret")
    assert requests.post(env.hook_url, data=body, headers=headers, timeout=5).status_code == 401

    body, headers = encode_delivery(payload, secret=SECRET)
    tampered = body.replace(b"In Progress", b"Done       ")
    assert requests.post(env.hook_url, data=tampered, headers=headers, timeout=5).status_code == 401
    reformatted = json.dumps(json.loads(body), indent=2).encode()  # same JSON, other bytes
    assert (
        requests.post(env.hook_url, data=reformatted, headers=headers, timeout=5).status_code == 401
    )
    assert len(env.deliveries()) == stored, "refused deliveries are not stored"

    headers.pop("X-Atlassian-Webhook-Identifier")
    assert requests.post(env.hook_url, data=body, headers=headers, timeout=5).status_code == 400
    env.srv.webhooks.flush()
    env.settle()
    assert len(env.deliveries()) == stored + 1


def test_hindsights_own_changes_echoed_by_jira_are_ignored(dc_env: SyncEnv) -> None:
    env = dc_env
    _, (a1, _), _ = _mirror(env)
    seen = len(env.deliveries())
    r = env.api.patch(f"/api/v1/actions/{a1}", json={"priority": "P3", "status": "in_progress"})
    assert r.status_code == 200
    env.settle()
    echoes = env.deliveries()[seen:]
    assert echoes, "Jira sends webhooks for our own edits too"
    assert {d.status for d in echoes} == {"ignored"}
    assert {d.error for d in echoes} == {"made by Hindsight's own Jira account"}
    action = _action(env, a1)
    assert (action["priority"], action["status"]) == ("P3", "in_progress")
    assert env.outbox_counts().keys() <= {"done"}


def test_deleted_issue_flags_the_action_and_keeps_it(cloud_env: SyncEnv) -> None:
    env = cloud_env
    _, (a1, a2), (i1, _) = _mirror(env)
    env.srv.simulate_user_edit(i1, "priya", delete=True)
    env.settle()
    action = _action(env, a1)
    assert action["tracker_deleted"] is True
    assert action["tracker_key"] == i1
    assert _action(env, a2)["tracker_deleted"] is False
    env.srv.reset_counters()
    assert env.api.patch(f"/api/v1/actions/{a1}", json={"priority": "P2"}).status_code == 200
    assert env.srv.total_calls == 0, "a deleted issue is not re-created or edited"
    with env.rt.db.sessions() as session:
        assert session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "action.tracker_deleted", AuditEntry.entity_key == a1
            )
        )


def test_a_webhook_is_answered_before_its_job_runs(cloud_env: SyncEnv) -> None:
    """Embedded default: the delivery is stored and answered 202; the job runs after, on the
    background thread. Then the round trip: no echo back to Jira, and a later change made in
    Hindsight goes out as a PUT of that field alone."""
    env = cloud_env
    _, (a1, _), (i1, _) = _mirror(env)
    queue = env.rt.queue
    assert isinstance(queue, BackgroundQueue)
    stored = len(env.deliveries())
    env.srv.reset_counters()
    queue.pause()
    try:
        env.srv.simulate_user_edit(i1, "priya", priority="Highest", duedate="2031-05-06")
        delivery = env.srv.webhooks.deliveries[-1]
        assert [a.status for a in delivery.attempts] == [202], "answered at once, not retried"
        rows = env.deliveries()
        assert len(rows) == stored + 1 and rows[-1].status == "pending"
        assert queue.pending == 1, "its job is waiting for the (paused) background thread"
        with env.rt.db.sessions() as session:
            action = session.scalar(select(Action).where(Action.key == a1))
            assert action is not None
            assert (action.priority, str(action.due_date)) == ("P1", "2030-01-01"), (
                "nothing was applied in the request"
            )
    finally:
        queue.resume()
    env.settle()
    action_read = _action(env, a1)
    assert (action_read["priority"], action_read["due_date"]) == ("P0", "2031-05-06")
    assert env.deliveries()[-1].status == "processed"
    assert env.srv.total_calls == 0, f"an inbound change is not pushed back: {env.srv.calls}"

    r = env.api.patch(f"/api/v1/actions/{a1}", json={"priority": "P2"})
    assert r.status_code == 200, r.json
    env.settle()
    puts = [q for q in env.srv.requests if q.method == "PUT"]
    assert [q.path.rsplit("/", 1)[-1] for q in puts] == [i1]
    assert puts[0].body["fields"] == {"priority": {"name": "Medium"}}
    with env.srv.state.lock:
        issue = env.srv.state.issues_by_key[i1]
        assert env.srv.state.priority(issue.values["priority"]).name == "Medium"
        assert issue.values["duedate"] == "2031-05-06"
