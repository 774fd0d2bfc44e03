"""/api/v1/deliveries: every stored webhook delivery and how it ended; replay the failed."""

from __future__ import annotations

from collections.abc import Callable

from app.db import JobRequest
from app.domain.errors import NotFound
from app.domain.vocabulary import Scope
from app.models import WebhookDelivery
from app.runtime import current
from app.schemas.common import Page
from app.schemas.deliveries import DeliveryQuery, DeliveryRead
from app.services import deliveries, intake
from app.sync.inbound import delivery_job as jira_job

from .framework import ApiBlueprint

bp = ApiBlueprint("deliveries", __name__, url_prefix="/api/v1/deliveries")


def job_for(source: str) -> Callable[[int], JobRequest]:
    """Which job applies a delivery from `source` (the wiring lives at the edge)."""
    if source in intake.PARSERS:
        return intake.intake_job
    return jira_job


@bp.op(
    "GET",
    "",
    summary="Stored webhook deliveries, newest first (status=failed: the ones that need a fix)",
    scope=Scope.ADMIN,
    query=DeliveryQuery,
    response=Page[DeliveryRead],
)
def list_deliveries(query: DeliveryQuery) -> Page[DeliveryRead]:
    return deliveries.list_deliveries(current(), query)


@bp.op(
    "POST",
    "/<id:delivery_id>/replay",
    summary="Run a failed or ignored delivery again (after fixing the data or the config)",
    scope=Scope.ADMIN,
    response=DeliveryRead,
    status=202,
)
def replay(delivery_id: int) -> DeliveryRead:
    rt = current()
    with rt.db.sessions() as session:
        row = session.get(WebhookDelivery, delivery_id)
        if row is None:
            raise NotFound(f"no delivery {delivery_id}")
        source = row.source
    return DeliveryRead.model_validate(deliveries.replay(rt, delivery_id, job_for(source)))
