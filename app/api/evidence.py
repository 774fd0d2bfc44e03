"""Evidence files (upload, download) and the public signing key auditors check with."""

from __future__ import annotations

from typing import IO, Any

from flask import Response, request
from pydantic import ValidationError

from app.domain.errors import Invalid, from_validation
from app.domain.vocabulary import Scope
from app.runtime import current
from app.schemas.analysis import EvidenceRead, EvidenceUpload
from app.services import evidence_files
from app.services.keys import public_key_pem
from app.services.tokens import Principal

from .framework import ApiBlueprint

bp = ApiBlueprint("evidence", __name__, url_prefix="/api/v1")
MULTIPART_SLACK = 64 * 1024  # form boundaries and part headers around the file


def _upload(query: EvidenceUpload) -> tuple[EvidenceUpload, IO[bytes], str | None, str | None]:
    """Multipart (a `file` part, fields beside it) or the raw body with query parameters."""
    request.max_content_length = current().settings.evidence_max_bytes + MULTIPART_SLACK
    if request.mimetype != "multipart/form-data":
        return query, request.stream, query.name, request.mimetype or None
    fields: dict[str, Any] = {**query.model_dump(exclude_unset=True), **request.form.to_dict()}
    try:
        query = EvidenceUpload.model_validate(fields)
    except ValidationError as exc:
        raise from_validation(exc, ("body",)) from None
    part = request.files.get("file")
    if part is None:
        raise Invalid(
            "send the file in a multipart part named 'file'",
            errors=[{"loc": ["body", "file"], "msg": "field required"}],
        )
    return query, part.stream, query.name or part.filename or None, part.mimetype or None


@bp.op(
    "POST",
    "/incidents/<key>/evidence/files",
    summary="Upload an evidence file (raw body, or multipart part 'file'); Hindsight hashes it",
    scope=Scope.WRITE,
    query=EvidenceUpload,
    response=EvidenceRead,
    status=201,
)
def upload_evidence_file(key: str, query: EvidenceUpload, actor: Principal) -> EvidenceRead:
    query, stream, name, media = _upload(query)
    return evidence_files.upload_evidence(
        current(),
        key,
        stream=stream,
        kind=query.kind,
        file_name=name,
        media_type=media,
        note=query.note,
        claimed_sha256=query.sha256,
        actor=actor.actor,
    )


@bp.op(
    "GET",
    "/incidents/<key>/evidence/<id:evidence_id>/file",
    summary="Download an evidence file, re-checked against its SHA-256",
    response=bytes,
    produces=("application/octet-stream",),
)
def download_evidence_file(key: str, evidence_id: int) -> Response:
    read, data = evidence_files.read_evidence_file(current(), key, evidence_id)
    name = (read.file_name or f"evidence-{evidence_id}").replace('"', "")
    return Response(
        data,
        mimetype="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.op(
    "GET",
    "/keys/signing.pub",
    summary="The Ed25519 public key (PEM) that checks archive and checkpoint signatures",
    scope=None,
    response=bytes,
    produces=("application/x-pem-file",),
)
def signing_public_key() -> Response:
    return Response(public_key_pem(current()), mimetype="application/x-pem-file")
