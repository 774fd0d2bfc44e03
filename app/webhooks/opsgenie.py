"""Opsgenie outgoing webhooks (the Webhook integration).

Opsgenie does not sign its webhooks; the integration is configured to send
a custom header, which we compare in constant time with our shared token.
Alerts carry no delivery id, so one is derived from alert id, action and
the alert's update time: a resend of the same change is a duplicate. The
documented action data sends `createdAt` in epoch milliseconds and
`updatedAt` in epoch nanoseconds; `parse_time` reads the unit from the size.
"""

from __future__ import annotations

from typing import Any

from app.domain.vocabulary import Severity

from .event import (
    EventKind,
    IncidentEvent,
    PayloadError,
    as_object,
    as_text,
    dig,
    parse_time,
    slug,
)

_KINDS = {
    "Create": EventKind.TRIGGERED,
    "Acknowledge": EventKind.ACKNOWLEDGED,
    "UnAcknowledge": EventKind.ANNOTATED,
    "Escalate": EventKind.ESCALATED,
    "EscalateNext": EventKind.ESCALATED,
    "AssignOwnership": EventKind.ANNOTATED,
    "TakeOwnership": EventKind.ANNOTATED,
    "AddRecipient": EventKind.ANNOTATED,
    "AddResponder": EventKind.ANNOTATED,
    "AddTeam": EventKind.ANNOTATED,
    "AddNote": EventKind.ANNOTATED,
    "UpdatePriority": EventKind.ANNOTATED,
    "Close": EventKind.RESOLVED,
}
# Fields the action data adds beside the alert's own, in the words the timeline shows.
_DETAIL = ("note", "owner", "recipient", "team", "escalationName")
_PRIORITY = {"P1": Severity.SEV1, "P2": Severity.SEV2, "P3": Severity.SEV3}


def _alert(payload: Any) -> dict[str, Any]:
    alert = dig(payload, "alert")
    if not isinstance(alert, dict):
        raise PayloadError(["alert"], "expected an object")
    return alert


def delivery_id(payload: Any) -> str:
    alert = _alert(payload)
    stamp = alert.get("updatedAt") or alert.get("createdAt") or ""
    return f"{dig(alert, 'alertId')}:{dig(payload, 'action')}:{stamp}"


def parse(payload: Any) -> list[IncidentEvent]:
    kind = _KINDS.get(as_text(dig(payload, "action"), ["action"]) or "")
    if kind is None:
        return []
    alert = _alert(payload)
    stamp = alert.get("updatedAt") or dig(alert, "createdAt")
    raw_tags = alert.get("tags") or []
    if not isinstance(raw_tags, list):
        raise PayloadError(["alert", "tags"], "expected a list")
    tags = tuple(str(t) for t in raw_tags)
    services = tuple(slug(t.split(":", 1)[1]) for t in tags if t.startswith("service:"))
    if not services and alert.get("entity"):
        services = (slug(str(alert["entity"])),)
    source = as_object(payload.get("source"), ["source"])
    detail = "; ".join(
        str(alert[name])
        for name in _DETAIL
        if isinstance(alert.get(name), str | int) and alert[name]
    )
    return [
        IncidentEvent(
            source="opsgenie",
            external_id=str(alert.get("alias") or dig(alert, "alertId")),
            kind=kind,
            occurred_at=parse_time(stamp, ["alert", "updatedAt"]),
            title=str(dig(alert, "message")),
            severity=_PRIORITY.get(str(alert.get("priority")), Severity.SEV4),
            services=services,
            summary=str(alert.get("description") or ""),
            actor=as_text(alert.get("username") or source.get("name"), ["alert", "username"]),
            tags=tags,
            what=f"alert {dig(payload, 'action')}",
            detail=detail[:2000],
        )
    ]
