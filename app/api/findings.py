"""/api/v1/incidents/{key}/findings: read, re-evaluate, waive."""

from __future__ import annotations

from app.domain.people import Principal
from app.domain.vocabulary import Scope
from app.runtime import current
from app.schemas.findings import FindingRead, WaiverCreate
from app.services import findings as finding_service
from app.services.evaluation import evaluate_key

from .framework import ApiBlueprint

bp = ApiBlueprint("findings", __name__, url_prefix="/api/v1/incidents")


@bp.op(
    "GET",
    "/<key>/findings",
    summary="The incident's rule findings, with waivers",
    response=list[FindingRead],
)
def list_findings(key: str) -> list[FindingRead]:
    return finding_service.list_findings(current(), key)


@bp.op(
    "POST",
    "/<key>/evaluate",
    summary="Re-evaluate the incident now and return its findings",
    scope=Scope.WRITE,
    response=list[FindingRead],
)
def evaluate(key: str) -> list[FindingRead]:
    evaluate_key(current(), key)
    return finding_service.list_findings(current(), key)


@bp.op(
    "POST",
    "/<key>/findings/<id:finding_id>/waive",
    summary="Waive a finding with a reason and an optional expiry (audited); the incident's "
    "facilitator or an admin may (policy `waivers`), regulatory findings admins only",
    scope=Scope.WRITE,
    body=WaiverCreate,
    response=FindingRead,
    status=201,
)
def waive(key: str, finding_id: int, body: WaiverCreate, actor: Principal) -> FindingRead:
    return finding_service.waive(
        current(), key, finding_id, body.reason, actor, expires_at=body.expires_at
    )


@bp.op(
    "DELETE",
    "/<key>/findings/<id:finding_id>/waiver",
    summary="Withdraw a waiver (audited)",
    scope=Scope.WRITE,
    status=204,
)
def unwaive(key: str, finding_id: int, actor: Principal) -> None:
    finding_service.unwaive(current(), key, finding_id, actor)
