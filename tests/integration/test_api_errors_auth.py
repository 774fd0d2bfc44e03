"""Every error class is problem+json; auth answers 401/403; failures store nothing."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import ADMIN_TOKEN, READ_TOKEN, ApiClient, make_settings
from tests.integration.test_api_incidents import INCIDENT, create

PROBLEM = "application/problem+json"


def test_no_token_401_wrong_scope_403(api: ApiClient) -> None:
    anon, reader = api.as_token(None), api.as_token(READ_TOKEN)
    assert anon.get("/api/v1/incidents").status_code == 401
    assert api.as_token("nope-not-a-token").get("/api/v1/incidents").status_code == 401
    assert reader.get("/api/v1/incidents").status_code == 200
    denied = reader.post("/api/v1/incidents", json=INCIDENT)
    assert denied.status_code == 403 and denied.headers["Content-Type"] == PROBLEM
    assert api.get("/api/v1/audit/verify").status_code == 403
    assert api.as_token(ADMIN_TOKEN).get("/api/v1/audit/verify").status_code == 200


def test_created_token_works_and_is_stored_hashed(app: Flask, api: ApiClient) -> None:
    from sqlalchemy import select

    from app.domain.vocabulary import Scope
    from app.models import ApiToken
    from app.services.tokens import create_token
    from tests.conftest import runtime

    rt = runtime(app)
    secret = create_token(rt, "robot", [Scope.READ])
    assert api.as_token(secret).get("/api/v1/incidents").status_code == 200
    assert api.as_token(secret).post("/api/v1/incidents", json=INCIDENT).status_code == 403
    with rt.db.sessions() as s:
        stored = s.scalar(select(ApiToken).where(ApiToken.name == "robot"))
        assert stored is not None and secret not in stored.token_hash


@pytest.mark.parametrize(
    ("body", "status", "loc"),
    [
        (b"{not json", 400, None),
        (b"", 400, None),
        (b"[1, 2]", 422, ["body"]),
        (b'{"title": "x"}', 422, ["body", "severity"]),
        (b'{"title": "x", "severity": "SEV2", "bogus": 1}', 422, ["body", "bogus"]),
        (
            b'{"title": "x", "severity": "SEV2", "impact": {"customers": -1}}',
            422,
            ["body", "impact", "customers"],
        ),
        (
            b'{"title": "x", "severity": "SEV2", "started_at": "2026-01-01T00:00:00"}',
            422,
            ["body", "started_at"],
        ),
        (b'{"title": "x", "severity": "SEV2", "services": "checkout"}', 422, ["body", "services"]),
        (b'{"title": "x\\u0000", "severity": "SEV2"}', 422, ["body", "title"]),
        (b'{"title": "x", "severity": "SEV2", "tags": ["a\\u0000"]}', 422, ["body", "tags"]),
    ],
)
def test_bad_bodies(api: ApiClient, body: bytes, status: int, loc: list[str] | None) -> None:
    resp = api.post("/api/v1/incidents", data=body, content_type="application/json")
    assert resp.status_code == status
    assert resp.headers["Content-Type"] == PROBLEM
    assert resp.json["status"] == status and resp.json["title"] and resp.json["detail"]
    if loc is not None:
        assert resp.json["errors"][0]["loc"] == loc
    assert api.get("/api/v1/incidents").json["total"] == 0


def test_unknown_keys_and_routes_are_404(api: ApiClient) -> None:
    for path in (
        "/api/v1/incidents/INC-999",
        "/api/v1/actions/ACT-1",
        "/api/v1/nothing",
        "/api/v1/incidents/INC-999/timeline",
    ):
        resp = api.get(path)
        assert resp.status_code == 404 and resp.headers["Content-Type"] == PROBLEM, path


def test_wrong_method_is_405_problem(api: ApiClient) -> None:
    resp = api.client.put("/api/v1/incidents", headers=api._headers())
    assert resp.status_code == 405 and resp.headers["Content-Type"] == PROBLEM
    assert "GET" in resp.headers["Allow"]
    # Without a token the same request is a 401 first (tests/integration/test_integrity.py).


def test_body_over_limit_is_413(committed_database_url: str) -> None:
    from app import create_app

    app = create_app(make_settings(committed_database_url, max_body_bytes=2048))
    client = ApiClient(app.test_client())
    resp = client.post("/api/v1/incidents", json={**INCIDENT, "summary": "x" * 5000})
    assert resp.status_code == 413 and resp.headers["Content-Type"] == PROBLEM
    assert client.get("/api/v1/incidents").json["total"] == 0
    app.config["HINDSIGHT_RUNTIME"].close()


def test_failed_request_leaves_stored_data_as_it_was(api: ApiClient) -> None:
    key = create(api)["key"]
    before = api.get(f"/api/v1/incidents/{key}").json
    api.patch(
        f"/api/v1/incidents/{key}", json={"title": "new", "closed_at": "1999-01-01T00:00:00Z"}
    )
    assert api.get(f"/api/v1/incidents/{key}").json == before


def test_fuzzed_bodies_never_500(api: ApiClient) -> None:
    """A bounded, seeded fuzz over the write endpoints: nothing may crash the server."""
    import json
    import random

    rng = random.Random(1234)
    key = create(api)["key"]
    values = [
        None,
        "",
        "x" * 400,
        -1,
        0,
        10**20,
        1.5,
        True,
        [],
        {},
        ["a"],
        {"a": 1},
        "2026-13-45T99:99:99Z",
        "SEV1",
        "P0",
        "done",
        "\u0000",
        "😀",
    ]
    fields = [
        "title",
        "severity",
        "status",
        "summary",
        "services",
        "impact",
        "started_at",
        "kind",
        "text",
        "at",
        "role",
        "category",
        "statement",
        "type",
        "due_date",
        "cause_ids",
        "parent_id",
        "priority",
        "owner",
        "alternatives",
        "went_well",
        "lessons",
        "facilitator",
        "review_due",
        "review_held_at",
        "is_decision",
        "evidence_links",
        "status_reason",
        "compliance_rule",
    ]
    paths = [
        ("POST", "/api/v1/incidents"),
        ("PATCH", f"/api/v1/incidents/{key}"),
        ("POST", f"/api/v1/incidents/{key}/timeline"),
        ("POST", f"/api/v1/incidents/{key}/causes"),
        ("POST", f"/api/v1/incidents/{key}/actions"),
        ("PATCH", f"/api/v1/incidents/{key}/postmortem"),
        ("POST", f"/api/v1/incidents/{key}/participants"),
    ]
    for _ in range(400):
        method, path = rng.choice(paths)
        body = {rng.choice(fields): rng.choice(values) for _ in range(rng.randint(0, 4))}
        resp = api.client.open(
            path,
            method=method,
            data=json.dumps(body),
            content_type="application/json",
            headers={"Authorization": api._headers()["Authorization"]},
        )
        assert resp.status_code < 500, (method, path, body, resp.json)


@pytest.mark.parametrize("field", ["services", "tags", "regulatory", "title", "status"])
def test_null_for_required_incident_field_is_422(api: ApiClient, field: str) -> None:
    key = create(api)["key"]
    resp = api.patch(f"/api/v1/incidents/{key}", json={field: None})
    assert resp.status_code == 422 and resp.json["errors"][0]["loc"] == ["body", field]


@pytest.mark.parametrize("field", ["alternatives", "evidence_links", "kind", "at", "is_decision"])
def test_null_for_required_timeline_field_is_422(api: ApiClient, field: str) -> None:
    key = create(api)["key"]
    event = api.post(
        f"/api/v1/incidents/{key}/timeline",
        json={"at": "2026-03-01T10:05:00Z", "kind": "note", "text": "x"},
    ).json
    resp = api.patch(f"/api/v1/incidents/{key}/timeline/{event['id']}", json={field: None})
    assert resp.status_code == 422 and resp.json["errors"][0]["loc"] == ["body", field]


@pytest.mark.parametrize("field", ["title", "type", "description", "cause_ids", "status"])
def test_null_for_required_action_field_is_422(api: ApiClient, field: str) -> None:
    key = create(api)["key"]
    akey = api.post(f"/api/v1/incidents/{key}/actions", json={"title": "t", "type": "detect"}).json[
        "key"
    ]
    resp = api.patch(f"/api/v1/actions/{akey}", json={field: None})
    assert resp.status_code == 422 and resp.json["errors"][0]["loc"] == ["body", field]
    assert api.get(f"/api/v1/actions/{akey}").json["title"] == "t"


def test_out_of_range_numbers_are_422_or_404_not_500(api: ApiClient) -> None:
    huge = 10**20
    key = create(api)["key"]
    checks = [
        ("POST", "/api/v1/incidents", {**INCIDENT, "impact": {"customers": huge}}, 422),
        (
            "POST",
            f"/api/v1/incidents/{key}/actions",
            {"title": "t", "type": "detect", "cause_ids": [huge]},
            422,
        ),
        (
            "POST",
            f"/api/v1/incidents/{key}/causes",
            {"kind": "trigger", "category": "change", "statement": "s", "parent_id": huge},
            422,
        ),
        ("PATCH", f"/api/v1/incidents/{key}/timeline/{huge}", {"text": "x"}, 404),
        ("GET", f"/api/v1/incidents?offset={huge}", None, 422),
    ]
    for method, path, body, status in checks:
        resp = api.client.open(
            path,
            method=method,
            json=body,
            headers={"Authorization": api._headers()["Authorization"]},
        )
        assert resp.status_code == status, (method, path, resp.json)
    revenue = api.post(
        "/api/v1/incidents",
        data=b'{"title":"x","severity":"SEV2","impact":{"revenue":1e999}}',
        content_type="application/json",
    )
    assert revenue.status_code == 422
