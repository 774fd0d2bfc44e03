"""/api/v1/exports: compliance archives for auditors."""

from __future__ import annotations

from datetime import date
from typing import Literal

from flask import Response
from pydantic import Field, model_validator

from app.domain.vocabulary import Scope
from app.runtime import current
from app.schemas.common import Input
from app.services.exports import ExportScope, build_archive

from .framework import ApiBlueprint

bp = ApiBlueprint("exports", __name__, url_prefix="/api/v1/exports")


class ExportCreate(Input):
    incident: str | None = Field(default=None, description="one incident key, or a period:")
    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _one_scope(self) -> ExportCreate:
        if self.incident is None and (self.start is None or self.end is None):
            raise ValueError("give 'incident', or both 'from' and 'to'")
        if self.start and self.end and self.start > self.end:
            raise ValueError("'from' is after 'to'")
        return self


class ExportOptions(Input):
    redact: Literal["roles"] | None = Field(
        default=None, description="'roles': personal names replaced by their roles, for sharing"
    )


@bp.op(
    "POST",
    "",
    summary="Build a tamper-evident compliance archive (zip)",
    scope=Scope.ADMIN,
    body=ExportCreate,
    query=ExportOptions,
    produces=("application/zip",),
    response=bytes,
)
def create_export(body: ExportCreate, query: ExportOptions) -> Response:
    redact = query.redact == "roles"
    scope = ExportScope(key=body.incident, start=body.start, end=body.end, redact=redact)
    data = build_archive(current(), scope, current().settings.export_signing_key)
    name = f"hindsight-{scope.describe().replace('..', '_')}.zip"
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
