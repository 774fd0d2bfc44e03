"""Reopening an incident: the one way back from resolved or closed.

A plain status write cannot move an incident backwards (the transition table
in `app.domain.transitions` refuses it with a 409 that names this use case),
because going back changes what the record says: the incident is no longer
resolved, so its resolution and close times are cleared (the audit entry
keeps them), its postmortem is a draft again (a published one no longer
describes the whole incident), and the timeline says when and why.
"""

from __future__ import annotations

from typing import Any

from app import audit
from app.domain.errors import Conflict
from app.domain.transitions import REOPENABLE
from app.domain.vocabulary import IncidentStatus, PostmortemStatus, TimelineKind
from app.models import Incident, TimelineEvent
from app.runtime import Runtime
from app.schemas.incidents import IncidentRead, IncidentReopen

from .changes import incident_changed, postmortem_changed
from .common import load_incident
from .incidents import to_read


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def _state(incident: Incident) -> dict[str, Any]:
    pm = incident.postmortem
    return {
        "status": incident.status,
        "resolved_at": _iso(incident.resolved_at),
        "closed_at": _iso(incident.closed_at),
        "postmortem_status": pm.status if pm else None,
        "published_at": _iso(pm.published_at) if pm else None,
    }


def reopen_incident(
    runtime: Runtime, *, key: str, data: IncidentReopen, actor: str
) -> IncidentRead:
    now = runtime.clock()
    with runtime.uow() as uow:
        incident = load_incident(uow.session, key, lock=True)
        current = IncidentStatus(incident.status)
        if current not in REOPENABLE:
            raise Conflict(
                f"{incident.key} is {current}; only a resolved or closed incident is reopened "
                "(change a live incident's status with PATCH)"
            )
        before = _state(incident)
        incident.status = data.status
        incident.resolved_at = incident.closed_at = None
        pm = incident.postmortem
        if pm is not None and pm.status != PostmortemStatus.DRAFT.value:
            pm.status, pm.published_at = PostmortemStatus.DRAFT.value, None
            postmortem_changed(uow, pm)
        uow.session.add(
            TimelineEvent(
                incident=incident,
                at=now,
                kind=TimelineKind.STATUS_CHANGE.value,
                source="hindsight",
                text=f"Reopened by {actor} ({current} -> {data.status}): {data.reason}",
            )
        )
        audit.record(
            uow.session,
            actor=actor,
            action="incident.reopen",
            entity_type="incident",
            entity_key=incident.key or key,
            before=before,
            after={**_state(incident), "reason": data.reason},
        )
        incident_changed(uow, incident)
        uow.commit()
        return to_read(uow.session, incident)
