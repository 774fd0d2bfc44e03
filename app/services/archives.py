"""The compliance archive's container, and checking one with nothing but the public key.

Layout: a zip of stored (uncompressed) members in name order with fixed
timestamps, written by `pack` and nothing else. Stored, so every byte of
the zip is either a member's own byte (covered by the manifest's SHA-256
and the signature) or structure that `pack` would write again exactly: a
verifier re-packs the members it read and compares byte for byte, so one
changed byte anywhere, inside a header, the central directory or the end
record included, is named. (Deflate would leave bytes that change nothing:
the padding bits at the end of a stream.)

`manifest.json` lists each member's SHA-256; `manifest.sha256` is the
manifest's own hash; `manifest.sig` is `ed25519 <key id> <base64 signature>`
of the manifest's bytes. Every problem is one line, never a traceback.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.domain import signing

FIXED_TIME = (2000, 1, 1, 0, 0, 0)
MANIFEST, MANIFEST_HASH, MANIFEST_SIG = "manifest.json", "manifest.sha256", "manifest.sig"
FORMAT = 2
_EVIDENCE = re.compile(r"^[^/]+/evidence/([0-9a-f]{64})$")


def pack(files: list[tuple[str, bytes]]) -> bytes:
    """The one way archives are written; every field set, so any machine writes the same."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


@dataclass
class ArchiveCheck:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    files: int = 0
    signed: bool = False
    key_id: str | None = None

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def _region(data: bytes, pos: int) -> str:
    """Which part of a packed zip holds byte `pos`: a member's header or data, or the index."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        directory_at = archive.start_dir  # type: ignore[attr-defined]
    if pos >= len(data) - 22:
        return "the zip's end record"
    if pos >= directory_at:
        return "the zip's central directory"
    for info in reversed(infos):
        if pos >= info.header_offset:
            start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
            part = "local header" if pos < start else "data"
            return f"the {part} of {info.filename}"
    return "the start of the zip"


def _read_members(check: ArchiveCheck, archive: zipfile.ZipFile) -> dict[str, bytes] | None:
    """Every member's bytes; None (with the problem named) when one cannot be read."""
    members: dict[str, bytes] = {}
    readable = True
    for info in archive.infolist():
        if info.filename in members:
            check.fail(f"{info.filename}: the zip holds it twice")
            readable = False
            continue
        try:
            members[info.filename] = archive.read(info)
        except Exception as exc:  # a damaged member raises zlib, struct, zip or OS errors
            check.fail(f"{info.filename}: damaged, cannot be read ({_say(exc)})")
            readable = False
    return members if readable else None


def _say(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:160]
    return text or type(exc).__name__


def _open(check: ArchiveCheck, data: bytes) -> zipfile.ZipFile | None:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        check.fail(f"not a zip archive, or its end record is damaged ({_say(exc)})")
    except Exception as exc:  # zipfile raises more than BadZipFile on a damaged index
        check.fail(f"damaged zip structure ({_say(exc)})")
    return None


def verify_archive(data: bytes, public_key: Ed25519PublicKey | None) -> ArchiveCheck:
    """Structure, manifest, signature, every file, every evidence file: each problem named."""
    check = ArchiveCheck()
    archive = _open(check, data)
    if archive is None:
        return check
    with archive:
        members = _read_members(check, archive)
        names = [i.filename for i in archive.infolist()]
    if MANIFEST not in names:
        check.fail("manifest.json is missing: not a Hindsight compliance archive")
        return check
    if members is None:
        return check
    manifest = _manifest(check, members)
    if manifest is None:
        return check
    if manifest.get("format") == FORMAT:
        _check_structure(check, data, names, members)
    _check_signature(check, members, public_key)
    _check_files(check, members, manifest["files"])
    _check_evidence(check, members)
    return check


def _manifest(check: ArchiveCheck, members: dict[str, bytes]) -> dict[str, Any] | None:
    raw = members[MANIFEST]
    listed = members.get(MANIFEST_HASH, b"").decode("ascii", "replace").split()
    if not listed or hashlib.sha256(raw).hexdigest() != listed[0]:
        check.fail("manifest.json does not match manifest.sha256")
    try:
        manifest = json.loads(raw)
        files = manifest["files"]
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        check.fail("manifest.json is not a valid manifest")
        return None
    return manifest  # type: ignore[no-any-return]


def _check_structure(
    check: ArchiveCheck, data: bytes, names: list[str], members: dict[str, bytes]
) -> None:
    canonical = pack([(name, members[name]) for name in names])
    if names != sorted(names):
        check.fail("the zip's members are not in name order (the archive was re-packed)")
    elif canonical != data:
        pos = next(
            (i for i, (a, b) in enumerate(zip(canonical, data, strict=False)) if a != b),
            min(len(canonical), len(data)),
        )
        check.fail(f"zip structure changed at byte {pos}, in {_region(canonical, pos)}")


def _check_signature(
    check: ArchiveCheck, members: dict[str, bytes], public_key: Ed25519PublicKey | None
) -> None:
    raw = members.get(MANIFEST_SIG)
    if raw is None:
        check.fail("manifest.sig is missing: the archive is not signed")
        return
    check.signed = True
    parts = raw.decode("ascii", "replace").split()
    if parts and parts[0].startswith("hmac-sha256="):
        check.fail("signed with an HMAC by an older Hindsight: it cannot be checked with a key")
        return
    if len(parts) != 3 or parts[0] != "ed25519":
        check.fail("manifest.sig is not an Ed25519 signature line")
        return
    check.key_id = parts[1]
    if public_key is None:
        check.fail("the archive is signed: give --public-key FILE to check the signature")
        return
    given = signing.key_id(public_key)
    if parts[1] != given:
        check.fail(f"signed by key {parts[1]}, not by the key given ({given}): wrong key")
    elif not signing.verify(public_key, members[MANIFEST], parts[2]):
        check.fail("bad signature: manifest.json or manifest.sig was changed")


def _check_files(check: ArchiveCheck, members: dict[str, bytes], listed: dict[str, str]) -> None:
    """Every listed file present and unchanged; nothing in the zip that is not listed."""
    for name, expected in sorted(listed.items()):
        if name not in members:
            check.fail(f"{name}: listed in the manifest but missing")
        elif hashlib.sha256(members[name]).hexdigest() != expected:
            check.fail(f"{name}: changed (its SHA-256 differs from the manifest)")
        else:
            check.files += 1
    for extra in sorted(set(members) - set(listed) - {MANIFEST, MANIFEST_HASH, MANIFEST_SIG}):
        check.fail(f"{extra}: not listed in the manifest")


def _check_evidence(check: ArchiveCheck, members: dict[str, bytes]) -> None:
    """Evidence files are named by their SHA-256, and the export noted any it could not include."""
    for name, data in sorted(members.items()):
        match = _EVIDENCE.match(name)
        if match and hashlib.sha256(data).hexdigest() != match.group(1):
            check.fail(f"{name}: evidence file does not match the SHA-256 it is named by")
        if name.endswith("/evidence.json"):
            try:
                entries = json.loads(data)
                bad = [e for e in entries if e.get("check") not in (None, "ok")]
            except (ValueError, TypeError, AttributeError):
                check.fail(f"{name}: not a valid evidence list")
                continue
            for entry in bad:
                check.fail(
                    f"{name}: evidence {entry.get('id')} ({entry.get('file_name')}) was "
                    f"{entry.get('check')} in the evidence store at export time"
                )
