"""PagerDuty v3 webhooks (event subscriptions).

Signed with `X-PagerDuty-Signature: v1=<hex HMAC-SHA256>`; during secret
rotation PagerDuty sends several comma-separated signatures, any of which
may match. The delivery id is `event.id`; the incident is `event.data.id`.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from app.domain.vocabulary import Severity

from .event import EventKind, IncidentEvent, PayloadError, as_object, as_text, dig, parse_time, slug

_KINDS = {
    "incident.triggered": EventKind.TRIGGERED,
    "incident.acknowledged": EventKind.ACKNOWLEDGED,
    "incident.unacknowledged": EventKind.ANNOTATED,
    "incident.escalated": EventKind.ESCALATED,
    "incident.reassigned": EventKind.ESCALATED,
    "incident.delegated": EventKind.ESCALATED,
    "incident.annotated": EventKind.ANNOTATED,
    "incident.priority_updated": EventKind.ANNOTATED,
    "incident.reopened": EventKind.ANNOTATED,
    "incident.responder.added": EventKind.ANNOTATED,
    "incident.responder.replied": EventKind.ANNOTATED,
    "incident.status_update_published": EventKind.ANNOTATED,
    "incident.resolved": EventKind.RESOLVED,
}
# What a non-incident `data` object says, by its type: the note, the request, the update.
_DETAIL = {"incident_note": "content", "incident_responder": "message"}
_PRIORITY = {"P1": Severity.SEV1, "P2": Severity.SEV2, "P3": Severity.SEV3}


def _severity(priority: str | None, urgency: str | None) -> Severity:
    """An explicit priority wins (P4/P5 are minor); without one, urgency decides."""
    if priority:
        return _PRIORITY.get(priority, Severity.SEV4)
    return Severity.SEV2 if urgency == "high" else Severity.SEV3


def signature_ok(body: bytes, header: str | None, secret: str) -> bool:
    if not header:
        return False
    expected = "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(
        hmac.compare_digest(sig.strip().encode(), expected.encode()) for sig in header.split(",")
    )


def delivery_id(payload: Any) -> str:
    return str(dig(payload, "event", "id"))


def parse(payload: Any) -> list[IncidentEvent]:
    """Events other than the incident lifecycle (e.g. service.updated) yield nothing."""
    event_type = as_text(dig(payload, "event", "event_type"), ["event", "event_type"])
    kind = _KINDS.get(event_type or "")
    if kind is None or dig(payload, "event", "resource_type") != "incident":
        return []
    data = dig(payload, "event", "data")
    if not isinstance(data, dict):
        raise PayloadError(["event", "data"], "expected an object")
    loc: list[str | int] = ["event", "data"]
    incident, detail = _incident_of(data)
    if incident is not data:
        loc = [*loc, "incident"]
    priority = as_text(as_object(incident.get("priority"), [*loc, "priority"]).get("summary"), loc)
    severity = _severity(priority, incident.get("urgency"))
    service = as_text(as_object(incident.get("service"), [*loc, "service"]).get("summary"), loc)
    agent = as_object(payload["event"].get("agent"), ["event", "agent"]).get("summary")
    incident_id = as_text(dig(incident, "id"), [*loc, "id"])
    return [
        IncidentEvent(
            source="pagerduty",
            external_id=str(incident_id),
            kind=kind,
            occurred_at=parse_time(dig(payload, "event", "occurred_at"), ["event", "occurred_at"]),
            title=str(
                incident.get("title")
                or incident.get("summary")
                or f"PagerDuty incident {incident_id}"
            ),
            severity=severity,
            services=(slug(service),) if service else (),
            url=as_text(incident.get("html_url"), [*loc, "html_url"]),
            actor=as_text(agent, ["event", "agent", "summary"]),
            what=event_type,
            detail=detail[:2000],
        )
    ]


def _incident_of(data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The incident an event is about, and what the event said about it.

    `incident.annotated` carries the note (`data.type` incident_note, `data.id` the
    note's id): reading `data.id` as the incident made a phantom incident per note.
    """
    kind = data.get("type")
    if kind in (None, "incident"):
        return data, ""
    incident = as_object(data.get("incident"), ["event", "data", "incident"])
    if not incident:
        raise PayloadError(["event", "data", "incident"], f"a {kind} names its incident here")
    said = data.get(_DETAIL.get(str(kind), "message"))
    return incident, as_text(said, ["event", "data", "content"]) or ""
