"""/api/v1/sync: the tracker sync's dead letter, and a way to retry it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from app.domain.vocabulary import Scope
from app.models import OutboxItem
from app.runtime import current
from app.schemas.common import Output, Page, PageQuery
from app.services import tracker_sync
from app.sync import outbox

from .framework import ApiBlueprint

bp = ApiBlueprint("sync", __name__, url_prefix="/api/v1/sync")


class SyncFailureRead(Output):
    id: int
    entity_type: str
    entity_id: int
    entity_key: str
    op: str
    attempts: int
    error: str | None
    failed_at: datetime
    created_at: datetime


def _read(row: OutboxItem) -> SyncFailureRead:
    return SyncFailureRead(
        id=row.id,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        entity_key=row.entity_key,
        op=row.op,
        attempts=row.attempts,
        error=row.last_error,
        failed_at=row.updated_at,
        created_at=row.created_at,
    )


@bp.op(
    "GET",
    "/failures",
    summary="Changes Jira refused, with Jira's own error text",
    scope=Scope.ADMIN,
    query=PageQuery,
    response=Page[SyncFailureRead],
)
def list_failures(query: PageQuery) -> Page[SyncFailureRead]:
    with current().db.sessions() as session:
        dead = select(OutboxItem).where(OutboxItem.status == outbox.DEAD)
        total = session.scalar(select(func.count()).select_from(dead.subquery())) or 0
        rows = session.scalars(
            dead.order_by(OutboxItem.updated_at.desc(), OutboxItem.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        ).all()
        return Page[SyncFailureRead](
            items=[_read(r) for r in rows], total=total, limit=query.limit, offset=query.offset
        )


@bp.op(
    "POST",
    "/failures/<id:failure_id>/retry",
    summary="Send a refused change again (after fixing the mapping or the data)",
    scope=Scope.ADMIN,
    response=SyncFailureRead,
    status=202,
)
def retry_failure(failure_id: int) -> SyncFailureRead:
    return _read(tracker_sync.retry_failure(current(), failure_id))
