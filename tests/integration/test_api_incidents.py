"""Incidents over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.conftest import ApiClient

INCIDENT: dict[str, Any] = {
    "title": "Checkout errors after config push",
    "severity": "SEV2",
    "services": ["checkout"],
    "domain": "e-commerce",
    "tags": ["config"],
    "started_at": "2026-03-01T10:00:00Z",
    "detected_at": "2026-03-01T10:04:00Z",
    "impact": {"customers": 1200, "revenue": 5300.5, "sla_minutes": 38},
}


def create(api: ApiClient, **overrides: Any) -> dict[str, Any]:
    resp = api.post("/api/v1/incidents", json={**INCIDENT, **overrides})
    assert resp.status_code == 201, resp.json
    body: dict[str, Any] = resp.json
    return body


def test_create_read_and_keys(api: ApiClient) -> None:
    first, second = create(api), create(api, title="Second")
    assert first["key"] == "INC-1" and second["key"] == "INC-2"
    got = api.get("/api/v1/incidents/inc-1").json
    assert got["title"] == INCIDENT["title"]
    assert got["impact"] == {
        "customers": 1200,
        "revenue": 5300.5,
        "currency": None,
        "sla_minutes": 38,
        "data": None,
    }
    assert got["started_at"] == "2026-03-01T10:00:00Z"
    assert got["postmortem_status"] is None


def test_list_filters_and_pagination(api: ApiClient) -> None:
    for i in range(5):
        create(
            api,
            title=f"i{i}",
            severity="SEV1" if i % 2 else "SEV3",
            services=["checkout"] if i < 3 else ["ehr"],
        )
    page = api.get("/api/v1/incidents?limit=2&offset=1").json
    assert page["total"] == 5 and [i["title"] for i in page["items"]] == ["i1", "i2"]
    assert api.get("/api/v1/incidents?severity=SEV1").json["total"] == 2
    assert [i["title"] for i in api.get("/api/v1/incidents?service=ehr").json["items"]] == [
        "i3",
        "i4",
    ]


def test_update_and_postmortem_opens_on_resolve(api: ApiClient) -> None:
    key = create(api)["key"]
    resp = api.patch(f"/api/v1/incidents/{key}", json={"summary": "A bad flag", "severity": "SEV1"})
    assert resp.status_code == 200 and resp.json["severity"] == "SEV1"
    assert api.get(f"/api/v1/incidents/{key}/postmortem").status_code == 404
    resolved = api.patch(
        f"/api/v1/incidents/{key}",
        json={"status": "resolved", "resolved_at": "2026-03-01T11:00:00Z"},
    )
    assert resolved.json["postmortem_status"] == "draft"
    doc = api.get(f"/api/v1/incidents/{key}/postmortem").json
    # Resolved on Sunday 1 March: five business days from Monday 2 March.
    assert doc["postmortem"]["review_due"] == "2026-03-09"


def test_time_order_is_checked_on_create_and_update(api: ApiClient) -> None:
    bad = api.post("/api/v1/incidents", json={**INCIDENT, "detected_at": "2026-03-01T09:00:00Z"})
    assert bad.status_code == 422
    assert bad.json["errors"][0]["loc"][0] == "body"
    key = create(api)["key"]
    resp = api.patch(f"/api/v1/incidents/{key}", json={"resolved_at": "2026-02-01T00:00:00Z"})
    assert resp.status_code == 422
    assert resp.json["errors"] == [
        {"loc": ["body", "resolved_at"], "msg": "resolved_at is earlier than detected_at"}
    ]
    assert api.get(f"/api/v1/incidents/{key}").json["resolved_at"] is None


def test_null_for_required_field_is_422_not_500(api: ApiClient) -> None:
    key = create(api)["key"]
    resp = api.patch(f"/api/v1/incidents/{key}", json={"title": None})
    assert resp.status_code == 422 and resp.json["errors"][0]["loc"] == ["body", "title"]
