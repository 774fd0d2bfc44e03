"""Assignees both ways: an unassign in Jira arrives, an owner Jira cannot name is never sent.

* A person unassigning the issue in Jira clears the action's owner (audited, naming
  them), also after the issue was assigned to someone outside the catalog; the
  ownership rules then judge the ownerless action as they would any other.
* An owner with no Jira account is not sent as a user: by default the Jira assignee is
  left as it is (`owner_without_jira_account: leave`); `unassign` clears it with `null`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from app.models import AuditEntry
from app.services.tracker_reconcile import reconcile

from .conftest import SyncEnv, build_env, complete_incident
from .seed import CONFIG_DIR

OUTSIDER = "Zed Contractor"  # not in the catalog: Hindsight knows no Jira id for them


def _action(env: SyncEnv, key: str) -> dict[str, Any]:
    return env.api.get(f"/api/v1/actions/{key}").json  # type: ignore[no-any-return]


def _outsider_action(env: SyncEnv, key: str) -> Any:
    """A new action of the incident owned by someone with no Jira account: the answer."""
    r = env.api.post(
        f"/api/v1/incidents/{key}/actions",
        json={
            "title": "Page the contractor",
            "type": "mitigate",
            "owner": OUTSIDER,
            "due_date": "2030-02-01",
            "priority": "P2",
        },
    )
    assert r.status_code == 201, r.json
    return r


def _assignee_puts(env: SyncEnv) -> list[Any]:
    return [
        q.body["fields"]["assignee"]
        for q in env.srv.requests
        if q.method == "PUT" and isinstance(q.body, dict) and "assignee" in q.body.get("fields", {})
    ]


@pytest.mark.parametrize("via", ["webhook", "reconcile"])
def test_an_unassign_in_jira_clears_the_owner_even_after_an_outsider(
    env: SyncEnv, via: str
) -> None:
    _, (a1, a2) = complete_incident(env.api, actions=2)
    env.settle()
    i1, i2 = (env.issue_by_label(f"hs-{a}").key for a in (a1, a2))
    env.srv.add_user("dora", "Dora Outside")
    if via == "reconcile":
        env.srv.webhooks.mode = "hold"
    env.srv.simulate_user_edit(i1, "priya", assignee="dora")
    if via == "reconcile":
        env.srv.webhooks.drop_held()
        reconcile(env.rt, full=True)
    env.settle()
    assert _action(env, a1)["owner"] == "Dora Outside", "Jira's assignee, outside the catalog"
    if via == "reconcile":
        env.srv.webhooks.mode = "hold"
    env.srv.simulate_user_edit(i1, "priya", assignee=None)
    env.srv.simulate_user_edit(i2, "priya", assignee=None)
    env.srv.reset_counters()
    if via == "reconcile":
        env.srv.webhooks.drop_held()
        reconcile(env.rt, full=True)
    env.settle()
    assert _action(env, a1)["owner"] is None, "unassigned after an outsider"
    assert _action(env, a2)["owner"] is None, "unassigned after a catalog person"
    assert not _assignee_puts(env), "nothing pushed back to Jira"
    with env.srv.state.lock:
        assert env.srv.state.issue(i1).values.get("assignee") is None
    with env.rt.db.sessions() as session:
        cleared = [
            e
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action == "action.sync_in")
            )
            if e.after and "owner" in e.after and e.after["owner"] is None
        ]
    assert {e.entity_key for e in cleared} == {a1, a2}
    assert all(e.actor.startswith("jira:") for e in cleared)
    assert reconcile(env.rt, full=True).applied == 0, "a second look changes nothing"


def test_an_owner_without_a_jira_account_leaves_the_assignee(env: SyncEnv) -> None:
    _, (a1,) = complete_incident(env.api, actions=1)
    env.settle()
    issue = env.issue_by_label(f"hs-{a1}")
    before = issue.values.get("assignee")
    assert before is not None
    env.srv.reset_counters()
    r = env.api.patch(f"/api/v1/actions/{a1}", json={"owner": OUTSIDER, "priority": "P0"})
    assert r.status_code == 200, r.json
    env.settle()
    assert not _assignee_puts(env), "never sent as a user, nor as a null user"
    assert env.outbox_counts().keys() <= {"done"}, "nothing dead-lettered"
    with env.srv.state.lock:
        assert env.srv.state.issue(issue.key).values.get("assignee") == before
    assert reconcile(env.rt, full=True).applied == 0
    assert _action(env, a1)["owner"] == OUTSIDER, "the Jira assignee is not read as a change"
    # A new action for them: created with no assignee, and the owner survives a reconcile.
    key = _action(env, a1)["incident_key"]
    r = _outsider_action(env, key)
    env.settle()
    assert env.issue_by_label(f"hs-{r.json['key']}").values.get("assignee") is None
    assert reconcile(env.rt, full=True).applied == 0
    assert _action(env, r.json["key"])["owner"] == OUTSIDER


def test_unassign_policy_clears_the_jira_assignee_with_null(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    mapping = yaml.safe_load((config / "jira.yaml").read_text())
    mapping["owner_without_jira_account"] = "unassign"
    (config / "jira.yaml").write_text(yaml.safe_dump(mapping))
    env = build_env(database_url, "cloud", request, config_dir=config)
    _, (a1,) = complete_incident(env.api, actions=1)
    env.settle()
    issue = env.issue_by_label(f"hs-{a1}")
    env.srv.reset_counters()
    assert env.api.patch(f"/api/v1/actions/{a1}", json={"owner": OUTSIDER}).status_code == 200
    env.settle()
    assert _assignee_puts(env) == [None], "JSON null, not {'accountId': null}"
    with env.srv.state.lock:
        assert env.srv.state.issue(issue.key).values.get("assignee") is None
    assert reconcile(env.rt, full=True).applied == 0
    assert _action(env, a1)["owner"] == OUTSIDER


def _user_bodies(env: SyncEnv) -> list[Any]:
    """Every assignee value Hindsight sent, in creates (single and bulk) and edits."""
    out = []
    for q in env.srv.requests:
        body = q.body if isinstance(q.body, dict) else {}
        candidates = [body.get("fields")] + [
            u.get("fields") for u in body.get("issueUpdates") or []
        ]
        for fields in candidates:
            if not isinstance(fields, dict):  # a search names its fields in a list
                continue
            if "assignee" in fields:
                out.append(fields["assignee"])
    return out


@pytest.mark.parametrize("policy", ["leave", "unassign"])
def test_no_jira_account_is_never_sent_as_a_null_account_id(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest, policy: str
) -> None:
    """Point 6 end to end against a Jira that refuses `{"accountId": null}` (as Cloud does):
    an action owner and a postmortem facilitator Hindsight cannot name in Jira, on update and
    on create, under both policies; nothing is refused, nothing dead-lettered."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    mapping = yaml.safe_load((config / "jira.yaml").read_text())
    mapping["owner_without_jira_account"] = policy
    (config / "jira.yaml").write_text(yaml.safe_dump(mapping))
    env = build_env(database_url, "cloud", request, config_dir=config)
    key, (a1,) = complete_incident(env.api, actions=1)
    env.settle()
    act, pm = env.issue_by_label(f"hs-{a1}").key, env.issue_by_label(f"hs-{key}-pm").key
    with env.srv.state.lock:
        before = {k: env.srv.state.issue(k).values.get("assignee") for k in (act, pm)}
    assert all(before.values()), before
    env.srv.reset_counters()
    assert env.api.patch(f"/api/v1/actions/{a1}", json={"owner": OUTSIDER}).status_code == 200
    r = env.api.patch(f"/api/v1/incidents/{key}/postmortem", json={"facilitator": OUTSIDER})
    assert r.status_code == 200, r.json
    r = _outsider_action(env, key)
    env.settle()

    sent = _user_bodies(env)
    assert {"accountId": None} not in sent, sent
    assert sent == ([None, None] if policy == "unassign" else []), sent
    assert not [q for q in env.srv.requests if q.status >= 400], "Jira refused nothing"
    assert env.outbox_counts().keys() <= {"done"}, "nothing dead-lettered"
    with env.srv.state.lock:
        after = {k: env.srv.state.issue(k).values.get("assignee") for k in (act, pm)}
    assert after == (dict.fromkeys(before) if policy == "unassign" else before)
    assert env.issue_by_label(f"hs-{r.json['key']}").values.get("assignee") is None
    assert reconcile(env.rt, full=True).applied == 0
    assert _action(env, a1)["owner"] == OUTSIDER
    doc = env.api.get(f"/api/v1/incidents/{key}/postmortem?format=json").json
    assert doc["postmortem"]["facilitator"] == OUTSIDER
