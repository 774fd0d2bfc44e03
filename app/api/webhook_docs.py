"""The webhook receivers in /openapi.json: their headers, bodies and answers.

The receivers are plain Flask routes (they read raw bytes to check
signatures, so they cannot use `ApiBlueprint.op`'s body parsing), which left
them out of the generated document. They are described here instead, from
the same facts the parsers rely on: the signature or token header each
source sends, the fields each parser reads (other fields are allowed and
ignored, as the sources add fields over time), and the 202 / 200-duplicate
answer. The generic hook's body is its pydantic model, so it cannot drift.
"""

from __future__ import annotations

from typing import Any

from app.webhooks.generic import GenericEvent

_TIME = {"type": "string", "format": "date-time"}
_TEXT = {"type": "string"}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


_PAGERDUTY = _obj(
    ["event"],
    event=_obj(
        ["id", "event_type", "resource_type", "occurred_at", "data"],
        id=_TEXT,
        event_type={
            "type": "string",
            "description": "incident.triggered|acknowledged|escalated|reassigned|annotated|"
            "resolved are applied; other event types are stored and ignored",
        },
        resource_type={"type": "string", "const": "incident"},
        occurred_at=_TIME,
        agent=_obj([], summary=_TEXT),
        data=_obj(
            ["id"],
            id=_TEXT,
            title=_TEXT,
            urgency={"type": "string", "enum": ["high", "low"]},
            html_url=_TEXT,
            priority=_obj([], summary={"type": "string", "description": "P1..P5"}),
            service=_obj([], summary=_TEXT),
        ),
    ),
)
_OPSGENIE = _obj(
    ["action", "alert"],
    action={"type": "string", "description": "Create, Acknowledge, Escalate, AddNote, Close"},
    alert=_obj(
        ["alertId", "message"],
        alertId=_TEXT,
        alias=_TEXT,
        message=_TEXT,
        description=_TEXT,
        priority={"type": "string", "description": "P1..P5"},
        tags={"type": "array", "items": _TEXT, "description": "service:<name> tags name services"},
        entity=_TEXT,
        username=_TEXT,
        createdAt={"type": "integer", "description": "epoch milliseconds"},
        updatedAt={"type": "integer", "description": "epoch milliseconds"},
    ),
    source=_obj([], name=_TEXT),
)
_ALERT = _obj(["startsAt"], startsAt=_TIME, endsAt=_TIME, labels={"type": "object"})
_ALERTMANAGER = _obj(
    ["version", "groupKey", "status", "alerts"],
    version={"type": "string", "const": "4"},
    groupKey=_TEXT,
    status={"type": "string", "enum": ["firing", "resolved"]},
    alerts={"type": "array", "minItems": 1, "items": _ALERT},
    groupLabels={"type": "object"},
    commonLabels={"type": "object"},
    commonAnnotations=_obj([], summary=_TEXT, description=_TEXT),
    externalURL=_TEXT,
)
_JIRA = _obj(
    ["webhookEvent"],
    webhookEvent={"type": "string", "description": "jira:issue_created|updated|deleted"},
    timestamp={"type": "integer", "description": "epoch milliseconds"},
    user=_obj([], accountId=_TEXT, name=_TEXT),
    issue=_obj(["key"], key=_TEXT, fields={"type": "object"}),
    changelog=_obj([], items={"type": "array", "items": {"type": "object"}}),
)

_HMAC = "sha256=<hex HMAC-SHA256 of the raw body with the shared secret>"
# path -> (summary, [(header, description)], body schema)
WEBHOOKS: dict[str, tuple[str, list[tuple[str, str]], dict[str, Any]]] = {
    "/webhooks/jira": (
        "Jira issue events for mirrored actions (HINDSIGHT_JIRA_WEBHOOK_SECRET)",
        [
            ("X-Hub-Signature", _HMAC),
            ("X-Atlassian-Webhook-Identifier", "delivery id; a repeat is a duplicate"),
        ],
        _JIRA,
    ),
    "/webhooks/pagerduty": (
        "PagerDuty v3 webhook subscription (HINDSIGHT_PAGERDUTY_WEBHOOK_SECRET)",
        [("X-PagerDuty-Signature", "v1=<hex HMAC-SHA256>, comma-separated during rotation")],
        _PAGERDUTY,
    ),
    "/webhooks/opsgenie": (
        "Opsgenie outgoing Webhook integration (HINDSIGHT_OPSGENIE_WEBHOOK_TOKEN)",
        [("Authorization", "Bearer <token>")],
        _OPSGENIE,
    ),
    "/webhooks/alertmanager": (
        "Alertmanager webhook_config, payload version 4 (HINDSIGHT_ALERTMANAGER_WEBHOOK_TOKEN)",
        [("Authorization", "Bearer <token> (http_config.authorization)")],
        _ALERTMANAGER,
    ),
    "/webhooks/generic": (
        "The generic JSON hook (HINDSIGHT_GENERIC_WEBHOOK_SECRET)",
        [("X-Hindsight-Signature", _HMAC)],
        {},  # filled from GenericEvent below
    ),
}


def _answer(description: str) -> dict[str, Any]:
    schema = _obj(["status", "delivery"], status=_TEXT, delivery={"type": "integer"})
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def webhook_paths(defs: dict[str, Any], problem_ref: str) -> dict[str, dict[str, Any]]:
    """OpenAPI path items for every receiver; `defs` receives the generic event's schema."""
    generic = GenericEvent.model_json_schema(ref_template="#/components/schemas/{model}")
    defs.update(generic.pop("$defs", {}))
    defs["GenericWebhookEvent"] = generic
    paths: dict[str, dict[str, Any]] = {}
    for path, (summary, headers, body) in WEBHOOKS.items():
        schema = body or {"$ref": "#/components/schemas/GenericWebhookEvent"}
        source = path.rsplit("/", 1)[1]
        paths[path] = {
            "post": {
                "summary": summary,
                "operationId": f"webhooks_post_{source}",
                "tags": ["webhooks"],
                "parameters": [
                    {"name": h, "in": "header", "required": True, "description": d, "schema": _TEXT}
                    for h, d in headers
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": schema}},
                },
                "responses": {
                    "202": _answer("Stored; a job applies it after the commit"),
                    "200": _answer("A duplicate delivery: nothing changed"),
                    "default": {
                        "description": "Problem details (401 bad signature, 422 bad payload)",
                        "content": {"application/problem+json": {"schema": {"$ref": problem_ref}}},
                    },
                },
            }
        }
    return paths
