"""Lookups and snapshots every service needs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, field_error
from app.models import Action, Incident

T = TypeVar("T", Incident, Action)


def load_incident(session: Session, key: str, *, lock: bool = False) -> Incident:
    """The incident by key; `lock` takes its row lock first (see `_lock`)."""
    return _load(session, Incident, key, "incident", lock)


def load_action(session: Session, key: str, *, lock: bool = False) -> Action:
    """The action by key; `lock` takes its row lock first (see `_lock`)."""
    return _load(session, Action, key, "action", lock)


def _load(session: Session, model: type[T], key: str, noun: str, lock: bool) -> T:
    if "\x00" in key or len(key) > 64:  # no stored key looks like this; PostgreSQL refuses NUL
        raise NotFound(f"no {noun} {key[:64]!r}")
    if lock:
        _lock(session, model, key.upper())
    stmt = select(model).where(model.key == key.upper())  # type: ignore[attr-defined]
    if lock:
        stmt = stmt.execution_options(populate_existing=True)
    found = session.scalar(stmt)
    if found is None:
        raise NotFound(f"no {noun} {key}")
    return found


def _lock(session: Session, model: type[Any], key: str) -> None:
    """Serialise writers of one row before anything is read from it.

    Two requests moving the same action (open -> done, open -> blocked) must not
    both judge the move against the same old status. PostgreSQL takes the row
    lock (FOR UPDATE); SQLite has no row locks, and Python's driver only begins
    a transaction at the first write, so a no-op UPDATE takes the write lock and
    the read that follows sees the latest committed row.
    """
    table = model.__table__
    if session.get_bind().dialect.name == "sqlite":
        session.execute(table.update().where(table.c.key == key).values(key=table.c.key))
    else:
        session.execute(select(table.c.id).where(table.c.key == key).with_for_update())


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
