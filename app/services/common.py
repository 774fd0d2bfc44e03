"""Lookups and snapshots every service needs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, field_error
from app.models import Action, Incident


def load_incident(session: Session, key: str) -> Incident:
    incident = session.scalar(select(Incident).where(Incident.key == key.upper()))
    if incident is None:
        raise NotFound(f"no incident {key}")
    return incident


def load_action(session: Session, key: str) -> Action:
    action = session.scalar(select(Action).where(Action.key == key.upper()))
    if action is None:
        raise NotFound(f"no action {key}")
    return action


_SKIP = {"id", "created_at", "updated_at", "incident_id"}


def snapshot(obj: Any) -> dict[str, Any]:
    """Column values for the audit log's before/after."""
    out: dict[str, Any] = {}
    for attr in sa_inspect(obj).mapper.column_attrs:
        if attr.key in _SKIP:
            continue
        value = getattr(obj, attr.key)
        out[attr.key] = value.isoformat() if isinstance(value, date | datetime) else value
    return out


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, so audit entries stay readable."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def reject_nulls(model: type[Any], values: dict[str, Any]) -> None:
    """PATCH may clear optional fields, never required ones: answer 422, not a database error."""
    columns = model.__table__.columns
    for name, value in values.items():
        if value is None and name in columns and not columns[name].nullable:
            raise field_error(["body", name], "may not be null")
