"""/api/v1/schedule, /api/v1/escalations, /api/v1/notifications: follow-through, visible."""

from __future__ import annotations

from app.domain.vocabulary import Scope
from app.models import ScheduleRun
from app.runtime import current
from app.schemas.common import Page
from app.schemas.followthrough import (
    EscalationQuery,
    EscalationRead,
    NotificationQuery,
    NotificationRead,
    ScheduledJobRead,
    ScheduleQuery,
    ScheduleRead,
    ScheduleRunRead,
)
from app.services import escalation_reads, notifications, schedule

from .framework import ApiBlueprint

bp = ApiBlueprint("followthrough", __name__, url_prefix="/api/v1")


def _run(row: ScheduleRun | None) -> ScheduleRunRead | None:
    return ScheduleRunRead.model_validate(row) if row is not None else None


@bp.op(
    "GET",
    "/schedule",
    summary="What runs when, the last run of each job, and the latest failed runs",
    query=ScheduleQuery,
    response=ScheduleRead,
)
def get_schedule(query: ScheduleQuery) -> ScheduleRead:
    rt = current()
    jobs = [
        ScheduledJobRead(
            name=s.name,
            every_seconds=s.every_seconds,
            enabled=s.enabled,
            queue=s.queue,
            last_run=_run(s.last),
            last_failure=_run(s.last_failure),
        )
        for s in schedule.status(rt)
    ]
    failed = schedule.runs(rt, failed_only=True, limit=query.failures) if query.failures else []
    return ScheduleRead(jobs=jobs, failures=[ScheduleRunRead.model_validate(r) for r in failed])


@bp.op(
    "GET",
    "/escalations",
    summary="Reminders and escalation steps, newest first, with each channel's result",
    query=EscalationQuery,
    response=Page[EscalationRead],
)
def list_escalations(query: EscalationQuery) -> Page[EscalationRead]:
    items, total = escalation_reads.list_escalations(current(), query)
    return Page[EscalationRead](items=items, total=total, limit=query.limit, offset=query.offset)


@bp.op(
    "GET",
    "/notifications",
    summary="The notification outbox; status=dead is the dead letter",
    scope=Scope.ADMIN,
    query=NotificationQuery,
    response=Page[NotificationRead],
)
def list_notifications(query: NotificationQuery) -> Page[NotificationRead]:
    rows, total = notifications.list_notifications(
        current(), status=query.status, limit=query.limit, offset=query.offset
    )
    return Page[NotificationRead](
        items=[NotificationRead.model_validate(r) for r in rows],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


@bp.op(
    "POST",
    "/notifications/<id:notification_id>/retry",
    summary="Send a dead-lettered notification again",
    scope=Scope.ADMIN,
    response=NotificationRead,
    status=202,
)
def retry_notification(notification_id: int) -> NotificationRead:
    return NotificationRead.model_validate(notifications.retry(current(), notification_id))
