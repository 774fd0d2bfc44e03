"""/api/v1/imports and /api/v1/incidents/{key}/document: the incident document over HTTP.

The same document as `hindsight import` / `export`, with the same update
semantics (README, "Import and export"): a document naming an incident
fills and adds to it in one transaction, never overwriting what is stored.
"""

from __future__ import annotations

from pydantic import BaseModel

from app.domain.errors import Invalid
from app.domain.vocabulary import Scope
from app.runtime import current
from app.schemas.documents import IncidentDocument
from app.services.documents import export_document, import_or_update
from app.services.tokens import Principal

from .framework import ApiBlueprint

bp = ApiBlueprint("documents", __name__, url_prefix="/api/v1")


class ImportRead(BaseModel):
    key: str
    created: bool
    added: dict[str, int]
    filled: list[str]
    kept: list[str]


@bp.op(
    "POST",
    "/imports",
    summary="Import an incident document, history included; one naming an incident updates it",
    scope=Scope.WRITE,
    body=IncidentDocument,
    response=ImportRead,
)
def import_incident(body: IncidentDocument, actor: Principal) -> ImportRead:
    data = body.model_dump(mode="json", exclude_unset=True)
    try:
        result = import_or_update(current(), data, actor=actor.actor)
    except Invalid as exc:  # the service names document paths; here they live under the body
        errors = [{**e, "loc": ["body", *e["loc"]]} for e in exc.errors or []]
        raise Invalid(exc.detail, errors=errors) from None
    return ImportRead(
        key=result.key,
        created=result.created,
        added=result.added,
        filled=result.filled,
        kept=result.kept,
    )


@bp.op(
    "GET",
    "/incidents/<key>/document",
    summary="The incident as an import document (what `hindsight export KEY` prints)",
    response=IncidentDocument,
)
def export_incident(key: str) -> IncidentDocument:
    return export_document(current(), key)
