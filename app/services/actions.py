"""Improvement actions: create under an incident, change by key, list across incidents."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app import audit
from app.domain.errors import field_error
from app.domain.vocabulary import ActionStatus
from app.models import Action
from app.runtime import Runtime
from app.schemas.actions import ActionCreate, ActionQuery, ActionRead, ActionUpdate
from app.schemas.common import Page

from .changes import action_changed
from .common import changed, load_action, load_incident, reject_nulls, snapshot
from .records import add_action, causes_of, set_status

_CLOSED = [s.value for s in ActionStatus if s.is_closed]


def to_read(action: Action) -> ActionRead:
    data: dict[str, Any] = {
        c: getattr(action, c) for c in ActionRead.model_fields if hasattr(Action, c)
    }
    data.update(
        incident_key=action.incident.key,
        cause_ids=[c.id for c in action.causes],
        history=action.history,
        validations=action.validations,
    )
    return ActionRead.model_validate(data)


def create_action(runtime: Runtime, key: str, data: ActionCreate, actor: str) -> ActionRead:
    with runtime.uow() as uow:
        incident = load_incident(uow.session, key)
        action = add_action(uow.session, incident, data, actor=actor)
        action_changed(uow, action)
        uow.commit()
        return to_read(action)


def get_action(runtime: Runtime, key: str) -> ActionRead:
    with runtime.db.sessions() as session:
        return to_read(load_action(session, key))


def _filtered(query: ActionQuery, session: Session) -> Select[Any]:
    stmt = select(Action)
    if query.status:
        stmt = stmt.where(Action.status == query.status.value)
    if query.owner:
        stmt = stmt.where(Action.owner == query.owner)
    if query.team:
        stmt = stmt.where(Action.team == query.team)
    if query.priority:
        stmt = stmt.where(Action.priority == query.priority.value)
    if query.incident:
        stmt = stmt.where(Action.incident_id == load_incident(session, query.incident).id)
    if query.overdue is not None:
        overdue = (Action.due_date < date.today()) & Action.status.not_in(_CLOSED)
        stmt = stmt.where(overdue if query.overdue else ~overdue | Action.due_date.is_(None))
    return stmt


def list_actions(runtime: Runtime, query: ActionQuery) -> Page[ActionRead]:
    from sqlalchemy import func

    with runtime.db.sessions() as session:
        stmt = _filtered(query, session)
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = session.scalars(
            stmt.order_by(Action.id).limit(query.limit).offset(query.offset)
        ).all()
        return Page[ActionRead](
            items=[to_read(r) for r in rows], total=total, limit=query.limit, offset=query.offset
        )


def update_action(runtime: Runtime, key: str, data: ActionUpdate, actor: str) -> ActionRead:
    with runtime.uow() as uow:
        action = load_action(uow.session, key, lock=True)
        before = {**snapshot(action), "cause_ids": [c.id for c in action.causes]}
        values = data.model_dump(
            exclude_unset=True, exclude={"status", "status_reason", "cause_ids"}
        )
        reject_nulls(Action, values)
        for name in ("cause_ids", "status"):
            if name in data.model_fields_set and getattr(data, name) is None:
                raise field_error(["body", name], "may not be null")
        for name, value in values.items():
            setattr(action, name, value)
        if "compliance_rule" in values:
            action.is_compliance = action.compliance_rule is not None
        if data.cause_ids is not None:
            action.causes = causes_of(uow.session, action.incident, data.cause_ids)
        if data.status is not None:
            set_status(uow.session, action, data.status, data.status_reason, actor=actor)
        old, new = changed(before, {**snapshot(action), "cause_ids": [c.id for c in action.causes]})
        if new:
            action.last_activity_at = datetime.now(UTC)
            audit.record(
                uow.session,
                actor=actor,
                action="action.update",
                entity_type="action",
                entity_key=action.key or key,
                before=old,
                after=new,
            )
            action_changed(uow, action)
        uow.commit()
        return to_read(action)
