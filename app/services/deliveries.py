"""The webhook inbox shared by every source (Jira and the incident sources).

A delivery is stored unique on (source, delivery id) and committed before
any work, and its job is requested only after that commit, so a worker can
never pick up a delivery it cannot see and a retry from the sender is
answered without effect. If enqueueing fails, the sweep finds the row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import JobRequest, UnitOfWork, conflict_insert
from app.domain.errors import Conflict, DomainError, NotFound
from app.domain.vocabulary import DeliveryStatus
from app.models import WebhookDelivery
from app.runtime import Runtime
from app.schemas.common import Page
from app.schemas.deliveries import DeliveryQuery, DeliveryRead
from app.webhooks.event import PayloadError

log = logging.getLogger(__name__)
_DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[assignment]


def _existing(runtime: Runtime, source: str, identifier: str) -> int | None:
    with runtime.db.sessions() as session:
        return session.scalar(
            select(WebhookDelivery.id).where(
                WebhookDelivery.source == source, WebhookDelivery.delivery_id == identifier
            )
        )


def store_delivery(
    runtime: Runtime,
    source: str,
    identifier: str,
    payload: dict[str, Any],
    job: Callable[[int], JobRequest],
    event_time: datetime | None = None,
) -> tuple[int, bool]:
    """Persist one delivery; returns (id, is_duplicate).

    One statement, committed on its own (autocommit): `INSERT ... ON CONFLICT
    (source, delivery_id) DO NOTHING RETURNING id`. The unique constraint is the
    duplicate check, and a single-statement transaction is as atomic and durable
    as BEGIN/INSERT/COMMIT while costing one database round trip instead of three
    (this is most of what a delivery costs). No row back means the delivery was
    already stored (a retry, or the same delivery racing in on another
    connection, which the insert waits for): its id is looked up. The job is
    dispatched only after the insert returns, i.e. after the commit, and without
    the request waiting on the queue (`dispatch_soon`); a lost dispatch is found
    again by the sweep, as before.
    """
    row = {
        "source": source,
        "delivery_id": identifier,
        "payload": payload,
        "event_time": event_time,
        "status": DeliveryStatus.PENDING.value,
    }
    with runtime.db.autocommit() as conn:
        new_id = conn.execute(_insert_new(conn.dialect.name), row).scalar()
    if new_id is None:
        found = _existing(runtime, source, identifier)
        if found is None:  # stored and gone again between the two statements: refuse
            raise Conflict(f"delivery {source}/{identifier} could not be stored; retry it")
        return found, True
    runtime.queue.dispatch_soon([job(new_id)])
    return int(new_id), False


def _insert_new(dialect: str) -> Any:
    """The dialect's INSERT ... ON CONFLICT DO NOTHING RETURNING id (PostgreSQL, SQLite)."""
    return (
        conflict_insert(dialect)(_DELIVERIES)
        .on_conflict_do_nothing(index_elements=["source", "delivery_id"])
        .returning(_DELIVERIES.c.id)
    )


def pending_deliveries(
    session: Session, sources: Collection[str], older_than: datetime, limit: int = 500
) -> list[int]:
    """Deliveries still waiting for their job, oldest first, for the sweep."""
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.source.in_(list(sources)),
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.received_at <= older_than,
                or_(
                    WebhookDelivery.next_attempt_at.is_(None),
                    WebhookDelivery.next_attempt_at <= datetime.now(UTC),
                ),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )


def claim(session: Session, delivery_id: int) -> WebhookDelivery | None:
    """Move one delivery from pending to processing, in the caller's transaction.

    The conditional UPDATE is the claim: of two jobs for the same delivery (a
    sweep re-enqueue racing the original, two workers) exactly one sees a row
    changed and goes on; the other gets None and leaves it alone.
    """
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.PROCESSING.value)
    )
    if not getattr(result, "rowcount", 0):
        return None
    return session.get(WebhookDelivery, delivery_id, populate_existing=True)


def finish(delivery: WebhookDelivery, status: DeliveryStatus, note: str | None = None) -> None:
    """Record how a claimed delivery ended; `note` says why it was ignored or failed."""
    delivery.status = status.value
    delivery.error = note
    delivery.processed_at = datetime.now(UTC)


MAX_ATTEMPTS = 8
_CONFLICT_RETRIES = 2
_BACKOFF_CAP = timedelta(hours=1)
Handler = Callable[[UnitOfWork, WebhookDelivery], tuple[DeliveryStatus, str | None]]
# Errors no retry can fix: the payload itself is refused. Anything else (a lost
# connection, a lock timeout, two deliveries creating one incident) is retried.
PERMANENT: tuple[type[Exception], ...] = (DomainError, PayloadError, ValidationError)


def process(runtime: Runtime, delivery_id: int, handle: Handler) -> str:
    """Claim, handle and finish one delivery, so that every delivery ends.

    The claim and the work share one transaction: if the work fails, both roll
    back and the failure is recorded in a transaction of its own. A refused
    payload ends `failed` at once with the reason; anything else is tried again
    by the sweep with a growing delay, and ends `failed` after MAX_ATTEMPTS.
    """
    try:
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                return _process_once(runtime, delivery_id, handle)
            except IntegrityError:
                # Another delivery created the same row (two events for one new incident
                # arriving together); that row is committed now, so run again and find it.
                if attempt == _CONFLICT_RETRIES:
                    raise
        raise AssertionError("unreachable")
    except PERMANENT as exc:
        return _record_failure(runtime, delivery_id, _describe(exc), permanent=True)
    except Exception as exc:
        log.warning("delivery %s failed; it will be retried", delivery_id, exc_info=True)
        return _record_failure(runtime, delivery_id, _describe(exc), permanent=False)


def _process_once(runtime: Runtime, delivery_id: int, handle: Handler) -> str:
    with runtime.uow() as uow:
        delivery = claim(uow.session, delivery_id)
        if delivery is None:
            return "not pending"
        status, note = handle(uow, delivery)
        finish(delivery, status, note)
        uow.commit()
        return status.value


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:2000]


def _record_failure(runtime: Runtime, delivery_id: int, error: str, *, permanent: bool) -> str:
    with runtime.uow() as uow:
        delivery = uow.session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return "missing"
        delivery.attempts += 1
        delivery.error = error
        if permanent or delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED.value
            delivery.processed_at = datetime.now(UTC)
        else:
            delay = min(timedelta(seconds=5 * 2 ** (delivery.attempts - 1)), _BACKOFF_CAP)
            delivery.status = DeliveryStatus.PENDING.value
            delivery.next_attempt_at = datetime.now(UTC) + delay
        uow.commit()
        return delivery.status


def replay(
    runtime: Runtime, delivery_id: int, job_for: Callable[[str], Callable[[int], JobRequest]]
) -> WebhookDelivery:
    """A failed (or ignored) delivery back to pending, after a fix: its source's job runs again."""
    with runtime.uow() as uow:
        delivery = uow.session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            raise NotFound(f"no delivery {delivery_id}")
        if delivery.status not in {DeliveryStatus.FAILED.value, DeliveryStatus.IGNORED.value}:
            raise Conflict(
                f"delivery {delivery_id} is {delivery.status}; only failed or ignored replay"
            )
        delivery.status = DeliveryStatus.PENDING.value
        delivery.attempts, delivery.next_attempt_at, delivery.error = 0, None, None
        uow.after_commit(job_for(delivery.source)(delivery.id))
        uow.commit()
        return delivery


def list_deliveries(runtime: Runtime, query: DeliveryQuery) -> Page[DeliveryRead]:
    """Newest first; `status=failed` is the inbox's dead letter."""
    stmt = select(WebhookDelivery)
    if query.status is not None:
        stmt = stmt.where(WebhookDelivery.status == query.status.value)
    if query.source is not None:
        stmt = stmt.where(WebhookDelivery.source == query.source)
    with runtime.db.sessions() as session:
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = session.scalars(
            stmt.order_by(WebhookDelivery.id.desc()).limit(query.limit).offset(query.offset)
        ).all()
        return Page[DeliveryRead](
            items=[DeliveryRead.model_validate(r) for r in rows],
            total=total,
            limit=query.limit,
            offset=query.offset,
        )
