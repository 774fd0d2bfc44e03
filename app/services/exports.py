"""Auditor-verifiable compliance archives.

One zip per incident or per period: for each incident the import document,
the full postmortem (JSON and Markdown), actions with status history and
tracker keys, the audit entries that concern it, its evidence list and the
evidence files themselves (re-checked against their SHA-256 on the way
out); plus the audit chain's state at export time, a signed checkpoint of
its head (also saved to the checkpoint directory) and a manifest of SHA-256
sums signed with Ed25519. An auditor checks all of it with the public key
alone (`hindsight verify ARCHIVE --public-key FILE`, `app/services/archives.py`).

Archives are deterministic (sorted entries, fixed timestamps, stored
members, deterministic signatures, a checkpoint stamped with the head
entry's own time) so the same data exports to the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import audit
from app.domain import signing
from app.domain.errors import Invalid
from app.models import AuditEntry, Incident
from app.runtime import Runtime
from app.settings import Settings

from . import checkpoints
from .archives import FORMAT, MANIFEST, MANIFEST_HASH, MANIFEST_SIG, pack
from .common import load_incident
from .documents import to_document
from .evidence_files import blob_path, check_blob
from .keys import signing_key
from .postmortems import PostmortemDocument, document, render
from .redaction import Redactor, for_incident


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, default=str) + "\n").encode()


def _audit_entries(session: Session, incident: Incident) -> list[dict[str, Any]]:
    keys = [a.key for a in incident.actions if a.key]
    prefix = f"{incident.key}/"
    rows = session.scalars(
        select(AuditEntry)
        .where(
            or_(
                AuditEntry.entity_key == incident.key,
                AuditEntry.entity_key.startswith(prefix),
                AuditEntry.entity_key.in_(keys),
            )
        )
        .order_by(AuditEntry.seq)
    )
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "entity_type": e.entity_type,
            "entity_key": e.entity_key,
            "before": e.before,
            "after": e.after,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
            "hash_version": e.hash_version,
        }
        for e in rows
    ]


def _evidence_files(settings: Settings, incident: Incident) -> dict[str, bytes]:
    """The evidence list, and each stored file that still matches its SHA-256."""
    base = f"{incident.key}/"
    files: dict[str, bytes] = {}
    entries = []
    for e in incident.evidence:
        entry: dict[str, Any] = {
            "id": e.id,
            "kind": e.kind,
            "uri": e.uri,
            "sha256": e.sha256,
            "note": e.note,
            "file_name": e.file_name,
            "file_size": e.file_size,
            "media_type": e.media_type,
            "sha256_by": "hindsight" if e.file_size is not None else "caller",
        }
        if e.file_size is not None and e.sha256:
            entry["check"] = check_blob(settings, e.sha256)
            if entry["check"] == "ok":
                entry["file"] = f"{base}evidence/{e.sha256}"
                files[entry["file"]] = blob_path(settings, e.sha256).read_bytes()
        entries.append(entry)
    files[base + "evidence.json"] = _json(entries)
    return files


def _last_change(incident: Incident) -> datetime:
    """The "now" an archived postmortem is generated at (and lint judges it at): the record's
    last change, so the same data packs to the same bytes."""
    return max([incident.updated_at, *(a.updated_at for a in incident.actions)])


def _incident_files(
    session: Session, incident: Incident, redactor: Redactor | None = None
) -> dict[str, bytes]:
    """The incident's files; with a redactor, names become roles before anything is hashed."""
    base = f"{incident.key}/"

    def shared(data: Any) -> Any:
        return redactor.walk(data) if redactor else data

    files = {base + "document.json": _json(shared(to_document(incident).model_dump(mode="json")))}
    if incident.postmortem is not None:
        doc = document(session, incident, at=_last_change(incident))
        if redactor:
            shared_doc = redactor.walk(doc.model_dump(mode="json"))
            doc = PostmortemDocument.model_validate({**shared_doc, "redacted": True})
        files[base + "postmortem.json"] = _json(doc.model_dump(mode="json"))
        files[base + "postmortem.md"] = render(doc, "md").encode()
    actions = [
        {
            "key": a.key,
            "title": a.title,
            "owner": a.owner,
            "due_date": a.due_date,
            "priority": a.priority,
            "status": a.status,
            "tracker_key": a.tracker_key,
            "compliance_rule": a.compliance_rule,
            "history": [
                {
                    "from": h.from_status,
                    "to": h.to_status,
                    "reason": h.reason,
                    "actor": h.actor,
                    "source": h.source,
                    "at": h.at.isoformat(),
                }
                for h in a.history
            ],
            "validations": [  # the evidence a `verified` rests on (migration 0007)
                {
                    "checked": v.checked,
                    "result": v.result,
                    "checked_at": v.checked_at.isoformat(),
                    "checked_by": v.checked_by,
                    "evidence": v.evidence,
                    "note": v.note,
                }
                for v in a.validations
            ],
        }
        for a in incident.actions
    ]
    files[base + "actions.json"] = _json(shared(actions))
    entries = shared(_audit_entries(session, incident))
    lines = [json.dumps(e, sort_keys=True, default=str) for e in entries]
    files[base + "audit.jsonl"] = ("\n".join(lines) + "\n").encode() if lines else b""
    return files


@dataclass
class ExportScope:
    key: str | None = None
    start: date | None = None
    end: date | None = None
    redact: bool = False

    def describe(self) -> str:
        return self.key or f"{self.start}..{self.end}"


def _incidents(session: Session, scope: ExportScope) -> list[Incident]:
    if scope.key:
        return [load_incident(session, scope.key)]
    if scope.start is None or scope.end is None or scope.start > scope.end:
        raise Invalid(
            "give an incident key, or a period with from <= to",
            errors=[{"loc": ["body", "from"], "msg": "from and to are required, from <= to"}],
        )
    lo = datetime.combine(scope.start, time.min, UTC)
    hi = datetime.combine(scope.end, time.max, UTC)
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.started_at >= lo, Incident.started_at <= hi)
            .order_by(Incident.id)
        )
    )


def _chain_files(runtime: Runtime, session: Session, key: Ed25519PrivateKey) -> dict[str, bytes]:
    """The chain's state, checked against the stored checkpoints, and a fresh checkpoint."""
    anchors, problems = checkpoints.stored(runtime, key.public_key())
    chain = audit.verify(session, anchors)
    broken = [{"seq": b.seq, "reason": b.reason} for b in chain.broken]
    broken += [{"seq": 0, "reason": f"checkpoint file {p.reason}"} for p in problems]
    files = {
        "audit-chain.json": _json(
            {
                "ok": not broken,
                "checked": chain.checked,
                "head_seq": chain.head_seq,
                "head_hash": chain.head_hash,
                "broken": broken,
            }
        )
    }
    checkpoint = checkpoints.make(session, key) if not broken else None
    if checkpoint is not None:
        checkpoints.save(runtime, checkpoint)
        files["audit-checkpoint.json"] = checkpoints.to_bytes(checkpoint)
    return files


def build_archive(runtime: Runtime, scope: ExportScope) -> bytes:
    """The signed archive; the chain is read first, so everything comes from one snapshot."""
    key = signing_key(runtime)
    with runtime.db.sessions() as session:
        files = _chain_files(runtime, session, key)
        incidents = _incidents(session, scope)
        for incident in incidents:
            redactor = for_incident(incident, runtime.catalog) if scope.redact else None
            files.update(_incident_files(session, incident, redactor))
            files.update(_evidence_files(runtime.settings, incident))
    manifest = {
        "format": FORMAT,
        "generator": "hindsight",
        "scope": scope.describe(),
        "incidents": [i.key for i in incidents],
        "key_id": signing.key_id(key),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    if scope.redact:
        manifest["redacted"] = "roles"
    files[MANIFEST] = _json(manifest)
    digest = hashlib.sha256(files[MANIFEST]).hexdigest()
    files[MANIFEST_HASH] = f"{digest}  {MANIFEST}\n".encode()
    signature = signing.sign(key, files[MANIFEST])
    files[MANIFEST_SIG] = f"ed25519 {signing.key_id(key)} {signature}\n".encode()
    return pack(sorted(files.items()))
