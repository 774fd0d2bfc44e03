"""Links sent in a create payload are checked afterwards; the missing ones are added once."""

from __future__ import annotations

import pytest

from app.services.tracker_reconcile import reconcile

from .conftest import SyncEnv, build_env
from .seed import seed_postmortems
from .test_outbound import _links


@pytest.mark.parametrize("mode", ["cloud", "dc"])
def test_a_site_that_drops_links_on_create_gets_them_added(
    database_url: str, request: pytest.FixtureRequest, mode: str
) -> None:
    env: SyncEnv = build_env(database_url, mode, request)
    env.srv.state.drop_links_on_create = True
    seed_postmortems(env.rt, 2, 12)
    env.settle()
    for n in (1, 2):
        incident = env.issue_by_label(f"hs-INC-{n}")
        postmortem = env.issue_by_label(f"hs-INC-{n}-pm")
        assert incident.key in _links(env, postmortem), "the postmortem's link was added"
        with env.srv.state.lock:
            assert len(env.srv.state.links_of(postmortem)) == 1 + 12, "its incident, its actions"
    actions = [
        i
        for i in env.issues().values()
        if any(lb.startswith("hs-ACT-") for lb in i.values.get("labels") or [])
    ]
    assert len(actions) == 24
    with env.srv.state.lock:
        per_pair = [len(env.srv.state.links_of(i)) for i in actions]
    assert per_pair == [1] * 24, "one link each: added once, never twice"
    assert all(len(_links(env, i)) == 1 for i in actions)
    added = [q for q in env.srv.requests if q.route.endswith("/issueLink")]
    assert len(added) == 2 + 24
    assert env.outbox_counts().keys() <= {"done"}
    env.srv.reset_counters()
    assert reconcile(env.rt).applied == 0
    env.settle()
    assert not [q for q in env.srv.requests if q.route.endswith("/issueLink")]
    assert not env.srv.server_errors


def test_links_kept_by_jira_cost_one_search_per_phase(cloud_env: SyncEnv) -> None:
    """Where the create keeps its links, checking them is the phase's one label search
    (no per-issue read, no link call)."""
    env = cloud_env
    env.srv.reset_counters()
    seed_postmortems(env.rt, 1, 30)
    env.settle()
    assert not [q for q in env.srv.requests if q.route.endswith("/issueLink")]
    reads = env.srv.calls["GET /rest/api/3/issue/{issueIdOrKey}"]
    assert reads == 0, dict(env.srv.calls)
    with env.srv.state.lock:
        assert all(len(env.srv.state.links_of(i)) >= 1 for i in env.issues().values())
