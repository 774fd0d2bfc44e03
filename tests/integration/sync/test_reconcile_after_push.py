"""Issue 12's done-when, through each workflow of the Jira test server, both flavours:
a reconcile after any push changes nothing in Hindsight (Hindsight's own transitions and
resolutions are never read back as decisions), and a person's Won't Do in Jira still
arrives as `wont_do`."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.tracker_reconcile import reconcile

from .conftest import SyncEnv, build_env, complete_incident

# the transitions a person takes from the initial status to Done / Won't Do, per workflow
WONT_DO = {
    "simplified": [("Done", "Won't Do")],
    "wontdo-first": [("Won't Do", None)],
    "classic": [("Close Issue", "Won't Do")],
}
CHECK = {"checked": "Game day: the alert fired", "result": "pass", "evidence": "https://x/1"}


def _statuses(env: SyncEnv, keys: list[str]) -> dict[str, str]:
    return {k: env.api.get(f"/api/v1/actions/{k}").json["status"] for k in keys}


def _set(env: SyncEnv, key: str, status: str) -> None:
    body: dict[str, Any] = {"status": status}
    if status in ("blocked", "wont_do", "open"):
        body["status_reason"] = "decided in the review"
    r = env.api.patch(f"/api/v1/actions/{key}", json=body)
    assert r.status_code == 200, r.json


def _walk(env: SyncEnv, issue_key: str, path: list[tuple[str, str | None]]) -> None:
    srv = env.srv
    for name, resolution in path:
        with srv.state.lock:
            issue = srv.state.issue(issue_key)
            t = next(t for t in srv.state.transitions(issue) if t.name == name)
            to = srv.state.status(t.to).name
        srv.simulate_user_edit(issue_key, "priya", status=to, resolution=resolution, via=name)


@pytest.mark.parametrize("mode", ["cloud", "dc"])
@pytest.mark.parametrize("workflow", sorted(WONT_DO))
def test_reconcile_after_any_push_changes_nothing_and_wont_do_arrives(
    database_url: str, request: pytest.FixtureRequest, mode: str, workflow: str
) -> None:
    env = build_env(database_url, mode, request, jira_kwargs={"workflows": {"Task": workflow}})
    _, acts = complete_incident(env.api, actions=7)
    env.settle()
    plan = ["in_progress", "blocked", "done", "verified", "wont_do", "done"]
    for key, status in zip(acts, plan, strict=False):
        if status == "verified":
            _set(env, key, "done")
            r = env.api.post(f"/api/v1/actions/{key}/validations", json=CHECK)
            assert r.status_code in (200, 201), r.json
        else:
            _set(env, key, status)
        env.settle()
        assert reconcile(env.rt, full=True).applied == 0, f"after pushing {key} {status}"
    _set(env, acts[5], "in_progress")  # and back: done -> in_progress
    env.settle()
    assert reconcile(env.rt, full=True).applied == 0
    expected = dict(zip(acts, [*plan[:5], "in_progress", "open"], strict=True))
    assert _statuses(env, acts) == expected
    assert env.outbox_counts().keys() <= {"done"}
    resolutions = {k: env.status_of(env.issue_by_label(f"hs-{k}"))[1] for k in acts}
    assert resolutions == {
        acts[0]: None,
        acts[1]: None,
        acts[2]: "Done",
        acts[3]: "Done",
        acts[4]: "Won't Do",
        acts[5]: None,
        acts[6]: None,
    }, workflow

    # A person decides Won't Do in Jira; the webhook is lost; the reconcile brings it.
    env.srv.webhooks.mode = "hold"
    _walk(env, env.issue_by_label(f"hs-{acts[6]}").key, WONT_DO[workflow])
    env.srv.webhooks.drop_held()
    assert reconcile(env.rt, full=True).applied == 1
    assert _statuses(env, [acts[6]]) == {acts[6]: "wont_do"}
    env.srv.webhooks.mode = "sync"
    env.settle()
    assert reconcile(env.rt, full=True).applied == 0
    assert _statuses(env, acts) == {**expected, acts[6]: "wont_do"}
    assert not env.srv.server_errors
