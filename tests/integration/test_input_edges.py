"""What the generated requests found, one test each: the document and the server agree."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app import audit
from app.runtime import Runtime
from tests.conftest import ADMIN_TOKEN, ApiClient, runtime

INCIDENT: dict[str, Any] = {"title": "Queue backlog", "severity": "SEV3"}


def test_a_path_no_rule_serves_is_404_with_a_token_and_401_without(api: ApiClient) -> None:
    key = api.post("/api/v1/incidents", json=INCIDENT).json["key"]
    for path in (f"/api/v1/incidents/{key}/causes/0", f"/api/v1/incidents/{key}/timeline/0"):
        assert api.delete(path).status_code == 404
        assert api.patch(path, json={}).status_code == 404
        assert api.as_token(None).delete(path).status_code == 401
    assert api.delete(f"/api/v1/incidents/{key}").status_code == 405  # a resource, not that verb


@pytest.mark.parametrize(
    ("impact", "status"),
    [
        ({"customers": 3.0}, 201),  # an integer, as JSON Schema has it
        ({"customers": True}, 422),
        ({"customers": "3"}, 422),
        ({"customers": 3.5}, 422),
        ({"revenue": False}, 422),
        ({"revenue": 12}, 201),
    ],
)
def test_numbers_are_json_numbers(api: ApiClient, impact: dict[str, Any], status: int) -> None:
    resp = api.post("/api/v1/incidents", json={**INCIDENT, "impact": impact})
    assert resp.status_code == status, resp.json


@pytest.mark.parametrize(
    "body",
    [
        {"from": 0, "to": "2026-01-31"},
        {"from": "2026-01-01", "to": 1.5},
        {"from": None, "incident": None, "to": "2026-01-31"},
    ],
)
def test_an_export_period_is_two_days_as_text(api: ApiClient, body: dict[str, Any]) -> None:
    assert api.as_token(ADMIN_TOKEN).post("/api/v1/exports", json=body).status_code == 422


@pytest.mark.parametrize(
    "value", ["1899-12-31T23:59:59Z", "3000-01-01T00:00:00Z", "0605-10-30T13:26:23-07:59"]
)
def test_timestamps_outside_the_documented_years_are_422(api: ApiClient, value: str) -> None:
    resp = api.post("/api/v1/incidents", json={**INCIDENT, "started_at": value})
    assert resp.status_code == 422 and resp.json["errors"][0]["loc"] == ["body", "started_at"]


def test_the_document_offers_null_only_where_null_clears(api: ApiClient) -> None:
    schemas = api.get("/openapi.json").json["components"]["schemas"]
    update = schemas["IncidentUpdateInput"]["properties"]
    assert update["title"]["type"] == "string" and "default" not in update["title"]
    assert {"type": "null"} in update["domain"]["anyOf"]  # may be cleared
    key = api.post("/api/v1/incidents", json=INCIDENT).json["key"]
    resp = api.patch(f"/api/v1/incidents/{key}", json={"title": None})
    assert resp.status_code == 422 and resp.json["errors"][0]["loc"] == ["body", "title"]
    assert api.patch(f"/api/v1/incidents/{key}", json={"domain": None}).status_code == 200
    params = api.get("/openapi.json").json["paths"]["/api/v1/search"]["get"]["parameters"]
    assert {p["name"]: p["required"] for p in params}["q"] is True
    timeline = api.get("/openapi.json").json["paths"]["/api/v1/incidents/{key}/timeline/{part_id}"]
    part_id = next(p for p in timeline["delete"]["parameters"] if p["name"] == "part_id")
    assert part_id["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def test_concurrent_audited_writes_never_share_a_sequence_number(
    committed_app: Flask, committed_rt: Runtime
) -> None:
    """The head is written before it is read: on SQLite a read first could be stale."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def write(n: int) -> None:
        barrier.wait()
        try:
            for i in range(15):
                with committed_rt.uow() as uow:
                    audit.record(
                        uow.session,
                        actor="t",
                        action="test",
                        entity_type="t",
                        entity_key=f"{n}-{i}",
                    )
                    uow.commit()
        except BaseException as exc:  # collected: the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:2]
    with committed_rt.db.sessions() as s:
        result = audit.verify(s)
    assert result.ok and result.checked == 90, result


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports/completion?since=7.574352213846768e-16",
        "/api/v1/reports/learning?until=1e3",
        "/api/v1/search?q=disk&since=0.5",
        "/api/v1/incidents?since=-1",
    ],
)
def test_numbers_are_not_times_in_any_query(api: ApiClient, path: str) -> None:
    resp = api.get(path)
    assert resp.status_code == 422 and resp.json["errors"][0]["loc"][0] == "query", resp.json


def test_three_deletes_of_one_row_at_once_one_204_two_404(committed_app: Flask) -> None:
    """One row is removed once: one 204 and one audit entry, the others a 404."""
    api = ApiClient(committed_app.test_client())
    key = api.post("/api/v1/incidents", json=INCIDENT).json["key"]
    event = {"at": "2026-03-01T10:00:00Z", "kind": "note", "text": "n"}
    cause = {"kind": "root_cause", "category": "change", "statement": "config push"}
    for name, body in (("timeline", event), ("causes", cause), ("timeline", event)):
        part = api.post(f"/api/v1/incidents/{key}/{name}", json=body).json
        path = f"/api/v1/incidents/{key}/{name}/{part['id']}"
        barrier, codes = threading.Barrier(3), list[int]()

        def delete(
            path: str = path, barrier: threading.Barrier = barrier, codes: list[int] = codes
        ) -> None:
            client = committed_app.test_client()
            barrier.wait()
            codes.append(
                client.delete(
                    path, headers={"Authorization": api._headers()["Authorization"]}
                ).status_code
            )

        threads = [threading.Thread(target=delete) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(codes) == [204, 404, 404], (name, codes)
    with runtime(committed_app).db.sessions() as s:
        deletes = s.scalar(sa.text("SELECT count(*) FROM audit_log WHERE action LIKE '%.delete'"))
    assert deletes == 3
