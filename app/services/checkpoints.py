"""Signed checkpoints of the audit chain's head: its anchor outside the database.

A checkpoint says "entry `seq` of the audit log had hash `hash`; that entry
was written at `at`", signed with the Ed25519 signing key. Someone who can
write to the database can rewrite an entry and re-hash every later one, or
delete the tail and move the head: the chain alone still looks whole. A
checkpoint taken before either, held by an auditor (or left in the
checkpoint directory, or inside a compliance archive), shows it.

Files: `<checkpoint dir>/checkpoint-<seq>.json`, one per head seen. `at` is
the head entry's own time, not the signing time, so checkpointing an
unchanged chain rewrites the same bytes (and archives stay deterministic).
They are written by `hindsight audit checkpoint`, by `checkpoint_job` (for
the scheduler) and by every compliance export.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.domain import signing
from app.domain.canonical import canonical
from app.domain.errors import Invalid
from app.models import AuditEntry
from app.runtime import Runtime, current

from .keys import signing_key

KIND = "hindsight.audit-checkpoint"
_FIELDS = ("kind", "version", "seq", "hash", "at", "key_id")


def make(session: Session, key: Ed25519PrivateKey) -> dict[str, Any] | None:
    """The signed checkpoint of the head as the session sees it; None for an empty log."""
    head = audit.read_head(session)
    if head is None or head[0] == 0:
        return None
    seq, head_hash = head
    at = session.scalar(select(AuditEntry.at).where(AuditEntry.seq == seq))
    body = {
        "kind": KIND,
        "version": 1,
        "seq": seq,
        "hash": head_hash,
        "at": at.isoformat() if at else None,
        "key_id": signing.key_id(key),
    }
    return {**body, "signature": signing.sign(key, canonical(body))}


def to_bytes(checkpoint: dict[str, Any]) -> bytes:
    return (json.dumps(checkpoint, indent=2, sort_keys=True) + "\n").encode()


def save(runtime: Runtime, checkpoint: dict[str, Any]) -> Path:
    """Write it to the checkpoint directory (atomically; the same head, the same file)."""
    directory = runtime.settings.checkpoint_path
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"checkpoint-{checkpoint['seq']:012d}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(to_bytes(checkpoint))
    os.replace(tmp, path)
    return path


def write_checkpoint(runtime: Runtime) -> Path | None:
    """`hindsight audit checkpoint`: sign the current head; None when the log is empty.

    The head is only signed when the chain behind it verifies: signing a
    broken chain would vouch for the tampering.
    """
    key = signing_key(runtime)
    with runtime.db.sessions() as session:
        result = audit.verify(session)
        if not result.ok:
            raise Invalid(
                f"the audit log is broken at entry {result.first_broken_seq} "
                f"({result.reason}): not signing it"
            )
        checkpoint = make(session, key)
    return save(runtime, checkpoint) if checkpoint else None


def checkpoint_job() -> None:
    """For the scheduler: a signed checkpoint of the head (a no-op on an empty log)."""
    write_checkpoint(current())


@dataclass(frozen=True)
class CheckpointProblem:
    name: str
    reason: str


def read(data: bytes, public_key: Ed25519PublicKey, name: str) -> audit.Anchor:
    """A checkpoint file checked against the public key; Invalid says what is wrong."""
    try:
        doc = json.loads(data)
        body = {f: doc[f] for f in _FIELDS}
        signature = doc["signature"]
        if body["kind"] != KIND or not isinstance(body["seq"], int):
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise Invalid(f"{name}: not a Hindsight audit checkpoint") from None
    given = signing.key_id(public_key)
    if body["key_id"] != given:
        raise Invalid(f"{name}: signed by key {body['key_id']}, not by {given} (wrong key)")
    if not isinstance(signature, str) or not signing.verify(public_key, canonical(body), signature):
        raise Invalid(f"{name}: bad signature (the checkpoint was changed or forged)")
    return audit.Anchor(body["seq"], str(body["hash"]), body["at"], name)


def stored(
    runtime: Runtime, public_key: Ed25519PublicKey | None
) -> tuple[list[audit.Anchor], list[CheckpointProblem]]:
    """The checkpoints in the checkpoint directory; a bad one is a problem, not an anchor."""
    directory = runtime.settings.checkpoint_path
    anchors: list[audit.Anchor] = []
    problems: list[CheckpointProblem] = []
    paths = sorted(directory.glob("checkpoint-*.json")) if directory.is_dir() else []
    for path in paths:
        if public_key is None:
            where = runtime.settings.signing_key_path
            problems.append(CheckpointProblem(path.name, f"{path.name}: no signing key at {where}"))
            continue
        try:
            anchors.append(read(path.read_bytes(), public_key, path.name))
        except Invalid as exc:
            problems.append(CheckpointProblem(path.name, exc.detail))
    return anchors, problems


def verify_chain(
    runtime: Runtime,
    *,
    held: list[tuple[str, bytes]] | None = None,
    public_key: Ed25519PublicKey | None = None,
) -> audit.VerifyResult:
    """The chain checked against every signed checkpoint: the stored ones and those held.

    `held` are checkpoint files an auditor brings (name, bytes); a bad one is
    refused with Invalid. `public_key` defaults to the service's own key, if
    it has one (a log never checkpointed needs none).
    """
    key = public_key
    if key is None and runtime.settings.signing_key_path.exists():
        key = signing_key(runtime).public_key()  # verifying never creates a key
    anchors, problems = stored(runtime, key)
    for name, data in held or []:
        if key is None:
            raise Invalid(f"{name}: give the public key to check it with")
        anchors.append(read(data, key, name))
    with runtime.db.sessions() as session:
        result = audit.verify(session, anchors)
    for problem in problems:
        result.broken.append(audit.Break(0, f"checkpoint file {problem.reason}"))
    result.ok = not result.broken
    return result
