"""The signing key: found where the settings say, generated on first use.

One Ed25519 key signs compliance archive manifests and audit checkpoints.
It lives in a PEM file (`HINDSIGHT_SIGNING_KEY_FILE`, default
`<HINDSIGHT_DATA_DIR>/signing-key.pem`); when the file does not exist the
first signature creates it (mode 0600, created exclusively so two processes
starting together cannot each write a different key). Its public half is
served at `GET /api/v1/keys/signing.pub` and printed by `hindsight keys show`.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.domain import signing
from app.domain.errors import Conflict, Invalid
from app.runtime import Runtime


def _read(path: Path) -> Ed25519PrivateKey:
    try:
        return signing.load_private(path.read_bytes())
    except signing.BadKey as exc:
        raise Invalid(f"signing key {path}: {exc}") from None


def _create(path: Path, *, replace: bool = False) -> bool:
    """Write a fresh key; False when another process created the file first.

    The key is written to a temporary file and then linked (or, replacing,
    renamed) into place, so no reader ever sees a half-written key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(signing.private_pem(signing.generate()))
    try:
        if replace:
            os.replace(tmp, path)
            return True
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def signing_key(runtime: Runtime) -> Ed25519PrivateKey:
    """The configured key, created on first use if its file does not exist yet."""
    path = runtime.settings.signing_key_path
    if not path.exists():
        _create(path)
    return _read(path)


def generate_key(runtime: Runtime, *, force: bool = False) -> Path:
    """`hindsight keys generate`: a new key file; an existing one is kept unless forced.

    Replacing the key does not invalidate what the old one signed, but auditors
    then need both public keys: keep the old `signing.pub`.
    """
    path = runtime.settings.signing_key_path
    if path.exists() and not force:
        raise Conflict(f"{path} already exists (give --force to replace it)")
    _create(path, replace=force)
    return path


def public_key_pem(runtime: Runtime) -> bytes:
    return signing.public_pem(signing_key(runtime))
