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

from app.models import Action, Incident, OutboxItem, Postmortem

from .retry import Backoff
from .state import rowcount

PENDING, PROCESSING, DONE, DEAD = "pending", "processing", "done", "dead"


def add(session: Session, entity_type: str, entity_id: int, entity_key: str) -> None:
    """A reminder that the entity changed, in the caller's transaction."""
    session.add(OutboxItem(entity_type=entity_type, entity_id=entity_id, entity_key=entity_key))


CLOSED_ACTIONS = ("done", "verified", "wont_do")


def _queued(session: Session, entity_type: str, ids: list[int]) -> set[int]:
    """Which of `ids` already have a row on its way (only those ids are read: the whole
    queue can hold thousands of rows, and this runs on every change of an incident)."""
    if not ids:
        return set()
    return set(
        session.scalars(
            select(OutboxItem.entity_id).where(
                OutboxItem.entity_type == entity_type,
                OutboxItem.entity_id.in_(ids),
                OutboxItem.status.in_([PENDING, PROCESSING]),
            )
        )
    )


def unmirrored(
    session: Session, incident: Incident, *, closed_actions: bool = True
) -> list[tuple[str, int, str]]:
    """The incident's entities with no tracker issue and no row on its way: whatever path
    created them (an import, the demo, a webhook that opened the postmortem), the next
    change of the incident queues them. Closed actions only if `closed_actions`."""
    out: list[tuple[str, int, str]] = []
    pm: Postmortem | None = incident.postmortem
    if (
        pm is not None
        and pm.id is not None
        and pm.tracker_key is None
        and not _queued(session, "postmortem", [pm.id])
    ):
        out.append(("postmortem", pm.id, incident.key or ""))
    actions = [
        a
        for a in incident.actions
        if a.id is not None
        and a.tracker_key is None
        and not a.tracker_deleted
        and (closed_actions or a.status not in CLOSED_ACTIONS)
    ]
    if actions:
        queued = _queued(session, "action", [a.id for a in actions])
        out += [("action", a.id, a.key or "") for a in actions if a.id not in queued]
    return out


def not_mirrored(session: Session, *, closed_actions: bool = True) -> dict[str, int]:
    """For `sync status`: entities with no tracker issue yet, by type."""
    counts = {}
    for name, model in (("incident", Incident), ("postmortem", Postmortem), ("action", Action)):
        stmt = select(func.count(model.id)).where(model.tracker_key.is_(None))
        if model is Action:
            stmt = stmt.where(Action.tracker_deleted.is_(False))
            if not closed_actions:
                stmt = stmt.where(Action.status.not_in(CLOSED_ACTIONS))
        counts[name] = session.scalar(stmt) or 0
    return counts


def due_rows(session: Session, limit: int, now: datetime | None = None) -> list[OutboxItem]:
    now = now or datetime.now(UTC)
    return list(
        session.scalars(
            select(OutboxItem)
            .where(OutboxItem.status == PENDING, OutboxItem.next_attempt_at <= now)
            .order_by(OutboxItem.id)
            .limit(limit)
        )
    )


def count_due(session: Session, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    return (
        session.scalar(
            select(func.count(OutboxItem.id)).where(
                OutboxItem.status == PENDING, OutboxItem.next_attempt_at <= now
            )
        )
        or 0
    )


def seconds_to_next_due(session: Session, now: datetime | None = None) -> float | None:
    """How long until the earliest pending row is due (0 if one is due now; None: none)."""
    now = now or datetime.now(UTC)
    when = session.scalar(
        select(func.min(OutboxItem.next_attempt_at)).where(OutboxItem.status == PENDING)
    )
    if when is None:
        return None
    return max(0.0, (when - now).total_seconds())


def count_processing(session: Session) -> int:
    return (
        session.scalar(select(func.count(OutboxItem.id)).where(OutboxItem.status == PROCESSING))
        or 0
    )


def release_stranded(session: Session) -> int:
    """Rows a killed pusher left in `processing`; only the lease holder may call this."""
    return rowcount(
        session.execute(
            update(OutboxItem).where(OutboxItem.status == PROCESSING).values(status=PENDING)
        )
    )


def mark(session: Session, ids: list[int], status: str, error: str | None = None) -> None:
    if ids:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(ids))
            .values(status=status, last_error=error, updated_at=datetime.now(UTC))
        )


def bury(session: Session, entity_type: str, entity_id: int, ids: list[int], error: str) -> None:
    """Dead-letter `ids`, keeping one entry per entity: the push always sends the entity's
    current state, so an older failure of the same entity says nothing new."""
    session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.entity_type == entity_type,
            OutboxItem.entity_id == entity_id,
            OutboxItem.status == DEAD,
            OutboxItem.id.not_in(ids),
        )
        .values(status=DONE, last_error="superseded by a later failure")
    )
    keep, rest = max(ids), [i for i in ids if i != max(ids)]
    mark(session, [keep], DEAD, error)
    mark(session, rest, DONE, "coalesced into the dead-letter entry")


def _entities(session: Session, ids: list[int]) -> dict[tuple[str, int], list[OutboxItem]]:
    by_entity: dict[tuple[str, int], list[OutboxItem]] = {}
    for row in session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids))):
        by_entity.setdefault((row.entity_type, row.entity_id), []).append(row)
    return by_entity


def defer(
    session: Session,
    ids: list[int],
    delay: float,
    error: str,
    backoff: Backoff,
    now: datetime | None = None,
) -> int:
    """Count a failed attempt and back off. An entity whose rows have been failing for the
    backoff's horizon since the first failure goes to the dead letter instead (its oldest
    failure counts for all its rows: the push sends the entity, not a row). Returns how
    many entities did."""
    now = now or datetime.now(UTC)
    dead = 0
    for (entity_type, entity_id), rows in _entities(session, ids).items():
        first = min((r.first_failed_at for r in rows if r.first_failed_at), default=now)
        for row in rows:
            row.attempts += 1
            row.last_error, row.first_failed_at = error, first
            row.status, row.next_attempt_at = PENDING, now + timedelta(seconds=delay)
        if backoff.expired(first):
            session.flush()
            hours = (now - first).total_seconds() / 3600
            bury(
                session,
                entity_type,
                entity_id,
                [r.id for r in rows],
                f"still failing after {hours:.1f} h: {error}",
            )
            dead += 1
    return dead


def postpone(
    session: Session, ids: list[int], delay: float, note: str, now: datetime | None = None
) -> None:
    """Wait without counting an attempt: these rows were not what failed, the tracker
    was busy with another row's call (a 429 or 503 stops the whole round)."""
    if ids:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(ids))
            .values(
                status=PENDING,
                last_error=note,
                next_attempt_at=(now or datetime.now(UTC)) + timedelta(seconds=delay),
            )
        )


def postpone_many(session: Session, waits: list[tuple[list[int], datetime, str]]) -> None:
    """`postpone` for many entities at once, each with its own time and note: one
    executemany by primary key instead of an UPDATE per entity at the end of a round."""
    params = [
        {"id": row_id, "status": PENDING, "last_error": note, "next_attempt_at": at}
        for ids, at, note in waits
        for row_id in ids
    ]
    if params:
        session.execute(update(OutboxItem), params)


def hold_until(
    session: Session, until: datetime, note: str, backoff: Backoff, now: datetime
) -> tuple[int, int]:
    """The breaker is open: every pending row due before `until` waits for it, with no
    attempt counted. The outage still counts towards the horizon (a row that could not
    be delivered since then is failing), so a Jira down for longer than the horizon
    dead-letters what it kept out. Returns (rows held, entities dead-lettered)."""
    waiting = OutboxItem.status == PENDING
    session.execute(
        update(OutboxItem)
        .where(waiting, OutboxItem.first_failed_at.is_(None), OutboxItem.next_attempt_at <= now)
        .values(first_failed_at=now)
    )
    dead = 0
    expired = list(
        session.scalars(
            select(OutboxItem.id).where(
                waiting, OutboxItem.first_failed_at <= now - backoff.horizon
            )
        )
    )
    for (entity_type, entity_id), rows in _entities(session, expired).items():
        bury(session, entity_type, entity_id, [r.id for r in rows], f"tracker down: {note}")
        dead += 1
    held = rowcount(
        session.execute(
            update(OutboxItem)
            .where(waiting, OutboxItem.next_attempt_at < until)
            .values(next_attempt_at=until, last_error=note)
        )
    )
    return held, dead


def retry_dead(session: Session, row_id: int) -> OutboxItem | None:
    row = session.get(OutboxItem, row_id)
    if row is None:
        return None
    row.status, row.attempts, row.next_attempt_at = PENDING, 0, datetime.now(UTC)
    row.first_failed_at = None
    return row


def count_waiting(session: Session) -> dict[str, int]:
    """For /healthz and /metrics: rows on their way (pending or in a push) and dead."""
    counts = dict(
        session.execute(
            select(OutboxItem.status, func.count())
            .where(OutboxItem.status.in_([PENDING, PROCESSING, DEAD]))
            .group_by(OutboxItem.status)
        ).all()
    )
    waiting = counts.get(PENDING, 0) + counts.get(PROCESSING, 0)
    return {"waiting": waiting, "dead": counts.get(DEAD, 0)}


def purge_done(session: Session, older_than: timedelta = timedelta(days=7)) -> int:
    """Done rows are only history; keep a week for debugging, then drop them."""
    cutoff = datetime.now(UTC) - older_than
    return rowcount(
        session.execute(
            delete(OutboxItem).where(OutboxItem.status == DONE, OutboxItem.updated_at < cutoff)
        )
    )
