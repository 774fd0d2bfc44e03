"""The generic JSON hook, for sources without a parser of their own.

Documented shape (all times ISO 8601 with a zone), signed like Jira's:
`X-Hindsight-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.

    {"delivery_id": "...", "incident_id": "...", "event": "triggered|acknowledged|resolved|closed",
     "occurred_at": "...", "title": "...", "severity": "SEV1".."SEV4",
     "services": ["checkout"], "summary": "...", "url": "...", "actor": "..."}
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from app.domain.vocabulary import Severity

from .event import EventKind, IncidentEvent, PayloadError


class GenericEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    delivery_id: str = Field(min_length=1, max_length=200)
    incident_id: str = Field(min_length=1, max_length=200)
    event: EventKind
    occurred_at: AwareDatetime
    title: str = Field(min_length=1, max_length=300)
    severity: Severity = Severity.SEV3
    services: list[str] = Field(default_factory=list, max_length=50)
    summary: str = Field(default="", max_length=50_000)
    url: str | None = None
    actor: str | None = None


def _validate(payload: Any) -> GenericEvent:
    try:
        return GenericEvent.model_validate(payload)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise PayloadError(list(err["loc"]), err["msg"]) from None


def delivery_id(payload: Any) -> str:
    return _validate(payload).delivery_id


def parse(payload: Any) -> list[IncidentEvent]:
    event = _validate(payload)
    return [
        IncidentEvent(
            source="generic",
            external_id=event.incident_id,
            kind=event.event,
            occurred_at=event.occurred_at,
            title=event.title,
            severity=event.severity,
            services=tuple(event.services),
            summary=event.summary,
            url=event.url,
            actor=event.actor,
        )
    ]
