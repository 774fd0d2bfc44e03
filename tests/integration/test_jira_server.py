"""The fake Jira, exercised through the real ``jira`` client over a real socket.

These tests pin the behaviours other suites rely on: if the fake drifts from what
jira 3.10.5 expects (endpoints, shapes, error handling), these fail first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import requests
from jira import JIRA, JIRAError

from tests.jira_server import (
    INCIDENT_KEY,
    SEVERITY,
    JiraTestServer,
    ManualClock,
    WebhookSink,
    webhook_request,
)

JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
OPS_TASK = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}}


@pytest.fixture(params=["cloud", "dc"])
def srv(request: pytest.FixtureRequest) -> Iterator[JiraTestServer]:
    with JiraTestServer(request.param, webhook_mode="sync") as server:
        yield server
    assert not server.server_errors, server.server_errors


@pytest.fixture
def cloud() -> Iterator[JiraTestServer]:
    with JiraTestServer("cloud", webhook_mode="sync") as server:
        yield server
    assert not server.server_errors, server.server_errors


@pytest.fixture
def dc() -> Iterator[JiraTestServer]:
    with JiraTestServer("dc", webhook_mode="sync") as server:
        yield server
    assert not server.server_errors, server.server_errors


@pytest.fixture
def jira(srv: JiraTestServer) -> JIRA:
    return srv.client()


def user_field(srv: JiraTestServer, name: str) -> dict[str, str]:
    u = srv.user(name)
    return {"accountId": u.account_id} if srv.mode == "cloud" else {"name": u.name}


def error_body(err: JIRAError) -> dict[str, Any]:
    assert err.response is not None
    return dict(err.response.json())


class Recorder:
    """A webhook transport that keeps ``(body, headers)`` instead of posting them."""

    def __init__(self) -> None:
        self.got: list[tuple[bytes, dict[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.got.append((body, dict(headers)))
        return 200

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(b) for b, _ in self.got]


def links_of(issue: Any) -> list[tuple[str, str, str]]:
    out = []
    for lk in issue.fields.issuelinks:
        side = "outward" if hasattr(lk, "outwardIssue") else "inward"
        other = lk.outwardIssue if side == "outward" else lk.inwardIssue
        out.append((lk.type.name, side, other.key))
    return out


# -- server identity and auth ---------------------------------------------------------------


def test_server_info_identifies_the_flavour(srv: JiraTestServer, jira: JIRA) -> None:
    info = jira.server_info()
    assert jira._is_cloud == (srv.mode == "cloud")
    assert info["deploymentType"] == ("Cloud" if srv.mode == "cloud" else "Server")
    if srv.mode == "dc":
        assert info["versionNumbers"][0] == 9
    me = jira.myself()
    assert me["displayName"] == "Hindsight Bot"
    assert ("accountId" in me) == (srv.mode == "cloud")


def test_unauthenticated_and_missing_v3(srv: JiraTestServer) -> None:
    assert requests.get(f"{srv.url}/rest/api/2/myself", timeout=5).status_code == 401
    auth = srv.credentials()
    v3 = requests.get(f"{srv.url}/rest/api/3/myself", auth=auth, timeout=5)
    assert v3.status_code == (200 if srv.mode == "cloud" else 404)


def test_strict_auth_checks_tokens() -> None:
    with JiraTestServer("dc", strict_auth=True) as srv:
        url = f"{srv.url}/rest/api/2/myself"
        assert requests.get(url, auth=("alice", "wrong"), timeout=5).status_code == 401
        assert requests.get(url, auth=srv.credentials("alice"), timeout=5).status_code == 200
        pat = {"Authorization": f"Bearer {srv.user('alice').token}"}  # DC personal access token
        assert requests.get(url, headers=pat, timeout=5).json()["name"] == "alice"


# -- issues ---------------------------------------------------------------------------------


def test_create_issue_round_trip(srv: JiraTestServer, jira: JIRA) -> None:
    issue = jira.create_issue(
        fields={
            **OPS_TASK,
            "summary": "Add alert on queue depth",
            "description": "From INC-42",
            "priority": {"name": "High"},
            "labels": ["hindsight", "action-item"],
            "assignee": user_field(srv, "alice"),
            "duedate": "2024-02-01",
            SEVERITY: {"value": "SEV2"},
            INCIDENT_KEY: "INC-42",
        }
    )
    assert issue.key == "OPS-1"
    f = issue.fields
    assert (f.status.name, f.status.statusCategory.key) == ("To Do", "new")
    assert f.priority.name == "High" and f.labels == ["hindsight", "action-item"]
    assert issue.raw["fields"]["assignee"]["displayName"] == "Alice Example"
    assert f.reporter.displayName == "Hindsight Bot"
    assert getattr(f, SEVERITY).value == "SEV2" and getattr(f, INCIDENT_KEY) == "INC-42"
    assert JIRA_TIME.match(f.created) and JIRA_TIME.match(f.updated)
    slim = jira.issue("OPS-1", fields="summary,status")
    assert set(slim.raw["fields"]) == {"summary", "status"}


def test_create_issue_validation_is_jira_shaped(srv: JiraTestServer, jira: JIRA) -> None:
    srv.set_required_fields("Task", [SEVERITY])
    with pytest.raises(JIRAError) as err:
        jira.create_issue(
            fields={
                **OPS_TASK,
                "summary": "x",
                "priority": {"name": "Urgent!!"},
                "labels": "not-a-list",
                "components": [{"name": "api"}],
            }
        )
    assert err.value.status_code == 400
    body = error_body(err.value)
    assert body["errorMessages"] == []
    assert set(body["errors"]) == {"priority", "labels", "components", SEVERITY}
    assert "cannot be set" in body["errors"]["components"]
    assert not srv.state.issues_by_id  # nothing half-created


def test_cloud_rejects_users_by_name(cloud: JiraTestServer) -> None:
    jira = cloud.client()
    with pytest.raises(JIRAError) as err:
        jira.create_issue(fields={**OPS_TASK, "summary": "x", "assignee": {"name": "alice"}})
    assert "accountId" in error_body(err.value)["errors"]["assignee"]


def test_cloud_refuses_a_null_account_id_in_a_field_and_unassigns_with_null(
    cloud: JiraTestServer,
) -> None:
    """Issue 12: `{"accountId": null}` in a field is a 400 on Cloud; a field unassigns with
    `"assignee": null`; only the assign endpoint documents `{"accountId": null}`."""
    jira = cloud.client()
    alice = {"accountId": cloud.user("alice").account_id}
    with pytest.raises(JIRAError) as err:
        jira.create_issue(fields={**OPS_TASK, "summary": "x", "assignee": {"accountId": None}})
    assert err.value.status_code == 400
    assert error_body(err.value)["errors"] == {"assignee": "Specify a valid value for assignee"}
    assert not cloud.state.issues_by_id, "nothing created"
    issue = jira.create_issue(fields={**OPS_TASK, "summary": "x", "assignee": alice})
    with pytest.raises(JIRAError) as err:
        issue.update(fields={"assignee": {"accountId": None}})
    assert err.value.status_code == 400
    assert jira.issue(issue.key).raw["fields"]["assignee"]["accountId"] == alice["accountId"]
    issue.update(fields={"assignee": None})
    assert jira.issue(issue.key).raw["fields"]["assignee"] is None
    issue.update(fields={"assignee": alice})
    r = jira._session.put(
        f"{cloud.url}/rest/api/3/issue/{issue.key}/assignee", json={"accountId": None}
    )
    assert r.status_code == 204
    assert jira.issue(issue.key).raw["fields"]["assignee"] is None


def test_edit_and_delete(srv: JiraTestServer, jira: JIRA) -> None:
    issue = jira.create_issue(fields={**OPS_TASK, "summary": "old"})
    issue.update(fields={"summary": "new", "duedate": "2024-03-01"})
    assert issue.fields.summary == "new"
    log = jira.issue(issue.key, expand="changelog").raw["changelog"]["histories"]
    items = {i["field"]: (i["fromString"], i["toString"]) for i in log[-1]["items"]}
    assert items == {"summary": ("old", "new"), "duedate": (None, "2024-03-01 00:00:00.0")}
    issue.delete()
    with pytest.raises(JIRAError) as err:
        jira.issue(issue.key)
    assert err.value.status_code == 404


def test_parent_follows_the_issue_hierarchy(srv: JiraTestServer, jira: JIRA) -> None:
    def create(itype: str, parent: str | None = None) -> Any:
        fields: dict[str, Any] = {**OPS_TASK, "issuetype": {"name": itype}, "summary": itype}
        if parent:
            fields["parent"] = {"key": parent}
        return jira.create_issue(fields=fields)

    task = create("Task")
    sub = create("Sub-task", task.key)
    assert sub.fields.parent.key == task.key
    assert [i.key for i in jira.search_issues(f"parent = {task.key}")] == [sub.key]
    with pytest.raises(JIRAError) as err:
        create("Sub-task")
    assert "parent" in error_body(err.value)["errors"]
    with pytest.raises(JIRAError) as err:
        create("Task", task.key)  # Cloud: wrong hierarchy level; DC: not on the screen
    assert "parent" in error_body(err.value)["errors"]
    if srv.mode == "cloud":
        epic = create("Epic")
        assert create("Story", epic.key).fields.parent.key == epic.key
    with pytest.raises(JIRAError) as err:
        task.delete()
    assert "subtasks" in str(err.value.text)
    task.delete(deleteSubtasks=True)
    assert not srv.state.find_issue(sub.key)


def test_bulk_create_with_links(srv: JiraTestServer, jira: JIRA) -> None:
    parent = jira.create_issue(fields={**OPS_TASK, "summary": "postmortem"})
    url = f"{srv.url}/rest/api/2/issue/bulk"
    blocks = {"add": {"type": {"name": "Blocks"}, "outwardIssue": {"key": parent.key}}}
    payload = {
        "issueUpdates": [
            {"fields": {**OPS_TASK, "summary": "fix A"}, "update": {"issuelinks": [blocks]}},
            {"fields": {**OPS_TASK, "summary": ""}},
            {"fields": {**OPS_TASK, "summary": "fix B"}, "update": {"issuelinks": [blocks]}},
        ]
    }
    r = requests.post(url, json=payload, auth=srv.credentials(), timeout=5)
    assert r.status_code == 201
    body = r.json()
    assert [i["key"] for i in body["issues"]] == ["OPS-2", "OPS-3"]
    assert body["errors"][0]["failedElementNumber"] == 1
    assert "summary" in body["errors"][0]["elementErrors"]["errors"]
    assert links_of(jira.issue("OPS-2")) == [("Blocks", "outward", "OPS-1")]
    assert links_of(jira.issue("OPS-1")) == [
        ("Blocks", "inward", "OPS-2"),
        ("Blocks", "inward", "OPS-3"),
    ]
    # the client's own bulk API understands the partial-failure shape
    res = jira.create_issues([{**OPS_TASK, "summary": "ok"}, {**OPS_TASK}], prefetch=False)
    assert [r["status"] for r in res] == ["Success", "Error"]
    too_many = {"issueUpdates": [{"fields": {**OPS_TASK, "summary": "x"}}] * 51}
    assert requests.post(url, json=too_many, auth=srv.credentials(), timeout=5).status_code == 400


def test_issue_link_and_remote_links(srv: JiraTestServer, jira: JIRA) -> None:
    a = jira.create_issue(fields={**OPS_TASK, "summary": "a"})
    b = jira.create_issue(fields={**OPS_TASK, "summary": "b"})
    jira.create_issue_link("Relates", a.key, b.key)
    assert links_of(jira.issue(a.key)) == [("Relates", "outward", b.key)]
    pm = {"url": "https://hindsight.example/pm/7", "title": "Postmortem INC-7"}
    first = jira.add_simple_link(a.key, pm)
    again = jira.add_remote_link(a.key, pm, globalId="hindsight:pm:7")
    same = jira.add_remote_link(a.key, {**pm, "title": "renamed"}, globalId="hindsight:pm:7")
    assert again.id == same.id != first.id  # globalId makes the POST idempotent
    assert [r.object.title for r in jira.remote_links(a.key)] == [pm["title"], "renamed"]


# -- search ---------------------------------------------------------------------------------


def seed(srv: JiraTestServer, n: int) -> None:
    for i in range(n):
        srv.seed_issue(f"item {i}", labels=["hindsight"], customfield_10051=f"INC-{100 + i}")


def test_cloud_search_pages_with_next_page_token(cloud: JiraTestServer) -> None:
    seed(cloud, 7)
    jira = cloud.client()
    jql = "labels = hindsight ORDER BY key ASC"
    keys, token, pages = [], None, 0
    while True:
        page = jira.enhanced_search_issues(jql, nextPageToken=token, maxResults=3)
        keys += [i.key for i in page]
        pages += 1
        token = page.nextPageToken
        if not token:
            break
    assert pages == 3 and keys == [f"OPS-{n}" for n in range(1, 8)]
    assert cloud.calls["GET /rest/api/2/search/jql"] == 3
    assert len(jira.search_issues("labels = hindsight", maxResults=False)) == 7
    raw = jira.enhanced_search_issues(jql, maxResults=5, json_result=True)
    assert raw["isLast"] is False and "total" not in raw
    found = jira.search_issues('"Incident key" ~ "INC-103"', fields="summary")
    assert [i.fields.summary for i in found] == ["item 3"]
    with pytest.raises(JIRAError) as err:
        jira.search_issues("ORDER BY created")
    assert "Unbounded" in str(err.value.text)
    old = requests.get(f"{cloud.url}/rest/api/2/search", auth=cloud.credentials(), timeout=5)
    assert old.status_code == 410


def test_dc_search_pages_with_start_at(dc: JiraTestServer) -> None:
    seed(dc, 7)
    jira = dc.client()
    page = jira.search_issues("labels = hindsight ORDER BY key ASC", startAt=3, maxResults=3)
    assert [i.key for i in page] == ["OPS-4", "OPS-5", "OPS-6"] and page.total == 7
    assert len(jira.search_issues("project = OPS", maxResults=False)) == 7
    post = jira.search_issues("labels = hindsight", maxResults=2, use_post=True)
    assert [i.key for i in post] == ["OPS-7", "OPS-6"]  # default order: newest first
    with pytest.raises(JIRAError) as err:
        jira.search_issues("summary = x")
    assert err.value.status_code == 400 and "operator '='" in str(err.value.text)
    new = requests.get(f"{dc.url}/rest/api/2/search/jql", auth=dc.credentials(), timeout=5)
    assert new.status_code == 404


def test_jql_dates_with_a_manual_clock() -> None:
    clock = ManualClock(dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC))
    with JiraTestServer("dc", clock=clock) as srv:
        srv.seed_issue("early")
        clock.advance(3600)
        srv.seed_issue("late")
        jira = srv.client()
        hits = jira.search_issues('updated >= "2024-05-01 09:30"')
        assert [i.fields.summary for i in hits] == ["late"]
        assert jira.issue("OPS-2").fields.updated == "2024-05-01T10:00:00.000+0000"


# -- workflow -------------------------------------------------------------------------------


def test_transitions_set_and_clear_resolution(srv: JiraTestServer, jira: JIRA) -> None:
    issue = jira.create_issue(fields={**OPS_TASK, "summary": "t"})
    assert {t["name"]: t["id"] for t in jira.transitions(issue)} == {
        "In Progress": "21",
        "Done": "31",
    }
    jira.transition_issue(issue, "31", fields={"resolution": {"name": "Won't Do"}})
    done = jira.issue(issue.key)
    assert done.fields.status.statusCategory.key == "done"
    assert done.raw["fields"]["resolution"]["name"] == "Won't Do" and done.fields.resolutiondate
    jira.transition_issue(issue, "To Do")  # by name: the client looks the id up first
    reopened = jira.issue(issue.key)
    assert reopened.fields.resolution is None and reopened.fields.resolutiondate is None
    with pytest.raises(JIRAError) as err:
        jira.transition_issue(issue, "5")
    assert "not valid for this issue" in str(err.value.text)
    with pytest.raises(JIRAError) as err:
        jira.transition_issue(issue, "21", fields={"resolution": {"name": "Done"}})
    assert "resolution" in error_body(err.value)["errors"]


def test_classic_workflow_has_its_own_transition_ids(srv: JiraTestServer, jira: JIRA) -> None:
    bug = jira.create_issue(fields={**OPS_TASK, "issuetype": {"name": "Bug"}, "summary": "b"})
    assert bug.fields.status.name == "Open"
    assert [t["id"] for t in jira.transitions(bug)] == ["4", "5", "2"]
    jira.transition_issue(bug, "5")
    resolved = jira.issue(bug.key)
    assert resolved.fields.status.name == "Resolved"
    assert resolved.raw["fields"]["resolution"]["name"] == "Done"
    assert [t["name"] for t in jira.transitions(bug)] == ["Close Issue", "Reopen Issue"]


def test_comments(srv: JiraTestServer, jira: JIRA) -> None:
    issue = jira.create_issue(fields={**OPS_TASK, "summary": "c"})
    c = jira.add_comment(issue, "Linked from Hindsight")
    assert c.body == "Linked from Hindsight" and JIRA_TIME.match(c.created)
    assert [x.body for x in jira.comments(issue)] == ["Linked from Hindsight"]
    jira.transition_issue(issue, "31", comment="closing")
    assert [x.body for x in jira.comments(issue)][-1] == "closing"


def test_cloud_v3_speaks_adf(cloud: JiraTestServer) -> None:
    v3 = cloud.client(options={"rest_api_version": "3"})
    with pytest.raises(JIRAError) as err:
        v3.create_issue(fields={**OPS_TASK, "summary": "x", "description": "plain"})
    assert "Atlassian Document" in str(err.value.text)
    doc = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hello"}]}],
    }
    issue = v3.create_issue(fields={**OPS_TASK, "summary": "x", "description": doc})
    assert issue.raw["fields"]["description"] == doc
    assert cloud.client().issue(issue.key).fields.description == "hello"  # v2 view
    with pytest.raises(JIRAError):
        v3.add_comment(issue, "plain text is not ADF")
    url = f"{cloud.url}/rest/api/3/issue/{issue.key}/comment"
    r = requests.post(url, json={"body": doc}, auth=cloud.credentials(), timeout=5)
    assert r.status_code == 201 and r.json()["body"] == doc


# -- metadata -------------------------------------------------------------------------------


def test_createmeta_cloud_legacy(cloud: JiraTestServer) -> None:
    cloud.set_required_fields("Task", [SEVERITY, "duedate"])
    jira = cloud.client()
    meta = jira.createmeta(
        projectKeys="OPS", issuetypeNames="Task", expand="projects.issuetypes.fields"
    )
    fields = meta["projects"][0]["issuetypes"][0]["fields"]
    required = sorted(k for k, v in fields.items() if v["required"])
    assert required == [SEVERITY, "duedate", "issuetype", "project", "summary"]
    assert [o["value"] for o in fields[SEVERITY]["allowedValues"]] == [
        "SEV1",
        "SEV2",
        "SEV3",
        "SEV4",
    ]
    with pytest.raises(JIRAError):
        jira.project_issue_types("OPS")  # the client refuses the new API on Cloud
    paged = requests.get(
        f"{cloud.url}/rest/api/3/issue/createmeta/OPS/issuetypes/10002",
        auth=cloud.credentials(),
        timeout=5,
    ).json()
    assert {"fields", "maxResults", "startAt", "total"} <= paged.keys()


def test_createmeta_dc_paged_api(dc: JiraTestServer) -> None:
    dc.set_required_fields("Bug", ["priority"], project="OPS")
    jira = dc.client()
    types = {t.name: t.id for t in jira.project_issue_types("OPS")}
    fields = jira.project_issue_fields("OPS", types["Bug"])
    assert sorted(f.fieldId for f in fields if f.required) == [
        "issuetype",
        "priority",
        "project",
        "summary",
    ]
    with pytest.raises(JIRAError):
        jira.createmeta(projectKeys="OPS")  # removed in DC 9; the client refuses it
    legacy = requests.get(f"{dc.url}/rest/api/2/issue/createmeta", auth=dc.credentials(), timeout=5)
    assert legacy.status_code == 404


def test_catalogue_endpoints(srv: JiraTestServer, jira: JIRA) -> None:
    assert [p.name for p in jira.priorities()][:3] == ["Highest", "High", "Medium"]
    cats = {s.name: s.statusCategory.key for s in jira.statuses()}
    assert (cats["To Do"], cats["In Progress"], cats["Done"]) == ("new", "indeterminate", "done")
    assert {f["id"]: f["name"] for f in jira.fields()}[SEVERITY] == "Severity"
    assert "Relates" in {t.name for t in jira.issue_link_types()}
    assert jira.project("OPS").key == "OPS"


def test_user_search(srv: JiraTestServer, jira: JIRA) -> None:
    if srv.mode == "cloud":
        found = jira.search_users(query="bob")
        assert [u.accountId for u in found] == [srv.user("bob").account_id]
        assert jira.user(srv.user("bob").account_id).displayName == "Bob Example"
    else:
        found = jira.search_users(user="bob")
        assert [u.name for u in found] == ["bob"]
        assert jira.user("bob").key == srv.user("bob").key
    issue = jira.create_issue(fields={**OPS_TASK, "summary": "assign me"})
    jira.assign_issue(issue, "carol")  # search, then PUT /rest/api/latest/.../assignee
    assert jira.issue(issue.key).raw["fields"]["assignee"]["displayName"] == "Carol Example"


# -- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "retry_after",
    ["2", dt.datetime(2030, 1, 1, tzinfo=dt.UTC)],
    ids=["seconds", "http-date"],
)
def test_429_surfaces_with_retry_after(srv: JiraTestServer, jira: JIRA, retry_after: Any) -> None:
    rule = srv.faults.add(
        method="POST", path="/rest/api/2/issue", kind="429", retry_after=retry_after, times=2
    )
    for _ in range(2):
        with pytest.raises(JIRAError) as err:
            jira.create_issue(fields={**OPS_TASK, "summary": "x"})
        assert err.value.status_code == 429
        assert err.value.response is not None
        header = err.value.response.headers["Retry-After"]
        assert header == ("2" if retry_after == "2" else "Tue, 01 Jan 2030 00:00:00 GMT")
    assert rule.hits == 2 and not srv.state.issues_by_id  # rejected before any write
    assert jira.create_issue(fields={**OPS_TASK, "summary": "x"}).key == "OPS-1"


def test_5xx_faults(srv: JiraTestServer, jira: JIRA) -> None:
    for kind in ("500", "502", "503"):
        srv.faults.add(kind, path="/rest/api/*/myself")
        with pytest.raises(JIRAError) as err:
            jira.myself()
        assert err.value.status_code == int(kind)
    assert srv.faults.fired == {"500": 1, "502": 1, "503": 1}


def test_lost_response_commits_the_write(srv: JiraTestServer, jira: JIRA) -> None:
    srv.faults.add("lost_response", method="POST", path="/rest/api/2/issue")
    with pytest.raises(JIRAError) as err:
        jira.create_issue(fields={**OPS_TASK, "summary": "ghost"})
    assert err.value.status_code == 504
    srv.faults.add("lost_response", method="POST", path="/rest/api/2/issue", close_connection=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        jira.create_issue(fields={**OPS_TASK, "summary": "ghost"})
    # both "failed" creates exist: a blind retry would have made a third
    assert [i.values["summary"] for i in srv.state.issues_by_id.values()] == ["ghost", "ghost"]


def test_latency_trips_client_timeout(srv: JiraTestServer) -> None:
    srv.seed_issue("slow")
    impatient = srv.client(timeout=0.2)
    srv.faults.add("latency", delay=0.6, path="/rest/api/2/issue/{issueIdOrKey}")
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        impatient.issue("OPS-1")
    assert time.monotonic() - started < 0.5


def test_storm_is_reproducible(srv: JiraTestServer) -> None:
    def pattern(seed: int) -> list[int]:
        srv.faults.clear()
        srv.faults.storm(0.3, seed=seed, path="/rest/api/2/myself")
        url, auth = f"{srv.url}/rest/api/2/myself", srv.credentials()
        return [requests.get(url, auth=auth, timeout=5).status_code for _ in range(20)]

    first = pattern(7)
    assert first == pattern(7)
    assert 2 <= first.count(429) <= 12 and set(first) == {200, 429}


def test_call_counters(srv: JiraTestServer, jira: JIRA) -> None:
    srv.reset_counters()
    jira.create_issue(fields={**OPS_TASK, "summary": "count me"})  # POST + prefetch GET
    jira.issue("OPS-1")
    assert srv.calls == {
        "POST /rest/api/2/issue": 1,
        "GET /rest/api/2/issue/{issueIdOrKey}": 2,
    }
    assert srv.requests[0].body["fields"]["summary"] == "count me"
    assert srv.requests[0].user == srv.bot.account_id and srv.requests[0].status == 201
    srv.reset_counters()
    assert srv.total_calls == 0


# -- webhooks -------------------------------------------------------------------------------


def test_webhooks_over_http_are_signed() -> None:
    with WebhookSink() as sink, JiraTestServer("cloud") as srv:  # async delivery
        srv.subscribe(sink.url, secret="s3cret")
        srv.client().create_issue(fields={**OPS_TASK, "summary": "hooked"})
        (got,) = sink.wait_for(1)
        expected = hmac.new(b"s3cret", got.body, hashlib.sha256).hexdigest()
        assert got.headers["X-Hub-Signature"] == f"sha256={expected}"
        assert got.payload["webhookEvent"] == "jira:issue_created"
        assert got.payload["user"]["accountId"] == srv.bot.account_id
        assert got.payload["issue"]["fields"]["summary"] == "hooked"
        assert isinstance(got.payload["timestamp"], int)
        assert got.identifier and "X-Atlassian-Webhook-Retry" not in got.headers


def test_webhook_retries_keep_the_identifier() -> None:
    with (
        WebhookSink(statuses=[503, 500]) as sink,
        JiraTestServer("dc", webhook_mode="sync", webhook_retries=3) as srv,
    ):
        srv.subscribe(sink.url, secret="k")
        srv.seed_issue("x", emit=True)
        got = sink.wait_for(3)
        assert len({g.identifier for g in got}) == 1
        assert [g.headers.get("X-Atlassian-Webhook-Retry") for g in got] == [None, "1", "2"]
        assert all(g.signed_with("k") for g in got)


def test_user_edit_webhook_and_changelog(srv: JiraTestServer) -> None:
    rec = Recorder()
    srv.subscribe("http://receiver.invalid/hook", "k", transport=rec)
    issue = srv.seed_issue("x", assignee=user_field(srv, "alice"))
    srv.simulate_user_edit(issue.key, "bob", status="Done", resolution="Won't Do")
    srv.simulate_user_edit(issue.key, "bob", assignee="carol", duedate="2024-06-01")
    srv.simulate_user_edit(issue.key, "bob", delete=True)
    status, edit, deleted = rec.payloads()
    assert (status["webhookEvent"], edit["webhookEvent"], deleted["webhookEvent"]) == (
        "jira:issue_updated",
        "jira:issue_updated",
        "jira:issue_deleted",
    )
    assert [(i["field"], i["toString"]) for i in status["changelog"]["items"]] == [
        ("status", "Done"),
        ("resolution", "Won't Do"),
    ]
    assert status["issue"]["fields"]["resolution"]["name"] == "Won't Do"
    bob, carol, alice = srv.user("bob"), srv.user("carol"), srv.user("alice")
    if srv.mode == "cloud":
        assert status["user"]["accountId"] == bob.account_id
        expected = (alice.account_id, carol.account_id)
    else:
        assert status["user"]["name"] == bob.name
        expected = (alice.key, carol.key)
    assignee = next(i for i in edit["changelog"]["items"] if i["field"] == "assignee")
    assert (assignee["from"], assignee["to"]) == expected
    assert deleted["issue"]["key"] == issue.key
    for body, headers in rec.got:
        digest = hmac.new(b"k", body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Hub-Signature"], f"sha256={digest}")


def test_hold_flush_reorder_and_replay(cloud: JiraTestServer) -> None:
    rec = Recorder()
    cloud.webhooks.mode = "hold"
    cloud.subscribe("http://x.invalid", transport=rec)
    jira = cloud.client()
    issue = jira.create_issue(fields={**OPS_TASK, "summary": "x"})
    jira.add_comment(issue, "first")  # comment_created + jira:issue_updated (issue_commented)
    assert not rec.got and len(cloud.webhooks.held) == 3
    cloud.webhooks.flush("reverse")
    assert [p["webhookEvent"] for p in rec.payloads()] == [
        "jira:issue_updated",
        "comment_created",
        "jira:issue_created",
    ]
    created = cloud.webhooks.deliveries[0]
    cloud.webhooks.replay(created)
    body, headers = rec.got[-1]
    assert headers["X-Atlassian-Webhook-Identifier"] == created.identifier
    assert headers["X-Atlassian-Webhook-Retry"] == "1"
    assert body == rec.got[2][0]  # byte-identical, so the signature would match too


def test_offline_webhook_request_for_flask_tests() -> None:
    body, headers = webhook_request(
        "jira:issue_updated", key="OPS-7", by="bob", secret="k", status="In Progress"
    )
    payload = json.loads(body)
    assert payload["issue"]["key"] == "OPS-7"
    assert payload["changelog"]["items"][0]["toString"] == "In Progress"
    assert payload["user"]["displayName"] == "Bob Example"
    sig = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature"] == f"sha256={sig}"
    dc_body, dc_headers = webhook_request("jira:issue_created", mode="dc", identifier="abc")
    assert json.loads(dc_body)["user"]["name"] == "alice"
    assert dc_headers["X-Atlassian-Webhook-Identifier"] == "abc"
    assert "X-Hub-Signature" not in dc_headers
