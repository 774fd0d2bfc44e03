"""The webhook inbox shared by every source (Jira and the incident sources).

A delivery is stored unique on (source, delivery id) and committed before
any work, and its job is requested only after that commit, so a worker can
never pick up a delivery it cannot see and a retry from the sender is
answered without effect. If enqueueing fails, the sweep finds the row.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import JobRequest
from app.domain.vocabulary import DeliveryStatus
from app.models import WebhookDelivery
from app.runtime import Runtime


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
    """Persist one delivery; returns (id, is_duplicate)."""
    found = _existing(runtime, source, identifier)
    if found is not None:
        return found, True
    try:
        with runtime.uow() as uow:
            row = WebhookDelivery(
                source=source,
                delivery_id=identifier,
                payload=payload,
                event_time=event_time,
                status=DeliveryStatus.PENDING.value,
            )
            uow.session.add(row)
            uow.session.flush()
            uow.after_commit(job(row.id))
            uow.commit()
            return row.id, False
    except IntegrityError:  # the same delivery raced in on another connection
        found = _existing(runtime, source, identifier)
        assert found is not None
        return found, True


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
