"""Reports are cached with their computed_at; refresh=true recomputes as a `reports` job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from rq import Queue

from app.factory import create_app
from app.models import Action, Incident, ReportCache
from app.runtime import Runtime
from app.services.report_cache import get_report, params_hash, redispatch_refreshes
from app.worker import run_worker
from tests.conftest import ApiClient, make_settings, runtime, settle

from .report_fixtures import NOW, load_actions

URL = "/api/v1/reports/completion?service=checkout"


def add_action(rt: Runtime) -> None:
    """One more open action on INC-1 (checkout), written behind the cache's back."""
    with rt.db.sessions() as session:
        incident = session.query(Incident).filter_by(key="INC-1").one()
        session.add(Action(key="ACT-99", incident=incident, title="x", type="prevent"))
        session.commit()


def totals(res: Any) -> int:
    total: int = res.get_json()["totals"]["total"]
    return total


def refresh_round(api: ApiClient, rt: Runtime, run_jobs: Any) -> None:
    first = api.get(URL)
    assert first.status_code == 200 and totals(first) == 4
    assert int(first.headers["Age"]) >= 0 and first.headers["Last-Modified"].endswith("GMT")
    add_action(rt)
    again = api.get(URL)
    assert totals(again) == 4  # the cached body, said to be as old as it is
    assert again.get_json()["computed_at"] == first.get_json()["computed_at"]
    asked = api.get(URL + "&format=md&refresh=true")
    assert asked.status_code == 202
    assert asked.headers["Location"] == "/api/v1/reports/completion?service=checkout&format=md"
    assert "| all | all | 4 |" in asked.get_data(as_text=True)  # the cached value meanwhile
    run_jobs()
    fresh = api.get(URL)
    assert fresh.status_code == 200 and totals(fresh) == 5
    assert fresh.get_json()["computed_at"] > first.get_json()["computed_at"]


def test_embedded_refresh_runs_on_the_background_queue(api: ApiClient, rt: Runtime) -> None:
    load_actions(rt)
    refresh_round(api, rt, lambda: None)  # the client waits for background jobs after each call


def test_a_stale_report_is_answered_and_recomputed(app: Flask, rt: Runtime) -> None:
    load_actions(rt)
    first = get_report(rt, "completion", {}, now=NOW)
    assert first.computed_at == NOW and not first.pending
    add_action(rt)
    young = get_report(rt, "completion", {}, now=NOW + timedelta(seconds=60))
    assert young.report.totals.total == 8 and not young.pending
    assert young.age_seconds(NOW + timedelta(seconds=60)) == 60
    later = NOW + timedelta(seconds=rt.settings.report_max_age_seconds + 1)
    stale = get_report(rt, "completion", {}, now=later)
    assert stale.report.totals.total == 8 and stale.pending
    settle(app)
    fresh = get_report(rt, "completion", {}, now=later)
    assert fresh.report.totals.total == 9 and fresh.computed_at > NOW and not fresh.pending


def test_refresh_bad_value_names_the_field(api: ApiClient) -> None:
    res = api.get("/api/v1/reports/learning?refresh=maybe")
    assert res.status_code == 422 and res.get_json()["errors"][0]["loc"] == ["query", "refresh"]
    spec = api.get("/openapi.json").get_json()["paths"]["/api/v1/reports/recurrence"]["get"]
    assert "202" in spec["responses"] and "refresh" in str(spec["parameters"])


@pytest.mark.redis
def test_with_redis_the_worker_recomputes_on_the_reports_queue(
    committed_database_url: str, redis_url: str
) -> None:
    settings = make_settings(committed_database_url, redis_url=redis_url)
    application = create_app(settings)
    rt = runtime(application)
    try:
        load_actions(rt)
        conn = Redis.from_url(redis_url)

        def run_jobs() -> None:
            assert Queue("reports", connection=conn).count == 1
            assert run_worker(settings, ["reports"], burst=True) == 0

        refresh_round(ApiClient(application.test_client()), rt, run_jobs)
        conn.close()
    finally:
        rt.close()


def test_a_refresh_whose_job_was_lost_is_sent_again_by_the_sweep(app: Flask, rt: Runtime) -> None:
    load_actions(rt)
    get_report(rt, "completion", {}, now=NOW)
    add_action(rt)
    with rt.db.sessions() as session:  # a refresh was asked for, and its job lost
        row = session.get(ReportCache, ("completion", params_hash({})))
        assert row is not None
        row.refresh_requested_at = NOW
        session.commit()
    assert redispatch_refreshes(rt, older_than=NOW - timedelta(seconds=1)) == 0
    assert redispatch_refreshes(rt, older_than=NOW) == 1
    settle(app)
    fresh = get_report(rt, "completion", {}, now=NOW + timedelta(seconds=1))
    assert fresh.report.totals.total == 9 and not fresh.pending
    assert redispatch_refreshes(rt, older_than=NOW + timedelta(days=365)) == 0


def test_after_a_write_the_cached_body_is_answered_once_and_recomputed(
    api: ApiClient, rt: Runtime
) -> None:
    load_actions(rt)
    assert totals(api.get(URL)) == 4
    created = api.post(
        "/api/v1/incidents/INC-1/actions", json={"title": "Add a canary stage", "type": "detect"}
    )
    assert created.status_code == 201, created.get_json()
    # The write is audited: the next read answers the body it has and queues a recompute,
    # which the client waits for; the read after it is fresh.
    assert totals(api.get(URL)) == 4
    assert totals(api.get(URL)) == 5
