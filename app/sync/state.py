"""Small persistent sync state: named values (watermarks, cached identity) and leases."""

from __future__ import annotations

import json
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import Database, conflict_insert
from app.models import SyncState

from .models import SyncLease

PUSH_LEASE = "outbox-push"


def rowcount(result: Any) -> int:
    """Rows an UPDATE/DELETE touched (typed loosely: SQLAlchemy's Result hides it)."""
    return int(getattr(result, "rowcount", 0) or 0)


def get_value(session: Session, name: str) -> str | None:
    row = session.get(SyncState, name)
    return row.value if row else None


def set_value(session: Session, name: str, value: str) -> None:
    """Insert or overwrite in one statement: two workers writing a value that does not
    exist yet (the first reconcile's `last_run`, say) must not collide on the key."""
    insert = conflict_insert(session.get_bind().dialect.name)
    stmt = insert(SyncState).values(name=name, value=value)
    changed = {"value": value, "updated_at": datetime.now(UTC)}
    session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=changed))
    cached = session.identity_map.get(session.identity_key(SyncState, name))
    if cached is not None:  # the statement bypassed the ORM: reread on next access
        session.expire(cached)


def get_json(session: Session, name: str) -> Any:
    raw = get_value(session, name)
    return json.loads(raw) if raw else None


def set_json(session: Session, name: str, value: Any) -> None:
    set_value(session, name, json.dumps(value, sort_keys=True))


def owner_id() -> str:
    """Unique per process and call site, readable in `sync_leases` when debugging."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """An expiring row lock: `acquire` is one conditional UPDATE (or INSERT), so two
    processes racing for it on PostgreSQL or SQLite cannot both win."""

    def __init__(self, db: Database, name: str, seconds: float) -> None:
        self.db, self.name, self.seconds = db, name, seconds
        self.owner = owner_id()
        self.held = False

    def acquire(self) -> bool:
        now = datetime.now(UTC)
        until = now + timedelta(seconds=self.seconds)
        with self.db.sessions() as session, session.begin():
            taken = rowcount(
                session.execute(
                    update(SyncLease)
                    .where(
                        SyncLease.name == self.name,
                        or_(SyncLease.expires_at < now, SyncLease.owner == self.owner),
                    )
                    .values(owner=self.owner, expires_at=until)
                )
            )
            exists = taken or session.get(SyncLease, self.name) is not None
        if not exists:
            try:
                with self.db.sessions() as session, session.begin():
                    session.add(SyncLease(name=self.name, owner=self.owner, expires_at=until))
                taken = 1
            except IntegrityError:
                taken = 0
        self.held = bool(taken)
        return self.held

    def renew(self) -> bool:
        """False means another process took over: stop before the next tracker call."""
        if not self.held:
            return False
        return self.acquire()

    def release(self) -> None:
        if not self.held:
            return
        with self.db.sessions() as session, session.begin():
            session.execute(
                update(SyncLease)
                .where(SyncLease.name == self.name, SyncLease.owner == self.owner)
                .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
            )
        self.held = False
