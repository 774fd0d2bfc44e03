"""Riding out a Jira outage and a lagging search index, on a clock the test walks (issue 12).

Hindsight's runtime and the Jira test server share one `ManualClock`: back-off,
the dead-letter horizon, the breaker's cool-down, the settle window after a
lost create and Jira's search lag all read it, so an hour of outage or a 30 s
lag takes no real waiting. Drains run in the test's thread (the in-process
queue is paused), each one a real push over a socket to the test server.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import create_app
from app.models import Action, AuditEntry, OutboxItem
from app.queue import BackgroundQueue
from app.runtime import Runtime
from app.schemas.actions import ActionUpdate
from app.services.actions import update_action
from app.services.tracker_reconcile import reconcile
from app.services.tracker_sync import drain
from app.sync import outbox
from app.sync.models import TrackerLink
from app.sync.push import DrainReport
from tests.conftest import runtime
from tests.jira_server import JiraTestServer, ManualClock

from .conftest import jira_settings, start_jira
from .seed import seed_postmortems
from .test_faults import assert_mirrored_exactly

HOUR = 3600.0


def setup(
    database_url: str,
    request: pytest.FixtureRequest,
    *,
    lag: float = 0.0,
    jira_kwargs: dict[str, Any] | None = None,
    **overrides: Any,
) -> tuple[JiraTestServer, Flask, Runtime, ManualClock]:
    clock = ManualClock(datetime.now(UTC))
    srv = start_jira(
        "cloud", webhook_mode="hold", clock=clock, search_lag_seconds=lag, **(jira_kwargs or {})
    )
    request.addfinalizer(srv.stop)
    values: dict[str, Any] = {
        "sync_inline_retry_seconds": 0,  # never sleep in a drain: the test moves the clock
        "sync_backoff_base_seconds": 1.0,
    }
    app = create_app(jira_settings(database_url, srv, **(values | overrides)))
    rt = runtime(app)
    request.addfinalizer(rt.close)
    rt.clock = clock
    assert isinstance(rt.queue, BackgroundQueue)
    rt.queue.pause()  # the test drains; no job thread races it with the real clock
    return srv, app, rt, clock


def push(rt: Runtime, clock: ManualClock) -> DrainReport:
    """One drain. Rows are written with the real time as their due time, so the walked
    clock first catches up with it if it is behind (it only ever moves forward)."""
    clock.set(max(clock(), datetime.now(UTC)))
    return drain(rt)


def open_rows(rt: Runtime) -> int:
    with rt.db.sessions() as session:
        return (
            session.scalar(
                select(func.count(OutboxItem.id)).where(
                    OutboxItem.status.in_([outbox.PENDING, outbox.PROCESSING])
                )
            )
            or 0
        )


def dead_rows(rt: Runtime) -> int:
    with rt.db.sessions() as session:
        return (
            session.scalar(
                select(func.count(OutboxItem.id)).where(OutboxItem.status == outbox.DEAD)
            )
            or 0
        )


def drain_to_the_end(rt: Runtime, clock: ManualClock, max_stalls: int = 20) -> int:
    """Drain, then move the clock to the next row's due time, until nothing is open.

    Bounded by progress, not by time: it fails only after `max_stalls` drains in a row
    that left as many rows open as before. Returns the drains it took."""
    drains, stalls, before = 0, 0, open_rows(rt)
    while before:
        push(rt, clock)
        drains += 1
        after = open_rows(rt)
        stalls = 0 if after < before else stalls + 1
        assert stalls < max_stalls, f"{after} rows open, no progress in {stalls} drains"
        with rt.db.sessions() as session:
            wait = outbox.seconds_to_next_due(session, clock())
        clock.advance(max(1.0, wait or 0.0))
        before = after
    return drains


def labels_on_jira(srv: JiraTestServer) -> Counter[str]:
    with srv.state.lock:
        return Counter(
            lb
            for i in srv.state.issues_by_key.values()
            for lb in i.values.get("labels", [])
            if lb.startswith("hs-")
        )


def test_an_hour_of_503s_dead_letters_nothing_and_the_breaker_bounds_the_calls(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    cooldown, threshold = 120.0, 3
    srv, app, rt, clock = setup(
        database_url,
        request,
        sync_breaker_failures=threshold,
        sync_breaker_cooldown_seconds=cooldown,
    )
    seed_postmortems(rt, 1, 3)
    drain_to_the_end(rt, clock)  # Jira is up: the site is known, 5 issues exist
    client = app.test_client()
    assert client.get("/healthz").json["checks"]["tracker"]["breaker"] == "closed"

    outage = srv.faults.add("503", times=None)  # every request, for the whole hour
    seed_postmortems(rt, 4, 10, start=1)  # 48 new entities written during the outage
    with rt.db.sessions() as session:
        first = list(session.scalars(select(Action.key).order_by(Action.id).limit(3)))
    for key in first:  # and updates to issues that exist
        update_action(rt, key, ActionUpdate(status="in_progress", priority="P0"), "test")
    srv.reset_counters()
    opened = False
    elapsed = 0.0
    while elapsed < HOUR:
        push(rt, clock)
        health = client.get("/healthz")
        tracker = health.json["checks"]["tracker"]
        if tracker["breaker"] != "closed":
            opened = True
            assert health.status_code == 200, "Hindsight itself is up: still takes writes"
            assert health.json["status"] == "degraded" and tracker["reachable"] is False
            assert tracker["outbox_waiting"] >= 48 and tracker["outbox_dead"] == 0
        clock.advance(10)
        elapsed += 10
    assert opened
    metrics = client.get("/metrics").data.decode()
    assert "hindsight_tracker_reachable 0.0" in metrics
    assert 'hindsight_tracker_breaker{state="open"} 1.0' in metrics
    calls = srv.total_calls
    print(f"{calls} Jira calls in an hour of 503s (breaker {threshold} / {cooldown:.0f} s)")
    # The failures that open the breaker, then one probe per cool-down, and nothing else.
    assert calls <= threshold + HOUR / cooldown + 2, dict(srv.calls)
    assert calls >= HOUR / cooldown - 2, "the breaker probes Jira every cool-down"
    assert dead_rows(rt) == 0, "an hour is well inside the 24 h horizon"

    srv.faults.remove(outage)
    drain_to_the_end(rt, clock)
    assert_mirrored_exactly(rt, srv)
    assert client.get("/healthz").json["checks"]["tracker"]["breaker"] == "closed"
    assert "hindsight_tracker_reachable 1.0" in client.get("/metrics").data.decode()


def test_a_failure_longer_than_the_horizon_dead_letters(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    srv, _, rt, clock = setup(database_url, request, sync_dead_letter_horizon_seconds=HOUR / 2)
    srv.faults.add("503", times=None)
    seed_postmortems(rt, 1, 2)
    for _ in range(int(HOUR / 60) + 1):
        push(rt, clock)
        clock.advance(60)
    assert open_rows(rt) == 0 and dead_rows(rt) == 4, "one entry per entity, none lost"
    with rt.db.sessions() as session:
        errors = set(
            session.scalars(select(OutboxItem.last_error).where(OutboxItem.status == "dead"))
        )
    assert all("still failing after" in e or "tracker down" in e for e in errors), errors


def test_a_permanent_400_still_dead_letters_at_once(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    srv, app, rt, clock = setup(database_url, request)
    seed_postmortems(rt, 1, 2)
    drain_to_the_end(rt, clock)
    with rt.db.sessions() as session:
        key = session.scalars(select(Action.key).order_by(Action.id)).first()
    assert key
    srv.faults.add("400", method="PUT", path="/rest/api/3/issue/*")
    update_action(rt, key, ActionUpdate(priority="P2"), "test")  # it was P0
    report = push(rt, clock)
    assert report.dead == 1 and open_rows(rt) == 0 and dead_rows(rt) == 1
    with rt.db.sessions() as session:
        row = session.scalars(select(OutboxItem).where(OutboxItem.status == "dead")).one()
        assert row.attempts == 0 and "HTTP 400" in (row.last_error or "")
    tracker = app.test_client().get("/healthz").json["checks"]["tracker"]
    assert tracker["breaker"] == "closed", "a 400 is Jira answering"
    assert tracker["outbox_dead"] == 1


def test_lost_creates_under_a_30s_search_lag_over_500_actions_leave_no_duplicates(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    srv, _, rt, clock = setup(database_url, request, lag=30.0, sync_create_settle_seconds=45.0)
    srv.faults.add("lost_response", method="POST", path="/rest/api/3/issue/bulk", times=4)
    srv.faults.add(
        "lost_response", method="POST", path="/rest/api/3/issue", times=2, close_connection=True
    )
    storm = srv.faults.storm(0.05, "503", retry_after=None, seed=7)
    seed_postmortems(rt, 50, 10)  # 600 entities
    drain_to_the_end(rt, clock, max_stalls=40)
    assert srv.faults.fired["lost_response"] >= 4, srv.faults.fired
    duplicates = {lb: n for lb, n in labels_on_jira(srv).items() if n > 1}
    assert not duplicates, f"created twice: {duplicates}"
    srv.faults.remove(storm)  # the reconcile is not what this test is about
    clock.advance(60)
    report = reconcile(rt)
    assert report.duplicates == 0 and report.applied == 0, report
    assert report.seen == 600, "every issue is searchable again"
    assert_mirrored_exactly(rt, srv)
    assert not srv.server_errors, srv.server_errors


def test_reconcile_closes_duplicates_a_too_short_window_let_through(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    """A settle window (5 s) shorter than the lag (30 s): the push creates the actions a
    second time; the next reconcile keeps the oldest issue of each and closes the rest."""
    srv, _, rt, clock = setup(database_url, request, lag=30.0, sync_create_settle_seconds=5.0)
    srv.faults.add("lost_response", method="POST", path="/rest/api/3/issue/bulk", times=1)
    seed_postmortems(rt, 1, 6)
    drain_to_the_end(rt, clock)
    twice = {lb for lb, n in labels_on_jira(srv).items() if n == 2}
    assert len(twice) == 6, f"the lost bulk create was made again: {labels_on_jira(srv)}"
    with srv.state.lock:
        first_ids = {
            lb: min(i.id for i in srv.state.issues_by_key.values() if lb in i.values["labels"])
            for lb in twice
        }
        oldest = {lb: srv.state.issues_by_id[n].key for lb, n in first_ids.items()}
    clock.advance(40)  # the index has caught up
    report = reconcile(rt)
    assert report.duplicates == 6 and report.applied == 0, report
    with rt.db.sessions() as session:
        links = {link.label: link for link in session.scalars(select(TrackerLink))}
        for lb in twice:
            assert links[lb].issue_key == oldest[lb], "repointed to the oldest issue"
        for action in session.scalars(select(Action)):
            assert action.status == "open", "closing a duplicate is not a person's Won't Do"
            assert action.tracker_key == oldest[f"hs-{action.key}"]
        audited = session.scalar(
            select(func.count(AuditEntry.seq)).where(
                AuditEntry.action == "action.tracker_duplicates_closed"
            )
        )
    assert audited == 6
    with srv.state.lock:
        for lb in twice:
            dups = [
                i
                for i in srv.state.issues_by_key.values()
                if lb in i.values["labels"] and i.key != oldest[lb]
            ]
            (dup,) = dups
            assert srv.state.resolution(dup.resolution_id or "").name == "Duplicate"
            assert srv.state.status(dup.status_id).category == "done"
            assert any(oldest[lb] in c.body for c in dup.comments)
            kept_id = first_ids[lb]
            assert any(kept_id in (lk.inward_id, lk.outward_id) for lk in srv.state.links_of(dup))
    drain_to_the_end(rt, clock)  # the repointed entities push their state to the kept issue
    clock.advance(60)
    again = reconcile(rt)
    assert again.duplicates == 0 and again.applied == 0, again
