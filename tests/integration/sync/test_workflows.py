"""Transitions by target status *and* resolution, through the workflows that broke it.

Three workflows of the Jira test server, each bound to Task:

* "simplified": global To Do / In Progress / Done, Done's screen takes the resolution;
* "wontdo-first": from To Do the first done-category transition is "Won't Do" (no
  screen, a post-function sets the resolution); Done only from In Progress, no screen;
* "classic": Data Center's default workflow (Open, In Progress, Resolved, Closed,
  Reopened), Resolve and Close take the resolution.

From every starting status (done ones with either resolution), Hindsight's done,
verified and wont_do must land with the right status category and resolution. The
walk under test is the pusher's own (`app.sync.updates._move`), over the real `jira`
client against the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from app.sync import updates
from app.sync.jira import JiraTracker
from app.sync.mapping import JiraMapping
from app.sync.tracker import StatusTarget
from app.sync.workflow import NoPath
from tests.jira_server import JiraTestServer

# (status name, resolution, transition names that reach it from the initial status)
STARTS: dict[str, list[tuple[str, str | None, list[tuple[str, str | None]]]]] = {
    "simplified": [
        ("To Do", None, []),
        ("In Progress", None, [("In Progress", None)]),
        ("Done", "Done", [("Done", "Done")]),
        ("Done", "Won't Do", [("Done", "Won't Do")]),
    ],
    "wontdo-first": [
        ("To Do", None, []),
        ("In Progress", None, [("In Progress", None)]),
        ("Done", "Done", [("In Progress", None), ("Done", None)]),
        ("Done", "Won't Do", [("Won't Do", None)]),
    ],
    "classic": [
        ("Open", None, []),
        ("In Progress", None, [("Start Progress", None)]),
        ("Resolved", "Done", [("Resolve Issue", "Done")]),
        ("Closed", "Won't Do", [("Close Issue", "Won't Do")]),
        ("Reopened", None, [("Resolve Issue", "Done"), ("Reopen Issue", None)]),
    ],
}
MAPPING = JiraMapping()
TARGETS = {s: MAPPING.status_target("action", s) for s in ("done", "verified", "wont_do")}


@dataclass
class Round:
    """What `_move` needs of a push round: the tracker, the mapping, a call wrapper."""

    tracker: JiraTracker
    offered: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def ctx(self) -> SimpleNamespace:
        return SimpleNamespace(tracker=self.tracker, mapping=MAPPING)

    def call(self, fn: Any, items: Any) -> Any:
        return fn()


def _reach(srv: JiraTestServer, key: str, path: list[tuple[str, str | None]]) -> None:
    for name, resolution in path:
        with srv.state.lock:
            issue = srv.state.issue(key)
            t = next(t for t in srv.state.transitions(issue) if t.name == name)
            to = srv.state.status(t.to).name
        srv.simulate_user_edit(key, "alice", status=to, resolution=resolution, via=name)


def _where(srv: JiraTestServer, key: str) -> tuple[str, str | None]:
    with srv.state.lock:
        issue = srv.state.issue(key)
        status = srv.state.status(issue.status_id)
        res = srv.state.resolution(issue.resolution_id).name if issue.resolution_id else None
    return status.category, res


@pytest.mark.parametrize("mode", ["cloud", "dc"])
@pytest.mark.parametrize("workflow", sorted(STARTS))
def test_done_verified_and_wont_do_land_from_every_status(mode: str, workflow: str) -> None:
    with JiraTestServer(mode, workflows={"Task": workflow}) as srv:  # type: ignore[arg-type]
        user, token = srv.credentials()
        tracker = JiraTracker(srv.url, "OPS", user=user, token=token, timeout=5)
        try:
            for status, resolution, path in STARTS[workflow]:
                for hs_status, target in TARGETS.items():
                    key = srv.seed_issue(f"{hs_status} from {status}/{resolution}").key
                    _reach(srv, key, path)
                    assert _where(srv, key)[1] == resolution
                    item = SimpleNamespace(issue_type="Task", fresh=False)
                    updates._move(Round(tracker), item, key, target)  # type: ignore[arg-type]
                    assert _where(srv, key) == (target.category, target.resolution), (
                        f"{workflow}: {hs_status} from {status} ({resolution})"
                    )
            assert not srv.server_errors
        finally:
            tracker.close()


def test_fresh_issues_share_what_each_status_offers() -> None:
    """Ten new issues walked To Do -> In Progress -> Done: the offered transitions are
    asked once per status, not per issue."""
    with JiraTestServer("cloud", workflows={"Task": "wontdo-first"}) as srv:
        user, token = srv.credentials()
        tracker = JiraTracker(srv.url, "OPS", user=user, token=token, timeout=5)
        rnd = Round(tracker)
        keys = [srv.seed_issue(f"fresh {n}").key for n in range(10)]
        srv.reset_counters()
        for key in keys:
            item = SimpleNamespace(issue_type="Task", fresh=True)
            updates._move(rnd, item, key, TARGETS["done"])  # type: ignore[arg-type]
            assert _where(srv, key) == ("done", "Done")
        tracker.close()
        assert srv.calls["GET /rest/api/2/issue/{issueIdOrKey}/transitions"] == 2
        assert srv.calls["POST /rest/api/2/issue/{issueIdOrKey}/transitions"] == 20


def test_no_path_is_a_clear_refusal() -> None:
    """A status the workflow cannot reach: a dead-letter reason, not a guess."""
    with JiraTestServer("cloud") as srv:
        user, token = srv.credentials()
        tracker = JiraTracker(srv.url, "OPS", user=user, token=token, timeout=5)
        key = srv.seed_issue("nowhere").key
        item = SimpleNamespace(issue_type="Task", fresh=False)
        with pytest.raises(NoPath) as err:
            updates._move(Round(tracker), item, key, StatusTarget("done", "Fixed"))  # type: ignore[arg-type]
        tracker.close()
    assert "resolution Fixed" in str(err.value)
    assert "offered here" in str(err.value)
