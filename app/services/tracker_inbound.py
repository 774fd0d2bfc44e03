"""Inbound tracker sync: receive a Jira webhook delivery, and apply it in a job.

The receiver stores the delivery (unique on its identifier) and answers; the
job claims it, has the adapter read it as a `RemoteChange`, ignores what
Hindsight's own Jira account did or what concerns no mirrored issue, and
hands the rest (action, postmortem and incident issues alike) to
`tracker_apply.apply_remote`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import JobRequest, UnitOfWork
from app.domain.vocabulary import DeliveryStatus
from app.models import Action
from app.runtime import Runtime, current
from app.sync import jira_payloads
from app.sync.models import TrackerLink
from app.sync.tracker import RemoteChange, UserRef

from . import deliveries, jira_intake
from .tracker_apply import SOURCE, InboundContext, apply_remote, flag_deleted, inbound_context
from .tracker_targets import target_for


def process_delivery_job(delivery_id: int) -> None:
    """The job: apply one stored Jira webhook delivery (queue `sync`)."""
    process_delivery(current(), delivery_id)


def delivery_job(delivery_id: int) -> JobRequest:
    return JobRequest(process_delivery_job, (delivery_id,), f"jira-delivery-{delivery_id}", "sync")


def receive(runtime: Runtime, identifier: str, payload: dict[str, Any]) -> tuple[int, bool]:
    """Persist one Jira delivery, unique on its webhook identifier; (id, is_duplicate)."""
    return deliveries.store_delivery(
        runtime, SOURCE, identifier, payload, delivery_job, jira_payloads.delivery_time(payload)
    )


def process_delivery(runtime: Runtime, delivery_id: int) -> str:
    """Apply one stored delivery; returns its final status (processed / ignored / ...)."""
    ctx = inbound_context(runtime)
    return deliveries.process(
        runtime, delivery_id, lambda uow, delivery: _process(uow, ctx, delivery.payload)
    )


def _process(
    uow: UnitOfWork, ctx: InboundContext, payload: dict[str, Any]
) -> tuple[DeliveryStatus, str | None]:
    ignored = DeliveryStatus.IGNORED
    try:
        change = jira_payloads.webhook_change(payload)
    except jira_payloads.NotAnIssueEvent as exc:
        return ignored, str(exc)
    if _is_me(ctx, change.actor):
        return ignored, "made by Hindsight's own Jira account"
    link = _find_link(uow.session, change)
    if link is None and (issue := jira_intake.incident_issue(payload)) is not None:
        return jira_intake.apply_issue(uow, issue)  # an incident run in Jira
    if link is None:
        return ignored, "not a Hindsight issue"
    target = target_for(uow.session, link.entity_type, link.entity_id)
    if target is None:
        return ignored, f"the {link.entity_type} no longer exists"
    who = _who(change.actor)
    if change.kind == "deleted":
        if not isinstance(target.entity, Action):  # nothing to flag: it stays in Hindsight
            return ignored, f"the {link.entity_type}'s issue was deleted; Hindsight keeps it"
        flag_deleted(uow, target.entity, link, who)
        return DeliveryStatus.PROCESSED, None
    if change.kind != "updated":
        return ignored, f"an issue {change.kind} event does not change synced fields"
    if not change.touched & set(target.fields):
        return ignored, "no synced field changed"
    return DeliveryStatus.PROCESSED, apply_remote(uow, ctx, link, target, change, who).note()


def _is_me(ctx: InboundContext, actor: UserRef | None) -> bool:
    if actor is None:
        return False
    if ctx.me is not None and ctx.me.matches(actor):
        return True
    return bool(ctx.bot_login) and ctx.bot_login in {actor.email, actor.name}


def _who(actor: UserRef | None) -> str:
    if actor is None:
        return "jira"
    return f"jira:{actor.display_name or actor.name or actor.account_id}"[:200]


def _find_link(session: Session, change: RemoteChange) -> TrackerLink | None:
    stmt = select(TrackerLink).with_for_update()
    link = None
    if change.issue_id:
        link = session.scalar(stmt.where(TrackerLink.issue_id == change.issue_id))
    if link is None and change.issue_key:
        link = session.scalar(stmt.where(TrackerLink.issue_key == change.issue_key))
    return link


def pending_deliveries(session: Session, older_than: datetime, limit: int = 500) -> list[int]:
    return deliveries.pending_deliveries(session, [SOURCE], older_than, limit)
