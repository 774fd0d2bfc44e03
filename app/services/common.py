"""Lookups and snapshots every service needs."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import String, Table, bindparam, cast, func, literal, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.session import make_transient_to_detached

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
    lock (FOR NO KEY UPDATE: writers of the row wait, a foreign key check from a
    row that refers to it does not, so two writers never deadlock over a child
    row and the audit head); SQLite has no row locks, and Python's driver only
    begins a transaction at the first write, so a no-op UPDATE takes the write
    lock and the read that follows sees the latest committed row.
    """
    table = model.__table__
    if session.get_bind().dialect.name == "sqlite":
        session.execute(table.update().where(table.c.key == key).values(key=table.c.key))
    else:
        session.execute(
            select(table.c.id).where(table.c.key == key).with_for_update(key_share=True)
        )


def insert_new(
    session: Session,
    model: type[T],
    values: dict[str, Any],
    empty: tuple[str, ...],
    *,
    key_prefix: str | None = None,
) -> T:
    """Insert one row with Core and hand back the ORM object, persistent, without a flush.

    The ORM's unit of work costs more than the insert itself on the API's hottest
    path (creating an incident), and the object's state is all known here: every
    column is the value given or the column's Python default, exactly what a flush
    would have written, and the relationships named in `empty` are empty, since
    nothing can point at a row this transaction has only just inserted. Any other
    relationship loads on first access, as it would after a flush.

    `key_prefix` gives the row its key, the prefix and its own id (`INC-42`), in the
    same INSERT, rather than by an UPDATE once the id is known (see `_keyed_insert`).
    """
    table: Table = model.__table__  # type: ignore[assignment]
    row = dict(values)
    for column in table.columns:
        if column.primary_key or column.key in row:
            continue
        default = column.default
        if default is None:
            row[column.key] = None
        elif default.is_callable:
            row[column.key] = default.arg(None)  # type: ignore[attr-defined]
        elif default.is_scalar:
            row[column.key] = default.arg  # type: ignore[attr-defined]
        else:  # a SQL expression default: not used by these tables, so not guessed at
            raise TypeError(f"{table.name}.{column.key} has a default only the database knows")
    pk, insert, lists = _inserting(model)
    if key_prefix is not None:
        row.pop("key", None)
        insert = _keyed_insert(model, key_prefix, session.get_bind().dialect.name)
    row_id = session.execute(insert, row).scalar_one()
    if key_prefix is not None:
        row["key"] = f"{key_prefix}{row_id}"
    obj = model(**{pk: row_id, **row})
    make_transient_to_detached(obj)
    for name in empty:
        set_committed_value(obj, name, [] if name in lists else None)
    session.add(obj)
    return obj


@cache
def _inserting(model: type[Any]) -> tuple[str, Any, frozenset[str]]:
    """The primary key's name, the INSERT ... RETURNING it, and the list relationships."""
    table: Table = model.__table__
    (pk,) = table.primary_key.columns
    lists = frozenset(r.key for r in sa_inspect(model).relationships if r.uselist)
    return pk.key, table.insert().returning(pk), lists


@cache
def _keyed_insert(model: type[Any], prefix: str, dialect: str) -> Any:
    """INSERT ... SELECT the next id and the key made from it, RETURNING the id.

    The id is chosen in the statement itself: on PostgreSQL the column's own
    sequence (`nextval`, as the default would have), on SQLite `max(id) + 1`,
    which is how SQLite picks a rowid for a table without AUTOINCREMENT, under
    the write lock the INSERT takes before it reads. Every other column is a
    typed bind parameter named after the column, as in `_inserting`.
    """
    table: Table = model.__table__
    (pk,) = table.primary_key.columns
    if dialect == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, pk.name)
        next_id = select(func.nextval(sequence).label("n")).subquery()
    else:
        next_id = select((func.coalesce(func.max(pk), 0) + 1).label("n")).subquery()
    rest = [c for c in table.columns if c is not pk and c.key != "key"]
    values: list[Any] = [bindparam(c.key, type_=c.type) for c in rest]
    if dialect == "postgresql":
        # A parameter in a SELECT list has no column to take its type from there; on SQLite a
        # CAST would do harm (CAST AS DATETIME is numeric affinity: '2026-01-01 ...' -> 2026).
        values = [cast(v, c.type) for v, c in zip(values, rest, strict=True)]
    chosen = select(next_id.c.n, literal(prefix, String) + cast(next_id.c.n, String), *values)
    return table.insert().from_select([pk, table.c.key, *rest], chosen).returning(pk)


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
