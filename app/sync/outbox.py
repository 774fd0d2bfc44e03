"""Transactional outbox: the change and its 'send to tracker' row commit together.

A row is only a reminder that an entity changed; the push always sends the
entity's state at push time. So rows are never merged at write time (merging
could race with a push that already read the old state and lose the change);
the pusher coalesces all due rows of one entity into one tracker update.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.db import JobRequest, UnitOfWork
from app.models import OutboxItem
from app.settings import Settings

from .state import rowcount

PENDING, PROCESSING, DONE, DEAD = "pending", "processing", "done", "dead"
# One deterministic id for "push what is due": a transaction that touches an incident, its
# postmortem and 40 actions enqueues one job, not 42, and that job bulk-creates them all.
DRAIN_JOB = JobRequest("app.jobs.sync_drain", (), "sync-drain", "sync")


def record_change(
    uow: UnitOfWork, settings: Settings, entity_type: str, entity_id: int, entity_key: str
) -> None:
    """With no tracker configured, actions live in Hindsight alone: nothing to send."""
    if not settings.jira_enabled:
        return
    uow.session.add(OutboxItem(entity_type=entity_type, entity_id=entity_id, entity_key=entity_key))
    uow.after_commit(DRAIN_JOB)


def due_rows(session: Session, limit: int, now: datetime | None = None) -> list[OutboxItem]:
    now = now or datetime.now(UTC)
    return list(session.scalars(
        select(OutboxItem)
        .where(OutboxItem.status == PENDING, OutboxItem.next_attempt_at <= now)
        .order_by(OutboxItem.id)
        .limit(limit)
    ))


def count_due(session: Session, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    return session.scalar(
        select(func.count(OutboxItem.id))
        .where(OutboxItem.status == PENDING, OutboxItem.next_attempt_at <= now)
    ) or 0


def count_processing(session: Session) -> int:
    return session.scalar(
        select(func.count(OutboxItem.id)).where(OutboxItem.status == PROCESSING)
    ) or 0


def count_open(session: Session) -> int:
    """Rows not yet done or dead, whether due now or waiting for a back-off."""
    return session.scalar(
        select(func.count(OutboxItem.id)).where(OutboxItem.status.in_([PENDING, PROCESSING]))
    ) or 0


def release_stranded(session: Session) -> int:
    """Rows a killed pusher left in `processing`; only the lease holder may call this."""
    return rowcount(session.execute(
        update(OutboxItem).where(OutboxItem.status == PROCESSING).values(status=PENDING)
    ))


def mark(session: Session, ids: list[int], status: str, error: str | None = None) -> None:
    if ids:
        session.execute(
            update(OutboxItem).where(OutboxItem.id.in_(ids))
            .values(status=status, last_error=error, updated_at=datetime.now(UTC))
        )


def bury(
    session: Session, entity_type: str, entity_id: int, ids: list[int], error: str
) -> None:
    """Dead-letter `ids`, keeping one entry per entity: the push always sends the entity's
    current state, so an older failure of the same entity says nothing new."""
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.entity_type == entity_type, OutboxItem.entity_id == entity_id,
               OutboxItem.status == DEAD, OutboxItem.id.not_in(ids))
        .values(status=DONE, last_error="superseded by a later failure")
    )
    keep, rest = max(ids), [i for i in ids if i != max(ids)]
    mark(session, [keep], DEAD, error)
    mark(session, rest, DONE, "coalesced into the dead-letter entry")


def defer(
    session: Session, ids: list[int], delay: float, error: str, max_attempts: int
) -> int:
    """Back off; rows that used up their attempts go to the dead letter. Returns dead count."""
    dead = 0
    when = datetime.now(UTC) + timedelta(seconds=delay)
    for row in session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids))):
        row.attempts += 1
        row.last_error = error
        if row.attempts >= max_attempts:
            row.status = DEAD
            dead += 1
        else:
            row.status, row.next_attempt_at = PENDING, when
    return dead


def retry_dead(session: Session, row_id: int) -> OutboxItem | None:
    row = session.get(OutboxItem, row_id)
    if row is None:
        return None
    row.status, row.attempts, row.next_attempt_at = PENDING, 0, datetime.now(UTC)
    return row


def purge_done(session: Session, older_than: timedelta = timedelta(days=7)) -> int:
    """Done rows are only history; keep a week for debugging, then drop them."""
    cutoff = datetime.now(UTC) - older_than
    return rowcount(session.execute(
        delete(OutboxItem).where(OutboxItem.status == DONE, OutboxItem.updated_at < cutoff)
    ))
