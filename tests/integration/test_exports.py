"""Compliance archives: complete, deterministic, and any change is caught by verify."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path

import pytest
from flask import Flask

from app.services.documents import import_document
from app.services.exports import ExportScope, build_archive, verify_archive
from tests.conftest import ADMIN_TOKEN, ApiClient, runtime, settle
from tests.integration.test_import_export import DOC


def _rewrite(data: bytes, name: str, content: bytes | None) -> bytes:
    """Copy an archive, replacing (or, with None, dropping) one member."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename == name:
                if content is not None:
                    dst.writestr(info, content)
            else:
                dst.writestr(info, src.read(info))
    return out.getvalue()


@pytest.fixture
def archive(app: Flask) -> bytes:
    rt = runtime(app)
    import_document(rt, copy.deepcopy(DOC), actor="test")
    settle(app)  # the import's evaluation runs on the background thread
    return build_archive(rt, ExportScope(key="INC-1"), signing_key="k" * 32)


def test_archive_holds_the_incident_record(archive: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        names = set(z.namelist())
        assert {
            "INC-1/document.json",
            "INC-1/postmortem.json",
            "INC-1/postmortem.md",
            "INC-1/actions.json",
            "INC-1/audit.jsonl",
            "audit-chain.json",
            "manifest.json",
            "manifest.sha256",
            "manifest.sig",
        } <= names
        actions = json.loads(z.read("INC-1/actions.json"))
        assert actions[1]["history"][0]["to"] == "done"
        audit_lines = z.read("INC-1/audit.jsonl").decode().splitlines()
        assert json.loads(audit_lines[0])["action"] == "incident.create"
        assert json.loads(z.read("audit-chain.json"))["ok"] is True
    check = verify_archive(archive, "k" * 32)
    assert check.ok and check.signed and check.files >= 6


def test_same_data_same_bytes(app: Flask, archive: bytes) -> None:
    again = build_archive(runtime(app), ExportScope(key="INC-1"), signing_key="k" * 32)
    assert again == archive


@pytest.mark.parametrize(
    ("member", "content", "problem"),
    [
        ("INC-1/postmortem.md", b"# rewritten history\n", "INC-1/postmortem.md: content changed"),
        ("INC-1/actions.json", None, "INC-1/actions.json: listed in the manifest but missing"),
        ("manifest.json", b'{"files": {}}', "manifest.json does not match manifest.sha256"),
    ],
)
def test_tampering_is_caught(
    archive: bytes, member: str, content: bytes | None, problem: str
) -> None:
    check = verify_archive(_rewrite(archive, member, content), "k" * 32)
    assert not check.ok
    assert any(p.startswith(problem) for p in check.problems), check.problems


def test_remade_manifest_needs_the_key(archive: bytes) -> None:
    """A forger who re-hashes everything still cannot produce the HMAC signature."""
    import hashlib

    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        manifest = json.loads(z.read("manifest.json"))
    forged_md = b"# forged\n"
    manifest["files"]["INC-1/postmortem.md"] = hashlib.sha256(forged_md).hexdigest()
    forged_manifest = json.dumps(manifest).encode()
    data = _rewrite(archive, "INC-1/postmortem.md", forged_md)
    data = _rewrite(data, "manifest.json", forged_manifest)
    data = _rewrite(
        data,
        "manifest.sha256",
        f"{hashlib.sha256(forged_manifest).hexdigest()}  manifest.json\n".encode(),
    )
    assert verify_archive(data, None).problems == [
        "archive is signed: give the signing key to check it"
    ]
    check = verify_archive(data, "k" * 32)
    assert not check.ok and "signature does not match" in check.problems[0]


def test_period_export_over_api_and_cli(
    committed_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI reads the database on a connection of its own: the data must be committed."""
    from app.cli import main

    app = committed_app
    rt = runtime(app)
    import_document(rt, copy.deepcopy(DOC), actor="test")
    api = ApiClient(app.test_client(), ADMIN_TOKEN)
    resp = api.post("/api/v1/exports", json={"from": "2026-01-01", "to": "2026-12-31"})
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert verify_archive(resp.data).ok
    assert (
        api.post("/api/v1/exports", json={"from": "2026-12-31", "to": "2026-01-01"}).status_code
        == 422
    )
    assert api.as_token(None).post("/api/v1/exports", json={"incident": "INC-1"}).status_code == 401
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", rt.settings.database_url)
    path = tmp_path / "a.zip"
    assert main(["export", "INC-1", "--archive", str(path)]) == 0
    assert main(["verify", str(path)]) == 0
    path.write_bytes(_rewrite(path.read_bytes(), "INC-1/document.json", b"{}"))
    assert main(["verify", str(path)]) == 1
