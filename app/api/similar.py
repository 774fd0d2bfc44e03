"""/api/v1/incidents/{key}/similar and /suggested-actions: what the past says about this one."""

from __future__ import annotations

from app.runtime import current
from app.schemas.recurrence import SimilarIncidents, SuggestedActions
from app.services import recurrence as recurrence_service

from .framework import ApiBlueprint

bp = ApiBlueprint("similar", __name__, url_prefix="/api/v1/incidents")


@bp.op(
    "GET", "/<key>/similar", summary="Incidents most alike to this one", response=SimilarIncidents
)
def similar(key: str) -> SimilarIncidents:
    return recurrence_service.similar(current(), key)


@bp.op(
    "GET",
    "/<key>/suggested-actions",
    summary="Actions of similar past incidents, ranked by evidence that they worked",
    response=SuggestedActions,
)
def suggested_actions(key: str) -> SuggestedActions:
    return recurrence_service.suggested_actions(current(), key)
