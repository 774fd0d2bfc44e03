"""Hindsight -> Jira through the real jira client, over real sockets, both flavours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, READ_TOKEN
from tests.jira_server import INCIDENT_KEY, SEVERITY

from .conftest import SyncEnv, build_env, complete_incident, wait_for
from .seed import seed_postmortems


def _links(env: SyncEnv, issue: Any) -> set[str]:
    with env.srv.state.lock:
        others = set()
        for link in env.srv.state.links_of(issue):
            other = link.outward_id if link.inward_id == issue.id else link.inward_id
            others.add(env.srv.state.issues_by_id[other].key)
    return others


def test_published_postmortem_appears_in_jira_with_actions_linked(env: SyncEnv) -> None:
    key, actions = complete_incident(env.api, actions=3)
    r = env.api.patch(
        f"/api/v1/incidents/{key}/postmortem",
        json={
            "status": "published",
            "facilitator": "Ines Duarte",
            "summary": "Payments failed because a config flag was off.",
        },
    )
    assert r.status_code == 200, r.json
    env.settle()

    assert len(env.issues()) == 1 + 1 + 3, "one issue per incident, postmortem and action"
    incident = env.issue_by_label(f"hs-{key}")
    postmortem = env.issue_by_label(f"hs-{key}-pm")
    assert incident.values["summary"] == f"{key}: Checkout down"
    assert env.status_of(incident) == ("Resolved", "Done")  # Bug: the classic workflow
    with env.srv.state.lock:
        assert env.srv.state.issue_type(incident.issuetype_id).name == "Bug"
        assert env.srv.state.issue_type(postmortem.issuetype_id).name == "Story"
        assert env.srv.state.priority(incident.values["priority"]).name == "High"  # SEV2
        severity = env.srv.state.field(SEVERITY)
    assert next(o.value for o in severity.options if o.id == incident.values[SEVERITY]) == "SEV2"
    assert incident.values[INCIDENT_KEY] == key

    assert env.status_of(postmortem) == ("Done", "Done")  # published
    assert postmortem.values["assignee"] == env.srv.user("ines").account_id
    assert postmortem.values["duedate"] == "2024-01-08"  # 5 business days after Mon 1 Jan
    assert _links(env, postmortem) >= {incident.key}

    for n, action_key in enumerate(actions):
        issue = env.issue_by_label(f"hs-{action_key}")
        assert set(issue.values["labels"]) == {"hindsight", f"hs-{action_key}"}
        assert issue.values["summary"].startswith(f"{action_key}: Alert on payment error rate")
        assert issue.values["assignee"] == env.srv.user("maya").account_id
        assert issue.values["duedate"] == f"2030-01-{n + 1:02d}"
        assert issue.values[INCIDENT_KEY] == key
        with env.srv.state.lock:
            assert env.srv.state.priority(issue.values["priority"]).name == "High"  # P1
        assert _links(env, issue) == {postmortem.key}, "each action is linked to its postmortem"
        read = env.api.get(f"/api/v1/actions/{action_key}").json
        assert read["tracker_key"] == issue.key
    assert env.outbox_counts().keys() <= {"done"}


def test_change_sends_only_the_changed_fields(env: SyncEnv) -> None:
    _, (act, _) = complete_incident(env.api, actions=2)
    env.settle()
    issue = env.issue_by_label(f"hs-{act}")
    env.srv.reset_counters()

    r = env.api.patch(f"/api/v1/actions/{act}", json={"priority": "P3", "owner": "Priya Raman"})
    assert r.status_code == 200, r.json
    puts = [q for q in env.srv.requests if q.method == "PUT"]
    assert [q.path.rsplit("/", 1)[-1] for q in puts] == [issue.key]
    assert set(puts[0].body["fields"]) == {"priority", "assignee"}
    assert puts[0].body["fields"]["assignee"] == (
        {"accountId": env.srv.user("priya").account_id}
        if env.mode == "cloud"
        else {"name": "priya"}
    )
    assert not any(q.method == "POST" and q.route.endswith("/issue") for q in env.srv.requests)

    env.srv.reset_counters()
    r = env.api.patch(
        f"/api/v1/actions/{act}", json={"status": "wont_do", "status_reason": "superseded"}
    )
    assert r.status_code == 200, r.json
    assert env.status_of(env.issues()[issue.key]) == ("Done", "Won't Do")
    assert env.srv.total_calls == 2, env.srv.calls  # transitions offered + the transition


def test_refused_change_is_in_the_dead_letter_with_jiras_words(cloud_env: SyncEnv) -> None:
    env = cloud_env
    env.srv.set_required_fields("Task", [SEVERITY])  # actions carry no severity
    key, _ = complete_incident(env.api, actions=0)
    r = env.api.post(
        f"/api/v1/incidents/{key}/actions",
        json={"title": "Document the flag", "type": "documentation", "owner": "Maya Okafor"},
    )
    assert r.status_code == 201
    action_key = r.json["key"]

    assert env.api.get("/api/v1/sync/failures").status_code == 403  # write token: not admin
    assert env.api.as_token(READ_TOKEN).get("/api/v1/sync/failures").status_code == 403
    admin = env.api.as_token(ADMIN_TOKEN)
    failures = admin.get("/api/v1/sync/failures").json
    assert failures["total"] == 1, failures
    failure = failures["items"][0]
    assert failure["entity_key"] == action_key
    assert f"{SEVERITY}: Severity is required." in failure["error"]
    assert "HTTP 400" in failure["error"]
    assert not [i for i in env.issues().values() if f"hs-{action_key}" in i.values["labels"]]

    env.srv.set_required_fields("Task", [])  # an admin fixes the Jira screen
    r = admin.post(f"/api/v1/sync/failures/{failure['id']}/retry")
    assert r.status_code == 202, r.json
    assert admin.get("/api/v1/sync/failures").json["total"] == 0
    env.issue_by_label(f"hs-{action_key}")
    assert admin.post(f"/api/v1/sync/failures/{failure['id']}/retry").status_code == 409
    assert admin.post("/api/v1/sync/failures/999999/retry").status_code == 404


def test_lost_create_response_never_makes_a_duplicate(dc_env: SyncEnv) -> None:
    env = dc_env
    key, _ = complete_incident(env.api, actions=0)
    env.settle()  # the close mirrors incident and postmortem (issue 8)
    # Two action creates lose their answer, one as a 504 from a proxy, one as a dropped
    # connection; the label search finds each, so neither is POSTed twice.
    action_keys = []
    for close_connection in (False, True):
        env.srv.faults.add(
            "lost_response",
            method="POST",
            path="/rest/api/2/issue",
            times=1,
            close_connection=close_connection,
        )
        r = env.api.post(
            f"/api/v1/incidents/{key}/actions",
            json={
                "title": f"Retry payments {len(action_keys)}",
                "type": "mitigate",
                "owner": "Maya Okafor",
                "due_date": "2030-02-01",
                "priority": "P2",
            },
        )
        assert r.status_code == 201
        action_keys.append(r.json["key"])
        env.settle()
    assert env.srv.faults.fired["lost_response"] == 2, "Jira created them; the answers were lost"
    creates = [q for q in env.srv.requests if q.method == "POST" and q.route.endswith("/issue")]
    for action_key in action_keys:
        label = f"hs-{action_key}"
        env.issue_by_label(label)  # exactly one issue each
        sent = [q for q in creates if label in q.body["fields"]["labels"]]
        assert len(sent) == 1, f"{label}: the label search found it, no second POST"
        issue = env.issue_by_label(label)
        assert env.api.get(f"/api/v1/actions/{action_key}").json["tracker_key"] == issue.key
    env.issue_by_label(f"hs-{key}-pm")
    assert env.outbox_counts().keys() <= {"done"}


def test_429_with_http_date_retry_after_is_honoured(cloud_env: SyncEnv) -> None:
    env = cloud_env
    key, _ = complete_incident(env.api, actions=0)
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)  # HTTP-dates have 1 s steps
    env.srv.faults.add("429", path="/rest/api/3/search/jql", times=1, retry_after=when)
    env.srv.faults.add("503", path="/rest/api/3/issue", method="POST", times=2)
    started = dt.datetime.now(dt.UTC)
    r = env.api.post(
        f"/api/v1/incidents/{key}/actions",
        json={
            "title": "Retry payments",
            "type": "mitigate",
            "owner": "Maya Okafor",
            "due_date": "2030-02-01",
            "priority": "P2",
        },
    )
    assert r.status_code == 201
    env.issue_by_label(f"hs-{r.json['key']}")
    assert env.srv.faults.fired == {"429": 1, "503": 2}
    assert (dt.datetime.now(dt.UTC) - started).total_seconds() >= 0.5, "waited for Retry-After"
    assert env.outbox_counts().keys() <= {"done"}


def test_first_mirror_of_many_actions_is_bulk_created(cloud_env: SyncEnv) -> None:
    env = cloud_env
    env.srv.reset_counters()
    seed_postmortems(env.rt, 2, 30)  # each incident: one transaction, one push
    env.settle()
    assert len(env.issues()) == 2 * (1 + 1 + 30)
    bulk = [q for q in env.srv.requests if q.route.endswith("/issue/bulk")]
    assert bulk and all(len(q.body["issueUpdates"]) <= 50 for q in bulk)
    created_by_bulk = sum(len(q.body["issueUpdates"]) for q in bulk)
    assert created_by_bulk >= 60
    # Every postmortem and action links to its parent in the create payload itself (no
    # separate link call); incidents have no parent, so they carry none. Whether the two
    # incidents (and postmortems) go out in one bulk create or one by one depends only on
    # how the background drains fall, so count every create, bulk or single.
    singles = [
        q.body for q in env.srv.requests if q.method == "POST" and q.route.endswith("/issue")
    ]
    kinds = {"Bug": "incident", "Story": "postmortem", "Task": "action"}
    linked: dict[str, list[bool]] = {"incident": [], "postmortem": [], "action": []}
    for u in [*(u for q in bulk for u in q.body["issueUpdates"]), *singles]:
        linked[kinds[u["fields"]["issuetype"]["name"]]].append("issuelinks" in u.get("update", {}))
    assert (len(linked["incident"]), len(linked["postmortem"]), len(linked["action"])) == (
        2,
        2,
        60,
    ), "one create per entity"
    assert all(linked["postmortem"]) and all(linked["action"]), "links travel in the create payload"
    assert not any(linked["incident"]), "an incident has no parent to link to"
    assert not [q for q in env.srv.requests if q.route.endswith("/issueLink")]
    actions_in_bulk = sum(
        1
        for q in bulk
        for u in q.body["issueUpdates"]
        if u["fields"]["issuetype"]["name"] == "Task"
    )
    assert actions_in_bulk == 60, "every action was bulk-created"
    per_action = env.srv.total_calls / 60
    assert per_action <= 0.4, (per_action, env.srv.calls)


def test_every_call_times_out_and_a_slow_create_is_not_made_twice(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    """Jira finishes a create after our 1 s timeout gave up on it: we wait before the
    retry's label search (sync_create_settle_seconds), find the issue, and adopt it."""
    env = build_env(
        database_url,
        "cloud",
        request,
        jira_timeout_seconds=1.0,
        sync_create_settle_seconds=2.5,
        sync_inline_retry_seconds=5.0,
    )
    key, _ = complete_incident(env.api, actions=0)
    env.srv.faults.add("latency", method="POST", path="/rest/api/3/issue", delay=2.0)
    env.srv.faults.add("latency", path="/rest/api/3/search/jql", delay=1.5)
    r = env.api.post(
        f"/api/v1/incidents/{key}/actions",
        json={
            "title": "Retry payments",
            "type": "mitigate",
            "owner": "Maya Okafor",
            "due_date": "2030-02-01",
            "priority": "P2",
        },
    )
    assert r.status_code == 201
    assert env.srv.faults.fired["latency"] == 2
    slow = [q for q in env.srv.requests if q.fault == "latency"]
    wait_for(
        lambda: all(q.status is not None for q in slow),
        10,
        "Jira to finish the requests we gave up on",
    )
    assert all(q.seconds >= 1.5 for q in slow), "both outlived the 1 s client timeout"
    env.issue_by_label(f"hs-{key}-pm")
    env.issue_by_label(f"hs-{r.json['key']}")
    assert env.outbox_counts().keys() <= {"done"}
