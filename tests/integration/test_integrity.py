"""Integrity: partial updates keep what was not sent; concurrent status moves never
both win; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from app import create_app
from tests.conftest import WRITE_TOKEN, ApiClient, make_settings, runtime

INCIDENT: dict[str, Any] = {
    "title": "Checkout errors after config push",
    "severity": "SEV2",
    "services": ["checkout"],
    "started_at": "2026-03-01T10:00:00Z",
    "impact": {"customers": 1200, "revenue": 5300.5, "sla_minutes": 38, "data": "order ids"},
}


@pytest.fixture
def committed_app(database_url: str) -> Iterator[Flask]:
    """Its own app, so that requests on several threads each commit for real."""
    application = create_app(make_settings(database_url))
    yield application
    runtime(application).close()


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"revenue": 10.0}, {"customers": 1200, "revenue": 10.0, "sla_minutes": 38}),
        ({"customers": None}, {"customers": None, "revenue": 5300.5, "sla_minutes": 38}),
        ({}, {"customers": 1200, "revenue": 5300.5, "sla_minutes": 38}),
        ({"data": None, "sla_minutes": 5}, {"sla_minutes": 5, "data": None}),
    ],
)
def test_a_nested_patch_changes_only_the_members_sent(
    api: ApiClient, patch: dict[str, Any], expected: dict[str, Any]
) -> None:
    key = api.post("/api/v1/incidents", json=INCIDENT).json["key"]
    resp = api.patch(f"/api/v1/incidents/{key}", json={"impact": patch})
    assert resp.status_code == 200, resp.json
    impact = api.get(f"/api/v1/incidents/{key}").json["impact"]
    assert impact == {**INCIDENT["impact"], **expected}


def test_impact_null_clears_every_member(api: ApiClient) -> None:
    key = api.post("/api/v1/incidents", json=INCIDENT).json["key"]
    assert api.patch(f"/api/v1/incidents/{key}", json={"impact": None}).status_code == 200
    impact = api.get(f"/api/v1/incidents/{key}").json["impact"]
    assert impact == {"customers": None, "revenue": None, "sla_minutes": None, "data": None}


def _race(app: Flask, path: str, bodies: list[dict[str, Any]]) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    codes: list[int] = [0] * len(bodies)
    headers = {"Authorization": f"Bearer {WRITE_TOKEN}"}

    def move(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        codes[i] = client.patch(path, json=bodies[i], headers=headers).status_code

    threads = [threading.Thread(target=move, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


def test_two_conflicting_status_moves_at_once_one_wins_one_409(committed_app: Flask) -> None:
    api = ApiClient(committed_app.test_client())
    key = api.post("/api/v1/incidents", json=INCIDENT).json["key"]
    moves = [{"status": "done"}, {"status": "blocked", "status_reason": "waiting on vendor"}]
    for trial in range(8):
        action = api.post(
            f"/api/v1/incidents/{key}/actions",
            json={"title": f"Canary stage {trial}", "type": "prevent", "owner": "Maya Okafor"},
        ).json
        codes = _race(committed_app, f"/api/v1/actions/{action['key']}", moves)
        assert sorted(codes) == [200, 409], codes
        got = api.get(f"/api/v1/actions/{action['key']}").json
        moves_out_of_open = [h for h in got["history"] if h["from_status"] == "open"]
        assert len(moves_out_of_open) == 1, got["history"]
        winner = moves[codes.index(200)]["status"]
        assert got["status"] == winner
