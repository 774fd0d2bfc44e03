"""Tamper-evident compliance archives, and their verification.

One zip per incident or per period: for each incident the import document,
the full postmortem (JSON and Markdown), actions with status history and
tracker keys, and the audit entries that concern it; plus the audit chain's
state at export time and a manifest of SHA-256 sums. The manifest's own
hash is written beside it and, when a signing key is configured, an
HMAC-SHA256 signature, so an auditor can tell a changed file, a changed
manifest, and (with the key) a re-made manifest apart.

Archives are deterministic (sorted entries, fixed timestamps) so the same
data exports to the same bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import audit
from app.domain.errors import Invalid
from app.models import AuditEntry, Incident
from app.runtime import Runtime

from .common import load_incident
from .documents import to_document
from .postmortems import PostmortemDocument, document, render
from .redaction import Redactor, for_incident

FIXED_TIME = (2000, 1, 1, 0, 0, 0)
MANIFEST, MANIFEST_HASH, MANIFEST_SIG = "manifest.json", "manifest.sha256", "manifest.sig"


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
        }
        for e in rows
    ]


def _incident_files(
    session: Session, incident: Incident, redactor: Redactor | None = None
) -> dict[str, bytes]:
    """The incident's files; with a redactor, names become roles before anything is hashed."""
    base = f"{incident.key}/"

    def shared(data: Any) -> Any:
        return redactor.walk(data) if redactor else data

    files = {base + "document.json": _json(shared(to_document(incident).model_dump(mode="json")))}
    if incident.postmortem is not None:
        doc = document(session, incident)
        if redactor:
            doc = PostmortemDocument.model_validate(redactor.walk(doc.model_dump(mode="json")))
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


def build_archive(runtime: Runtime, scope: ExportScope, signing_key: str | None = None) -> bytes:
    with runtime.db.sessions() as session:
        files: dict[str, bytes] = {}
        incidents = _incidents(session, scope)
        for incident in incidents:
            redactor = for_incident(incident, runtime.catalog) if scope.redact else None
            files.update(_incident_files(session, incident, redactor))
        chain = audit.verify(session)
        files["audit-chain.json"] = _json(
            {
                "ok": chain.ok,
                "checked": chain.checked,
                "first_broken_seq": chain.first_broken_seq,
                "reason": chain.reason,
            }
        )
    manifest = {
        "generator": "hindsight",
        "scope": scope.describe(),
        "incidents": [i.key for i in incidents],
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    if scope.redact:
        manifest["redacted"] = "roles"
    files[MANIFEST] = _json(manifest)
    digest = hashlib.sha256(files[MANIFEST]).hexdigest()
    files[MANIFEST_HASH] = f"{digest}  {MANIFEST}\n".encode()
    if signing_key:
        files[MANIFEST_SIG] = (_sign(files[MANIFEST], signing_key) + "\n").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return out.getvalue()


def _sign(manifest: bytes, key: str) -> str:
    return "hmac-sha256=" + hmac.new(key.encode(), manifest, hashlib.sha256).hexdigest()


@dataclass
class ArchiveCheck:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    files: int = 0
    signed: bool = False

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def verify_archive(data: bytes, signing_key: str | None = None) -> ArchiveCheck:
    """Every file listed and unchanged, nothing extra, manifest hash (and signature) right."""
    check = ArchiveCheck()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        check.fail("not a zip archive")
        return check
    with archive:
        names = set(archive.namelist())
        if MANIFEST not in names:
            check.fail("manifest.json is missing")
            return check
        manifest_bytes = archive.read(MANIFEST)
        _check_manifest(check, archive, names, manifest_bytes, signing_key)
        try:
            listed: dict[str, str] = json.loads(manifest_bytes)["files"]
        except (ValueError, KeyError, TypeError):
            check.fail("manifest.json is not a valid manifest")
            return check
        _check_files(check, archive, names, listed)
    return check


def _check_manifest(
    check: ArchiveCheck,
    archive: zipfile.ZipFile,
    names: set[str],
    manifest_bytes: bytes,
    signing_key: str | None,
) -> None:
    """The manifest against its recorded hash and, when signed, its HMAC."""
    listed_hash = archive.read(MANIFEST_HASH).decode().split()[0] if MANIFEST_HASH in names else ""
    if hashlib.sha256(manifest_bytes).hexdigest() != listed_hash:
        check.fail("manifest.json does not match manifest.sha256")
    if MANIFEST_SIG in names:
        check.signed = True
        if not signing_key:
            check.fail("archive is signed: give the signing key to check it")
        elif not hmac.compare_digest(
            archive.read(MANIFEST_SIG).decode().strip(), _sign(manifest_bytes, signing_key)
        ):
            check.fail("manifest signature does not match (wrong key or re-made manifest)")
    elif signing_key:
        check.fail("a signing key was given but the archive is not signed")


def _check_files(
    check: ArchiveCheck, archive: zipfile.ZipFile, names: set[str], listed: dict[str, str]
) -> None:
    """Every listed file present and unchanged; nothing in the zip that is not listed."""
    for name, expected in sorted(listed.items()):
        if name not in names:
            check.fail(f"{name}: listed in the manifest but missing")
        elif hashlib.sha256(archive.read(name)).hexdigest() != expected:
            check.fail(f"{name}: content changed (SHA-256 differs)")
        else:
            check.files += 1
    for extra in sorted(names - set(listed) - {MANIFEST, MANIFEST_HASH, MANIFEST_SIG}):
        check.fail(f"{extra}: not listed in the manifest")
