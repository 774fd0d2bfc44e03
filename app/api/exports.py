"""/api/v1/exports: compliance archives for auditors."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import ConfigDict, Field, JsonValue, model_validator

from app.domain.vocabulary import Scope
from app.runtime import current
from app.schemas.common import Day, Input
from app.services.exports import ExportScope, build_archive

from .framework import ApiBlueprint

bp = ApiBlueprint("exports", __name__, url_prefix="/api/v1/exports")


_DAY: dict[str, JsonValue] = {"type": "string", "format": "date"}


class ExportCreate(Input):
    # The one-scope rule below, as the OpenAPI document states it: an incident, or a period.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["incident"], "properties": {"incident": {"type": "string"}}},
                {"required": ["from", "to"], "properties": {"from": _DAY, "to": _DAY}},
            ]
        }
    )

    incident: str | None = Field(default=None, description="one incident key, or a period:")
    start: Day | None = Field(default=None, alias="from")
    end: Day | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _one_scope(self) -> ExportCreate:
        if self.incident is None and (self.start is None or self.end is None):
            raise ValueError("give 'incident', or both 'from' and 'to'")
        if self.start and self.end and self.start > self.end:
            raise ValueError("'from' is after 'to'")  # cross-field: stated in the description
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
    data = build_archive(current(), scope)
    name = f"hindsight-{scope.describe().replace('..', '_')}.zip"
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
