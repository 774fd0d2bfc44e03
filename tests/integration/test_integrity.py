"""Integrity: partial updates keep what was not sent; concurrent status moves never
both win; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
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
    assert impact == {"currency": None, **INCIDENT["impact"], **expected}


def test_impact_null_clears_every_member(api: ApiClient) -> None:
    key = api.post("/api/v1/incidents", json=INCIDENT).json["key"]
    assert api.patch(f"/api/v1/incidents/{key}", json={"impact": None}).status_code == 200
    impact = api.get(f"/api/v1/incidents/{key}").json["impact"]
    assert impact == {
        "customers": None,
        "revenue": None,
        "currency": None,
        "sla_minutes": None,
        "data": None,
    }


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


SECRETS = {
    "pagerduty_webhook_secret": "pd-secret-0123456789",
    "generic_webhook_secret": "generic-secret-012345",
    "opsgenie_webhook_token": "og-token-0123456789",
    "alertmanager_webhook_token": "am-token-0123456789",
    "jira_webhook_secret": "jira-secret-0123456789",
}
WEBHOOK_HEADERS = {
    "pagerduty": "X-PagerDuty-Signature",
    "generic": "X-Hindsight-Signature",
    "opsgenie": "Authorization",
    "alertmanager": "Authorization",
    "jira": "X-Hub-Signature",
}


@pytest.fixture
def hooks(database_url: str) -> Iterator[Flask]:
    application = create_app(make_settings(database_url, **SECRETS))
    yield application
    runtime(application).close()


@pytest.mark.parametrize("source", sorted(WEBHOOK_HEADERS))
def test_a_non_ascii_signature_is_a_401_not_a_500(hooks: Flask, source: str) -> None:
    header = WEBHOOK_HEADERS[source]
    value = "Bearer é€" if header == "Authorization" else "sha256=é€,v1=é"
    resp = hooks.test_client().post(f"/webhooks/{source}", data=b"{}", headers={header: value})
    assert resp.status_code == 401, resp.json
    assert resp.headers["WWW-Authenticate"]


DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (DEEP, 400),
        ('{"title": "x", "severity": "SEV1", "impact": {"customers": ' + "9" * 5000 + "}}", 400),
        ('{"title": "x", "severity": "SEV1", "impact": {"revenue": NaN}}', 400),
        ('{"title": "x", "severity": "SEV1", "impact": {"revenue": Infinity}}', 400),
        ('{"title": "x", "severity": "SEV1", "started_at": "9999-12-31T23:59:59-14:00"}', 422),
        ('{"title": "x", "severity": "SEV1", "started_at": "0001-01-01T00:00:00+14:00"}', 422),
        ('{"title": "x", "severity": "SEV1", "started_at": 1700000000}', 422),
        ('{"title": "x", "severity": "SEV1", "impact": {"customers": false}}', 422),
        ('{"title": "x", "severity": "SEV1", "impact": {"customers": 1.5}}', 422),
    ],
)
def test_hostile_bodies_are_refused_before_the_database(
    api: ApiClient, body: str, status: int
) -> None:
    resp = api.post("/api/v1/incidents", data=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == status, resp.json
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert api.get("/api/v1/incidents").json["total"] == 0


@pytest.mark.parametrize("source", ["pagerduty", "jira"])
def test_webhook_json_with_nan_or_deep_nesting_is_a_400(hooks: Flask, source: str) -> None:
    for body in (b'{"event": NaN}', DEEP.encode()):
        resp = hooks.test_client().post(
            f"/webhooks/{source}", data=body, headers=_signed(source, body)
        )
        assert resp.status_code == 400, resp.json


def _signed(source: str, body: bytes) -> dict[str, str]:
    secret = SECRETS[f"{source}_webhook_secret"].encode()
    digest = hmac.new(secret, body, hashlib.sha256).hexdigest()
    if source == "pagerduty":
        return {"X-PagerDuty-Signature": f"v1={digest}"}
    return {"X-Hub-Signature": f"sha256={digest}", "X-Atlassian-Webhook-Identifier": "d-1"}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/incidents/INC-%00", "/api/v1/actions/ACT-%00", "/api/v1/incidents/" + "A" * 300],
)
def test_keys_no_row_can_have_are_404(api: ApiClient, path: str) -> None:
    assert api.get(path).status_code == 404


def test_anonymous_callers_get_401_before_405(api: ApiClient) -> None:
    anonymous = api.as_token(None)
    resp = anonymous.delete("/api/v1/incidents/INC-1/causes/0")
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.get("/api/v1/incidents").headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("query", ["until=0.5", "since=1700000000", "limit=false", "limit=1.5"])
def test_loose_query_values_are_422(api: ApiClient, query: str) -> None:
    assert api.get(f"/api/v1/incidents?{query}").status_code == 422


def test_metrics_can_require_a_token(database_url: str) -> None:
    application = create_app(make_settings(database_url, metrics_token="m" * 20))
    client = application.test_client()
    try:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 20})
        assert ok.status_code == 200 and b"hindsight_incidents" in ok.data
    finally:
        runtime(application).close()


def test_html_has_security_headers_and_markdown_neutralises_raw_html(api: ApiClient) -> None:
    key = api.post("/api/v1/incidents", json={**INCIDENT, "status": "resolved"}).json["key"]
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)"> & more'
    event = {"at": "2026-03-01T10:05:00Z", "kind": "note", "text": payload}
    assert api.post(f"/api/v1/incidents/{key}/timeline", json=event).status_code == 201
    html = api.get(f"/api/v1/incidents/{key}/postmortem?format=html")
    assert html.status_code == 200
    assert "default-src 'none'" in html.headers["Content-Security-Policy"]
    assert html.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in html.get_data(as_text=True)
    md = api.get(f"/api/v1/incidents/{key}/postmortem?format=md").get_data(as_text=True)
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md and "&amp; more" in md
    assert api.get("/api/v1/incidents").headers["X-Content-Type-Options"] == "nosniff"
