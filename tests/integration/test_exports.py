"""Compliance archives: complete, deterministic, checked with the public key alone.

Any change is named in one line: a file, the manifest, the signature, the
key, and any single byte of the zip, its headers and central directory
included.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask

from app.domain import signing
from app.services.archives import pack, verify_archive
from app.services.documents import import_document
from app.services.evidence_files import blob_path, upload_evidence
from app.services.exports import ExportScope, build_archive
from app.services.keys import public_key_pem
from tests.conftest import ADMIN_TOKEN, ApiClient, runtime, settle
from tests.integration.test_import_export import DOC

LOG = b"2026-02-01T08:02:59Z orders-db disk 100% full\n" * 40
LOG_SHA = hashlib.sha256(LOG).hexdigest()


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def _replace(data: bytes, name: str, content: bytes | None) -> bytes:
    """Re-pack an archive the way Hindsight packs it, with one member replaced or dropped."""
    members = [(n, content if n == name else d) for n, d in _members(data)]
    return pack([(n, d) for n, d in members if d is not None])


def _public(app: Flask) -> Ed25519PublicKey:
    return signing.load_public(public_key_pem(runtime(app)))


@pytest.fixture
def archive(app: Flask) -> bytes:
    rt = runtime(app)
    import_document(rt, copy.deepcopy(DOC), actor="test")
    upload_evidence(
        rt,
        "INC-1",
        stream=io.BytesIO(LOG),
        kind="log",
        file_name="orders-db.log",
        media_type="text/plain",
        note=None,
        claimed_sha256=None,
        actor="test",
    )
    settle(app)  # the import's evaluation runs on the background thread
    return build_archive(rt, ExportScope(key="INC-1"))


def test_archive_holds_the_incident_record(app: Flask, archive: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        names = set(z.namelist())
        assert {
            "INC-1/document.json",
            "INC-1/postmortem.json",
            "INC-1/postmortem.md",
            "INC-1/actions.json",
            "INC-1/audit.jsonl",
            "INC-1/evidence.json",
            f"INC-1/evidence/{LOG_SHA}",
            "audit-chain.json",
            "audit-checkpoint.json",
            "manifest.json",
            "manifest.sha256",
            "manifest.sig",
        } <= names
        actions = json.loads(z.read("INC-1/actions.json"))
        assert actions[1]["history"][0]["to"] == "done"
        audit_lines = z.read("INC-1/audit.jsonl").decode().splitlines()
        assert json.loads(audit_lines[0])["action"] == "incident.create"
        chain = json.loads(z.read("audit-chain.json"))
        assert chain["ok"] is True and chain["broken"] == []
        checkpoint = json.loads(z.read("audit-checkpoint.json"))
        assert (checkpoint["seq"], checkpoint["hash"]) == (chain["head_seq"], chain["head_hash"])
        evidence = {e["file_name"]: e for e in json.loads(z.read("INC-1/evidence.json"))}
        assert evidence["orders-db.log"]["sha256"] == LOG_SHA
        assert evidence["orders-db.log"]["check"] == "ok"
        assert z.read(f"INC-1/evidence/{LOG_SHA}") == LOG
    check = verify_archive(archive, _public(app))
    assert check.ok, check.problems
    assert check.signed and check.files >= 8


def test_same_data_same_bytes(app: Flask, archive: bytes) -> None:
    assert build_archive(runtime(app), ExportScope(key="INC-1")) == archive


@pytest.mark.parametrize(
    ("member", "content", "problem"),
    [
        ("INC-1/postmortem.md", b"# rewritten history\n", "INC-1/postmortem.md: changed"),
        ("INC-1/actions.json", None, "INC-1/actions.json: listed in the manifest but missing"),
        ("manifest.json", b'{"files": {}}', "manifest.json does not match manifest.sha256"),
        (f"INC-1/evidence/{LOG_SHA}", b"tidied log\n", f"INC-1/evidence/{LOG_SHA}: evidence"),
    ],
)
def test_tampering_is_named(
    app: Flask, archive: bytes, member: str, content: bytes | None, problem: str
) -> None:
    check = verify_archive(_replace(archive, member, content), _public(app))
    assert not check.ok
    assert any(p.startswith(problem) for p in check.problems), check.problems


def test_remade_manifest_fails_the_signature(app: Flask, archive: bytes) -> None:
    """A forger who re-hashes everything and re-packs cannot make the Ed25519 signature."""
    members = dict(_members(archive))
    manifest = json.loads(members["manifest.json"])
    members["INC-1/postmortem.md"] = b"# forged\n"
    manifest["files"]["INC-1/postmortem.md"] = hashlib.sha256(b"# forged\n").hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    sha = hashlib.sha256(members["manifest.json"]).hexdigest()
    members["manifest.sha256"] = f"{sha}  manifest.json\n".encode()
    check = verify_archive(pack(sorted(members.items())), _public(app))
    assert check.problems == ["bad signature: manifest.json or manifest.sig was changed"]


def test_the_key_decides(app: Flask, archive: bytes) -> None:
    other = signing.generate().public_key()
    wrong = verify_archive(archive, other).problems
    assert len(wrong) == 1 and wrong[0].endswith("wrong key") and signing.key_id(other) in wrong[0]
    assert verify_archive(archive, None).problems == [
        "the archive is signed: give --public-key FILE to check the signature"
    ]
    unsigned = verify_archive(_replace(archive, "manifest.sig", None), _public(app))
    assert unsigned.problems == ["manifest.sig is missing: the archive is not signed"]


def _positions(data: bytes) -> list[int]:
    """Every byte of the zip's structure, and every 61st byte of the members' data."""
    structure: set[int] = set(range(len(data) - 22, len(data)))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        directory = z.start_dir  # type: ignore[attr-defined]
        structure |= set(range(directory, len(data)))
        for info in z.infolist():
            structure |= set(
                range(info.header_offset, info.header_offset + 30 + len(info.filename))
            )
    return sorted(structure | set(range(0, len(data), 61)))


@pytest.mark.parametrize("flip", [0x01, 0xFF])
def test_one_changed_byte_anywhere_is_named_in_one_line(
    app: Flask, archive: bytes, flip: int
) -> None:
    key = _public(app)
    positions = _positions(archive)
    assert len(positions) > 1000
    for pos in positions:
        damaged = bytearray(archive)
        damaged[pos] ^= flip
        check = verify_archive(bytes(damaged), key)
        assert not check.ok, f"byte {pos} changed unnoticed"
        assert check.problems and all("\n" not in p and p for p in check.problems), (pos, check)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "not a zip archive"),
        (b"%PDF-1.7 not an archive at all", "not a zip archive"),
        (pack([("report.txt", b"hello")]), "manifest.json is missing: not a Hindsight"),
    ],
)
def test_a_foreign_file_is_named(app: Flask, data: bytes, problem: str) -> None:
    check = verify_archive(data, _public(app))
    assert not check.ok and check.problems[0].startswith(problem), check.problems


def test_truncated_archive(app: Flask, archive: bytes) -> None:
    for size in (10, len(archive) // 2, len(archive) - 1):
        check = verify_archive(archive[:size], _public(app))
        assert not check.ok and len(check.problems) >= 1


def test_evidence_damaged_in_the_store_is_recorded_and_fails_verify(
    app: Flask, archive: bytes
) -> None:
    rt = runtime(app)
    blob_path(rt.settings, LOG_SHA).write_bytes(b"edited on disk\n")
    data = build_archive(rt, ExportScope(key="INC-1"))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert f"INC-1/evidence/{LOG_SHA}" not in z.namelist()
        (entry,) = [e for e in json.loads(z.read("INC-1/evidence.json")) if e["file_name"]]
        assert entry["check"] == "changed"
    check = verify_archive(data, _public(app))
    assert check.problems == [
        "INC-1/evidence.json: evidence 2 (orders-db.log) was changed in the evidence store "
        "at export time"
    ]


def test_period_export_over_api_and_cli(
    committed_app: Flask,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The CLI reads the database on a connection of its own: the data must be committed."""
    from app.cli import main

    app = committed_app
    rt = runtime(app)
    import_document(rt, copy.deepcopy(DOC), actor="test")
    api = ApiClient(app.test_client(), ADMIN_TOKEN)
    resp = api.post("/api/v1/exports", json={"from": "2026-01-01", "to": "2026-12-31"})
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    pub = api.as_token(None).get("/api/v1/keys/signing.pub")  # no token needed
    assert pub.status_code == 200 and pub.mimetype == "application/x-pem-file"
    assert verify_archive(resp.data, signing.load_public(pub.data)).ok
    assert (
        api.post("/api/v1/exports", json={"from": "2026-12-31", "to": "2026-01-01"}).status_code
        == 422
    )
    assert api.as_token(None).post("/api/v1/exports", json={"incident": "INC-1"}).status_code == 401
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", rt.settings.database_url)
    key_file, path = tmp_path / "signing.pub", tmp_path / "a.zip"
    key_file.write_bytes(pub.data)
    assert main(["export", "INC-1", "--archive", str(path)]) == 0
    # An auditor's machine: no data directory, no secret, only the public key.
    monkeypatch.setenv("HINDSIGHT_DATA_DIR", str(tmp_path / "auditor"))
    assert main(["verify", str(path), "--public-key", str(key_file)]) == 0
    assert main(["verify", str(path)]) == 2  # no key of its own, none given
    capsys.readouterr()
    damaged = bytearray(path.read_bytes())
    damaged[-20] ^= 0x40  # inside the end-of-central-directory record
    path.write_bytes(bytes(damaged))
    assert main(["verify", str(path), "--public-key", str(key_file)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") >= 1
    assert all(line.startswith(f"{path}: ") for line in err.splitlines()), err
    key_file.write_text("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    assert main(["verify", str(path), "--public-key", str(key_file)]) == 2
    assert "not a PEM public key" in capsys.readouterr().err
