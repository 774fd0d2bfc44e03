"""Timeline, evidence, participants and causes: the records under an incident.

They share one shape (add, list, change, remove, each audited and each
re-evaluating the incident), so one set of functions serves all four and a
`Part` describes what differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.domain.errors import NotFound, field_error
from app.domain.vocabulary import TimelineKind
from app.models import Base, Cause, Evidence, Incident, Participant, TimelineEvent
from app.runtime import Runtime
from app.schemas.analysis import CauseRead, EvidenceRead, ParticipantRead, TimelineEventRead

from .changes import incident_changed
from .common import changed, load_incident, reject_nulls, snapshot


@dataclass(frozen=True)
class Part:
    name: str
    model: type[Base]
    read: type[BaseModel]


TIMELINE = Part("timeline_event", TimelineEvent, TimelineEventRead)
EVIDENCE = Part("evidence", Evidence, EvidenceRead)
PARTICIPANT = Part("participant", Participant, ParticipantRead)
CAUSE = Part("cause", Cause, CauseRead)


def _order(part: Part) -> Any:
    model: Any = part.model
    return (model.at, model.id) if part is TIMELINE else (model.id,)


def list_parts(runtime: Runtime, key: str, part: Part) -> list[BaseModel]:
    model: Any = part.model
    with runtime.db.sessions() as session:
        incident = load_incident(session, key)
        rows = session.scalars(
            select(model).where(model.incident_id == incident.id).order_by(*_order(part))
        ).all()
        return [part.read.model_validate(r) for r in rows]


def _load_part(session: Session, incident: Incident, part: Part, part_id: int) -> Any:
    row: Any = session.get(part.model, part_id)
    if row is None or row.incident_id != incident.id:
        raise NotFound(f"{incident.key} has no {part.name} {part_id}")
    return row


def _check_references(session: Session, incident: Incident, values: dict[str, Any]) -> None:
    """Causes may only point at this incident's causes and evidence, and never form a loop."""
    if values.get("parent_id") is not None:
        parent = session.get(Cause, values["parent_id"])
        if parent is None or parent.incident_id != incident.id:
            raise field_error(
                ["body", "parent_id"], f"{incident.key} has no cause {values['parent_id']}"
            )
    for i, ev_id in enumerate(values.get("evidence_ids") or []):
        ev = session.get(Evidence, ev_id)
        if ev is None or ev.incident_id != incident.id:
            raise field_error(
                ["body", "evidence_ids", i], f"{incident.key} has no evidence {ev_id}"
            )


def _check_obligation(runtime: Runtime, values: dict[str, Any], row: Any = None) -> None:
    """A notification names an obligation the policy defines, or its clock never sees it."""
    obligation = values.get("obligation", getattr(row, "obligation", None))
    if obligation is None:
        return
    kind = values.get("kind", getattr(row, "kind", None))
    if kind != TimelineKind.NOTIFICATION.value:
        raise field_error(["body", "obligation"], "only a notification event names an obligation")
    known = sorted(
        ob.id for items in runtime.policy.compliance.obligations.values() for ob in items
    )
    if obligation not in known:
        raise field_error(
            ["body", "obligation"],
            f"no obligation {obligation!r} in the policy; known: {', '.join(known) or 'none'}",
        )


def _check_no_cycle(session: Session, cause: Cause) -> None:
    seen, node = {cause.id}, cause.parent_id
    while node is not None:
        if node in seen:
            raise field_error(["body", "parent_id"], "a cause cannot be its own ancestor")
        seen.add(node)
        parent = session.get(Cause, node)
        node = parent.parent_id if parent else None


def add_part(runtime: Runtime, key: str, part: Part, data: BaseModel, actor: str) -> BaseModel:
    with runtime.uow() as uow:
        incident = load_incident(uow.session, key)
        values = data.model_dump()
        _check_references(uow.session, incident, values)
        if part is TIMELINE:
            _check_obligation(runtime, values)
        row: Any = part.model(**values, incident_id=incident.id)
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow.session,
            actor=actor,
            action=f"{part.name}.create",
            entity_type=part.name,
            entity_key=f"{incident.key}/{row.id}",
            after=snapshot(row),
        )
        incident_changed(uow, incident)
        uow.commit()
        return part.read.model_validate(row)


def update_part(
    runtime: Runtime, key: str, part: Part, part_id: int, data: BaseModel, actor: str
) -> BaseModel:
    with runtime.uow() as uow:
        incident = load_incident(uow.session, key)
        row = _load_part(uow.session, incident, part, part_id)
        values = data.model_dump(exclude_unset=True)
        reject_nulls(part.model, values)
        _check_references(uow.session, incident, values)
        if part is TIMELINE:
            _check_obligation(runtime, values, row)
        before = snapshot(row)
        for name, value in values.items():
            setattr(row, name, value)
        if part is CAUSE:
            _check_no_cycle(uow.session, row)
        old, new = changed(before, snapshot(row))
        if new:
            audit.record(
                uow.session,
                actor=actor,
                action=f"{part.name}.update",
                entity_type=part.name,
                entity_key=f"{incident.key}/{row.id}",
                before=old,
                after=new,
            )
            incident_changed(uow, incident)
        uow.commit()
        return part.read.model_validate(row)


def delete_part(runtime: Runtime, key: str, part: Part, part_id: int, actor: str) -> None:
    with runtime.uow() as uow:
        incident = load_incident(uow.session, key)
        row = _load_part(uow.session, incident, part, part_id)
        audit.record(
            uow.session,
            actor=actor,
            action=f"{part.name}.delete",
            entity_type=part.name,
            entity_key=f"{incident.key}/{row.id}",
            before=snapshot(row),
        )
        # audit.record took the log's head, so writers take turns from here: a request that
        # waited for one deleting the same row finds it gone (404), not deleted twice.
        table: Any = part.model.__table__
        if uow.session.scalar(select(table.c.id).where(table.c.id == row.id)) is None:
            raise NotFound(f"{incident.key} has no {part.name} {part_id}")
        uow.session.delete(row)
        incident_changed(uow, incident)
        uow.commit()
