"""OpenAPI validity, postmortem rendering, health and metrics."""

from __future__ import annotations

from flask import Flask
from openapi_spec_validator import validate

from tests.conftest import ApiClient
from tests.integration.test_api_incidents import create


def test_openapi_document_is_valid_and_complete(api: ApiClient) -> None:
    spec = api.client.get("/openapi.json").json
    validate(spec)
    paths = spec["paths"]
    for path in (
        "/api/v1/incidents",
        "/api/v1/incidents/{key}",
        "/api/v1/incidents/{key}/timeline",
        "/api/v1/incidents/{key}/causes/{part_id}",
        "/api/v1/actions/{key}",
        "/api/v1/incidents/{key}/postmortem",
        "/api/v1/audit/verify",
    ):
        assert path in paths, path
    for source, header in (
        ("jira", "X-Hub-Signature"),
        ("pagerduty", "X-PagerDuty-Signature"),
        ("opsgenie", "Authorization"),
        ("alertmanager", "Authorization"),
        ("generic", "X-Hindsight-Signature"),
    ):
        hook = paths[f"/webhooks/{source}"]["post"]
        assert header in [p["name"] for p in hook["parameters"] if p["in"] == "header"]
        assert hook["requestBody"]["content"]["application/json"]["schema"]
        assert {"202", "200", "default"} <= set(hook["responses"])
    generic = spec["components"]["schemas"]["GenericWebhookEvent"]
    assert {"delivery_id", "incident_id", "event", "occurred_at"} <= set(generic["required"])
    create_op = paths["/api/v1/incidents"]["post"]
    assert create_op["security"] == [{"bearer": ["write"]}]
    ref = create_op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[1] in spec["components"]["schemas"]


def test_postmortem_renders_markdown_and_escaped_html(api: ApiClient) -> None:
    key = create(api, title="<script>alert(1)</script> outage")["key"]
    api.post(
        f"/api/v1/incidents/{key}/timeline",
        json={
            "at": "2026-03-01T10:05:00Z",
            "kind": "decision",
            "text": "Fail over | now",
            "is_decision": True,
            "rationale": "Primary unrecoverable",
            "alternatives": ["restore"],
        },
    )
    api.patch(
        f"/api/v1/incidents/{key}/postmortem",
        json={"summary": "Checkout failed for 38 minutes", "lessons": ["Canary config"]},
    )
    md = api.get(f"/api/v1/incidents/{key}/postmortem?format=md")
    assert md.status_code == 200 and md.mimetype == "text/markdown"
    text = md.data.decode()
    assert "## Timeline" in text and "Fail over \\| now" in text
    assert "| decision | Fail over \\| now | Primary unrecoverable | restore |" in text
    assert "- Canary config" in text
    html = api.get(f"/api/v1/incidents/{key}/postmortem?format=html").data.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert api.get(f"/api/v1/incidents/{key}/postmortem?format=pdf").status_code == 422
    doc = api.get(f"/api/v1/incidents/{key}/postmortem").json
    assert doc["postmortem"]["summary"] == "Checkout failed for 38 minutes"
    assert doc["timeline"][0]["is_decision"] is True


def test_postmortem_status_transitions(api: ApiClient) -> None:
    key = create(api)["key"]
    api.patch(f"/api/v1/incidents/{key}/postmortem", json={"status": "in_review"})
    back = api.patch(f"/api/v1/incidents/{key}/postmortem", json={"status": "draft"})
    assert back.status_code == 200 and back.json["status"] == "draft"


def test_healthz_and_metrics(app: Flask, api: ApiClient) -> None:
    health = api.client.get("/healthz")
    assert health.status_code == 200
    assert health.json["checks"]["database"]["ok"] is True
    assert health.json["checks"]["queue"]["kind"] == "in-process"
    create(api)
    metrics = api.client.get("/metrics").data.decode()
    assert 'hindsight_incidents{status="open"} 1.0' in metrics
    assert "hindsight_http_requests_total" in metrics


def test_healthz_reports_a_dead_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings("postgresql://postgres@127.0.0.1:1/none"))
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503 and resp.json["checks"]["database"]["ok"] is False


def test_postmortem_patch_nulls(api: ApiClient) -> None:
    key = create(api)["key"]
    api.patch(
        f"/api/v1/incidents/{key}/postmortem",
        json={"summary": "s", "lessons": ["a"], "facilitator": "Noor Haddad"},
    )
    for field in ("summary", "impact", "status"):
        resp = api.patch(f"/api/v1/incidents/{key}/postmortem", json={field: None})
        assert resp.status_code == 422 and resp.json["errors"][0]["loc"] == ["body", field]
    cleared = api.patch(
        f"/api/v1/incidents/{key}/postmortem", json={"lessons": None, "facilitator": None}
    ).json
    assert cleared["lessons"] == [] and cleared["facilitator"] is None
    assert cleared["summary"] == "s"
