"""Reconcile: one JQL window over recently updated issues catches what webhooks missed."""

from __future__ import annotations

import pytest

from app.cli import main
from app.services.tracker_reconcile import reconcile

from .conftest import SyncEnv, cli_env
from .seed import seed_postmortems


def test_reconcile_applies_what_webhooks_missed(env: SyncEnv) -> None:
    seed_postmortems(env.rt, 2, 55)  # 110 actions, mirrored on commit
    env.settle()
    env.srv.webhooks.mode = "hold"
    changed = [env.issue_by_label(f"hs-ACT-{n}").key for n in range(1, 106)]
    for key in changed:
        env.srv.simulate_user_edit(key, "priya", status="In Progress")
    env.srv.simulate_user_edit(changed[0], "priya", priority="Lowest")
    env.srv.webhooks.drop_held()  # Jira gave up delivering: nothing arrived
    env.srv.reset_counters()

    report = reconcile(env.rt)
    assert report.applied == 105
    assert report.pages == 2, "114 recently updated issues: two pages of 100"
    search = "POST /rest/api/3/search/jql" if env.mode == "cloud" else "POST /rest/api/2/search"
    assert dict(env.srv.calls) == {search: 2}, "paged search only; nothing pushed back"
    if env.mode == "cloud":
        assert "nextPageToken" in env.srv.requests[1].body
    else:
        assert env.srv.requests[1].body["startAt"] == 100
    statuses = {env.api.get(f"/api/v1/actions/ACT-{n}").json["status"] for n in range(1, 106)}
    assert statuses == {"in_progress"}
    assert env.api.get("/api/v1/actions/ACT-106").json["status"] == "open"
    assert env.api.get("/api/v1/actions/ACT-1").json["priority"] == "P3"

    again = reconcile(env.rt)
    assert again.applied == 0, "already applied: a second pass changes nothing"


def test_sync_reconcile_command(
    cloud_env: SyncEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = cloud_env
    seed_postmortems(env.rt, 1, 3)
    env.settle()
    env.srv.webhooks.mode = "hold"
    env.srv.simulate_user_edit(env.issue_by_label("hs-ACT-2").key, "priya", duedate="2031-07-01")
    env.srv.webhooks.drop_held()
    cli_env(monkeypatch, env.rt.settings)
    assert main(["sync", "reconcile"]) == 0
    assert "applied changes to 1 action(s)" in capsys.readouterr().out
    assert env.api.get("/api/v1/actions/ACT-2").json["due_date"] == "2031-07-01"
