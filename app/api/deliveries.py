"""/api/v1/deliveries: every stored webhook delivery and how it ended; replay the failed."""

from __future__ import annotations

from app.domain.vocabulary import Scope
from app.runtime import current
from app.schemas.common import Page
from app.schemas.deliveries import DeliveryQuery, DeliveryRead
from app.services import deliveries, inbox

from .framework import ApiBlueprint

bp = ApiBlueprint("deliveries", __name__, url_prefix="/api/v1/deliveries")


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
    return DeliveryRead.model_validate(inbox.replay_delivery(current(), delivery_id))
