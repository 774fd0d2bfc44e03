"""Append-only, hash-chained audit log.

Each entry's hash covers its own content and the previous entry's hash, and
the head row records the last sequence number, so editing, deleting or
truncating any entry breaks verification at a precise place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from .models import AuditEntry, AuditHead

GENESIS = "0" * 64
# Core statements on the table, not the ORM: the same two statements run on every write,
# and the ORM's bulk-update machinery would cost more than the write itself.
_HEAD_TABLE: Table = AuditHead.__table__  # type: ignore[assignment]
_HEAD = (
    select(_HEAD_TABLE.c.last_seq, _HEAD_TABLE.c.last_hash)
    .where(_HEAD_TABLE.c.id == 1)
    .with_for_update()
)
_ENTRY_TABLE: Table = AuditEntry.__table__  # type: ignore[assignment]
_ENTRY_COLUMNS = [c.name for c in _ENTRY_TABLE.columns if c.name != "id"]
_INSERT = _ENTRY_TABLE.insert()
# Written before it is read: on SQLite the driver opens the write transaction only at the
# first write, so a head read first could be stale by the time the entry is inserted (two
# writers, one seq: a UNIQUE failure). On PostgreSQL the update takes the row lock as well.
_TAKE_HEAD = (
    _HEAD_TABLE.update().where(_HEAD_TABLE.c.id == 1).values(last_seq=_HEAD_TABLE.c.last_seq)
)
_MOVE_HEAD = (
    _HEAD_TABLE.update()
    .where(_HEAD_TABLE.c.id == 1)
    .values(last_seq=bindparam("seq"), last_hash=bindparam("hash"))
)


def _jsonable(value: Any) -> Any:
    """Store exactly what was hashed: round-trip through JSON first."""
    return None if value is None else json.loads(json.dumps(value, default=str, sort_keys=True))


def _digest(entry: AuditEntry) -> str:
    body = json.dumps(
        {
            "seq": entry.seq,
            "at": entry.at.astimezone(UTC).isoformat(),
            "actor": entry.actor,
            "action": entry.action,
            "entity_type": entry.entity_type,
            "entity_key": entry.entity_key,
            "before": entry.before,
            "after": entry.after,
            "prev": entry.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_key: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's transaction (locks the head row)."""
    session.execute(_TAKE_HEAD)
    last_seq, last_hash = session.execute(_HEAD).one()
    entry = AuditEntry(
        seq=last_seq + 1,
        at=datetime.now(UTC),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_key=entity_key,
        before=_jsonable(before),
        after=_jsonable(after),
        prev_hash=last_hash,
    )
    entry.hash = _digest(entry)
    # Core, not the ORM unit of work: the same two statements on every write, cheap to repeat.
    session.execute(_INSERT, {c: getattr(entry, c) for c in _ENTRY_COLUMNS})
    session.execute(_MOVE_HEAD, {"seq": entry.seq, "hash": entry.hash})
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str | None = None


def verify(session: Session, batch: int = 1000) -> VerifyResult:
    """Walk the chain in order; stream in batches so a long log needs little memory."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq, "entry missing or reordered")
            if entry.prev_hash != expected_prev:
                return VerifyResult(False, checked, entry.seq, "link to previous entry broken")
            if _digest(entry) != entry.hash:
                return VerifyResult(False, checked, entry.seq, "entry content was altered")
            expected_prev, expected_seq = entry.hash, expected_seq + 1
            checked += 1
            last_id = entry.id
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is None or head.last_seq != checked or head.last_hash != expected_prev:
        return VerifyResult(False, checked, checked + 1, "entries removed from the end")
    return VerifyResult(True, checked)
