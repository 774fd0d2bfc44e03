"""Job 1: an incident source says something happened; Hindsight keeps the incident in step.

A delivery is stored (unique per source and delivery id) and committed
before any work, so retries are answered without effect; the job turns its
events into the incident, its timeline and, once resolved, a postmortem.
Events may arrive late or out of order: the status only moves forward and
each time field keeps the earliest (detection) or latest (resolution) value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.db import JobRequest, UnitOfWork
from app.domain.errors import from_validation
from app.domain.vocabulary import DeliveryStatus, IncidentStatus, TimelineKind
from app.models import Incident, TimelineEvent, WebhookDelivery
from app.runtime import Runtime, current
from app.schemas.incidents import TIME_FIELDS, IncidentCreate
from app.webhooks import alertmanager, generic, opsgenie, pagerduty
from app.webhooks.event import EventKind, IncidentEvent

from . import closing, deliveries
from .changes import incident_changed
from .deliveries import store_delivery
from .incidents import add_incident, open_postmortem

PARSERS: dict[str, Callable[[Any], list[IncidentEvent]]] = {
    "pagerduty": pagerduty.parse,
    "opsgenie": opsgenie.parse,
    "alertmanager": alertmanager.parse,
    "generic": generic.parse,
}
_STATUS = {
    EventKind.TRIGGERED: IncidentStatus.OPEN,
    EventKind.ACKNOWLEDGED: IncidentStatus.INVESTIGATING,
    # An escalation or a note says nobody has taken it yet, or adds words: no status change.
    EventKind.ESCALATED: IncidentStatus.OPEN,
    EventKind.ANNOTATED: IncidentStatus.OPEN,
    EventKind.RESOLVED: IncidentStatus.RESOLVED,
    EventKind.CLOSED: IncidentStatus.CLOSED,
}
_STATUS_RANK = {s: i for i, s in enumerate(IncidentStatus)}
_TIMELINE = {
    EventKind.TRIGGERED: TimelineKind.ALERT,
    EventKind.ACKNOWLEDGED: TimelineKind.ACKNOWLEDGEMENT,
    EventKind.ESCALATED: TimelineKind.ESCALATION,
    EventKind.ANNOTATED: TimelineKind.NOTE,
    EventKind.RESOLVED: TimelineKind.RESOLUTION,
    EventKind.CLOSED: TimelineKind.STATUS_CHANGE,
}


def intake_job(delivery_id: int) -> JobRequest:
    return JobRequest(process_delivery_job, (delivery_id,), f"intake-{delivery_id}", "default")


def process_delivery_job(delivery_id: int) -> None:
    """The job: turn one stored incident-source delivery into incident, timeline, postmortem."""
    process_delivery(current(), delivery_id)


def receive(
    runtime: Runtime, source: str, identifier: str, payload: dict[str, Any]
) -> tuple[int, bool]:
    events = PARSERS[source](payload)  # parse now: a bad payload is refused, not stored
    for event in events:
        _check_incident(event)
    when = min((e.occurred_at for e in events), default=None)
    return store_delivery(runtime, source, identifier, payload, intake_job, when)


def process_delivery(runtime: Runtime, delivery_id: int) -> str:
    """Apply one stored delivery; every delivery ends processed, ignored or failed."""
    return deliveries.process(runtime, delivery_id, _handle)


def _handle(uow: UnitOfWork, delivery: WebhookDelivery) -> tuple[DeliveryStatus, str | None]:
    events = PARSERS[delivery.source](delivery.payload)
    for event in events:
        incident = apply_event(uow.session, event)
        incident_changed(uow, incident)
        closing.prepare_review(uow, incident, actor=f"webhook:{event.source}")
    if not events:
        return DeliveryStatus.IGNORED, "no incident lifecycle event in the payload"
    return DeliveryStatus.PROCESSED, None


def apply_event(session: Session, event: IncidentEvent) -> Incident:
    actor = f"webhook:{event.source}"
    incident = session.scalar(
        select(Incident).where(
            Incident.source == event.source, Incident.external_id == event.external_id
        )
    )
    if incident is None:
        incident = add_incident(
            session,
            _new_incident(event),
            actor=actor,
            source=event.source,
            external_id=event.external_id,
        )
    before = {f: getattr(incident, f) for f in (*TIME_FIELDS, "status")}
    _advance(incident, event)
    if event.kind == EventKind.ACKNOWLEDGED:
        closing.note_commander(session, incident, event.actor)
    session.add(
        TimelineEvent(
            incident=incident,
            at=event.occurred_at,
            kind=_TIMELINE[event.kind].value,
            source=event.source,
            text=event.describe(),
            evidence_links=[event.url] if event.url else [],
        )
    )
    if incident.status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED):
        open_postmortem(session, incident)
    after = {f: getattr(incident, f) for f in before}
    audit.record(
        session,
        actor=actor,
        action=f"incident.event.{event.kind.value}",
        entity_type="incident",
        entity_key=incident.key or "",
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return incident


def _check_incident(event: IncidentEvent) -> None:
    """Refuse now (422) what the job would refuse later: an incident Hindsight cannot hold."""
    try:
        _new_incident(event)
    except ValidationError as exc:
        raise from_validation(exc, ("body", "incident")) from None


def _new_incident(event: IncidentEvent) -> IncidentCreate:
    return IncidentCreate(
        title=event.title[:300],
        severity=event.severity,
        summary=event.summary,
        services=list(event.services),
        tags=[event.source, *event.tags][:50],
        started_at=event.occurred_at,
        detected_at=event.occurred_at,
    )


def _advance(incident: Incident, event: IncidentEvent) -> None:
    """Move status forward only; keep the earliest detection and the latest resolution."""
    at = event.occurred_at
    new_status = _STATUS[event.kind]
    if _STATUS_RANK[new_status] > _STATUS_RANK[IncidentStatus(incident.status)]:
        incident.status = new_status.value
    if event.kind == EventKind.TRIGGERED:
        incident.started_at = min(filter(None, (incident.started_at, at)))
        incident.detected_at = min(filter(None, (incident.detected_at, at)))
    elif event.kind == EventKind.ACKNOWLEDGED:  # an escalation is the want of one
        incident.acknowledged_at = min(filter(None, (incident.acknowledged_at, at)))
    elif event.kind == EventKind.RESOLVED:
        incident.resolved_at = max(filter(None, (incident.resolved_at, at)))
    elif event.kind == EventKind.CLOSED:
        incident.closed_at = max(filter(None, (incident.closed_at, at)))
        incident.resolved_at = incident.resolved_at or at
    _keep_in_order(incident)


def _keep_in_order(incident: Incident) -> None:
    """Sources' clocks disagree by seconds; never store a detection after an acknowledgement."""
    floor: datetime | None = None
    for name in TIME_FIELDS:
        value = getattr(incident, name)
        if value is None:
            continue
        if floor is not None and value < floor:
            setattr(incident, name, floor)
        else:
            floor = value
