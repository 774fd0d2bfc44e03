"""Evidence files: uploaded, hashed by Hindsight, stored by content, re-checked on the way out.

An upload streams to a temporary file while Hindsight computes its SHA-256
and counts its size (refused past `HINDSIGHT_EVIDENCE_MAX_BYTES`); a
`sha256` the caller sent that disagrees is refused, so a hash in the record
is one Hindsight computed, never one it was told. The file then moves to
`<data dir>/evidence/<first two hex digits>/<sha256>`: the same content is
stored once, and a file whose bytes no longer match its name is damaged.
The evidence row (kind `uri` `sha256:<hex>`, name, size, media type) and
its audit entry are written in one transaction; a file left without a row
(the transaction failed) is harmless and the next upload of it reuses it.

Only the local disk store is built; an S3-compatible store would sit behind
`blob_path`/`check_blob` (see the README).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import IO

from app import audit
from app.domain.errors import Conflict, NotFound, TooLarge, field_error
from app.models import Evidence
from app.runtime import Runtime
from app.schemas.analysis import EvidenceRead
from app.settings import Settings

from .changes import incident_changed
from .common import load_incident, snapshot

CHUNK = 64 * 1024


def blob_path(settings: Settings, sha256: str) -> Path:
    return settings.evidence_path / sha256[:2] / sha256


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_blob(settings: Settings, sha256: str) -> str:
    """'ok', 'missing' or 'changed': whether the stored file still is what was uploaded."""
    path = blob_path(settings, sha256)
    if not path.is_file():
        return "missing"
    return "ok" if file_sha256(path) == sha256 else "changed"


def _receive(settings: Settings, stream: IO[bytes]) -> tuple[str, int, Path]:
    """Stream to a temporary file: (sha256, size, path); over the limit is refused early."""
    limit = settings.evidence_max_bytes
    settings.evidence_path.mkdir(parents=True, exist_ok=True)
    tmp = settings.evidence_path / f".upload-{uuid.uuid4().hex}"
    digest, size = hashlib.sha256(), 0
    try:
        with tmp.open("wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"an evidence file may be at most {limit} bytes")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size, tmp


def _keep(settings: Settings, sha256: str, tmp: Path) -> None:
    """Move the upload into place, unless an intact copy of the same content is there."""
    final = blob_path(settings, sha256)
    try:
        if final.is_file() and file_sha256(final) == sha256:
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def upload_evidence(
    runtime: Runtime,
    key: str,
    *,
    stream: IO[bytes],
    kind: str,
    file_name: str | None,
    media_type: str | None,
    note: str | None,
    claimed_sha256: str | None,
    actor: str,
) -> EvidenceRead:
    """Store one evidence file under incident `key`; its hash is the one Hindsight computed."""
    with runtime.db.sessions() as session:
        load_incident(session, key)  # 404 before reading a large body
    sha256, size, tmp = _receive(runtime.settings, stream)
    if claimed_sha256 and claimed_sha256.lower() != sha256:
        tmp.unlink(missing_ok=True)
        raise field_error(
            ["query", "sha256"], f"the file's SHA-256 is {sha256}, not {claimed_sha256.lower()}"
        )
    _keep(runtime.settings, sha256, tmp)
    with runtime.uow() as uow:
        incident = load_incident(uow.session, key)
        row = Evidence(
            incident_id=incident.id,
            kind=kind,
            uri=f"sha256:{sha256}",
            sha256=sha256,
            note=note,
            file_name=file_name,
            file_size=size,
            media_type=media_type,
        )
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow.session,
            actor=actor,
            action="evidence.upload",
            entity_type="evidence",
            entity_key=f"{incident.key}/{row.id}",
            after=snapshot(row),
        )
        incident_changed(uow, incident)
        uow.commit()
        return EvidenceRead.model_validate(row)


def read_evidence_file(runtime: Runtime, key: str, evidence_id: int) -> tuple[EvidenceRead, bytes]:
    """The stored bytes, re-checked against the SHA-256 in the record."""
    with runtime.db.sessions() as session:
        incident = load_incident(session, key)
        row = session.get(Evidence, evidence_id)
        if row is None or row.incident_id != incident.id or row.file_size is None:
            raise NotFound(f"{key} has no evidence file {evidence_id}")
        read = EvidenceRead.model_validate(row)
    sha256 = read.sha256 or ""
    path = blob_path(runtime.settings, sha256)
    if not path.is_file():
        raise NotFound(f"evidence file {evidence_id} ({sha256}) is missing from the store")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise Conflict(f"evidence file {evidence_id} was damaged in the store (SHA-256 differs)")
    return read, data
