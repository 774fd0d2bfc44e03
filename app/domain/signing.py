"""Ed25519 signatures: what lets an auditor check Hindsight's archives and checkpoints alone.

An HMAC needs the service's secret to check; an Ed25519 signature needs only
the public key, which Hindsight serves and anyone may hold. Signatures are
deterministic (RFC 8032), so the same archive signed twice is the same bytes.
Keys are PEM: PKCS#8 for the private key, SubjectPublicKeyInfo for the public.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class BadKey(ValueError):
    """A key file that is not an Ed25519 key in PEM (the message says what it is instead)."""


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise BadKey(f"not an unencrypted PEM private key ({_first_line(exc)})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BadKey(f"a {type(key).__name__.lstrip('_')}, not an Ed25519 key")
    return key


def load_public(pem: bytes) -> Ed25519PublicKey:
    """A public key PEM; a private key PEM is accepted too (its public half is used)."""
    if b"PRIVATE KEY" in pem:
        return load_private(pem).public_key()
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise BadKey(f"not a PEM public key ({_first_line(exc)})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise BadKey(f"a {type(key).__name__.lstrip('_')}, not an Ed25519 key")
    return key


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """A short name for a key: the first 16 hex digits of SHA-256 of its raw public bytes."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data)).decode()


def verify(key: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:120]
