"""/api/v1/actions: improvement actions by key, across incidents."""

from __future__ import annotations

from app.domain.people import Principal
from app.domain.vocabulary import Scope
from app.runtime import current
from app.schemas.actions import ActionQuery, ActionRead, ActionUpdate, ValidationCreate
from app.schemas.common import Page
from app.services import actions as action_service
from app.services import validations

from .framework import ApiBlueprint

bp = ApiBlueprint("actions", __name__, url_prefix="/api/v1/actions")


@bp.op(
    "GET", "", summary="List actions across incidents", query=ActionQuery, response=Page[ActionRead]
)
def list_actions(query: ActionQuery) -> Page[ActionRead]:
    return action_service.list_actions(current(), query)


@bp.op("GET", "/<key>", summary="Read an action", response=ActionRead)
def get_action(key: str) -> ActionRead:
    return action_service.get_action(current(), key)


@bp.op(
    "PATCH",
    "/<key>",
    summary="Change an action (status changes need a valid transition; `verified` is reached "
    "only by POST .../validations)",
    scope=Scope.WRITE,
    body=ActionUpdate,
    response=ActionRead,
)
def update_action(key: str, body: ActionUpdate, actor: Principal) -> ActionRead:
    return action_service.update_action(current(), key, body, actor.actor)


@bp.op(
    "POST",
    "/<key>/validations",
    summary="Record a validation (what was checked, result pass|fail, when, evidence link; by "
    "the caller): a pass verifies a done action, a fail sends a done or verified one back to "
    "open (audited)",
    scope=Scope.WRITE,
    body=ValidationCreate,
    response=ActionRead,
    status=201,
)
def record_validation(key: str, body: ValidationCreate, actor: Principal) -> ActionRead:
    return validations.record_validation(current(), key=key, data=body, principal=actor)
