"""Evidence files: Hindsight computes the SHA-256, stores by content, refuses a wrong claim."""

from __future__ import annotations

import hashlib
import io

import sqlalchemy as sa
from flask import Flask

from app.models import AuditEntry
from app.services.evidence_files import blob_path
from tests.conftest import ApiClient, runtime
from tests.integration.test_api_incidents import create

DUMP = b"\x00\x01heap dump\xff" * 500
SHA = hashlib.sha256(DUMP).hexdigest()


def _files(key: str) -> str:
    return f"/api/v1/incidents/{key}/evidence/files"


def test_raw_upload_is_hashed_stored_and_audited(app: Flask, api: ApiClient) -> None:
    key = create(api)["key"]
    resp = api.post(
        _files(key) + "?kind=log&name=heap.bin",
        data=DUMP,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert (body["sha256"], body["file_size"], body["file_name"]) == (SHA, len(DUMP), "heap.bin")
    assert body["uri"] == f"sha256:{SHA}" and body["kind"] == "log"
    assert blob_path(runtime(app).settings, SHA).read_bytes() == DUMP
    listed = api.get(f"/api/v1/incidents/{key}/evidence").json
    assert [e["sha256"] for e in listed] == [SHA]
    got = api.get(f"/api/v1/incidents/{key}/evidence/{body['id']}/file")
    assert got.status_code == 200 and got.data == DUMP
    with runtime(app).db.sessions() as s:
        entry = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert entry.action == "evidence.upload" and entry.after and entry.after["sha256"] == SHA


def test_multipart_upload_with_a_matching_claim(app: Flask, api: ApiClient) -> None:
    key = create(api)["key"]
    resp = api.post(
        _files(key),
        data={"file": (io.BytesIO(DUMP), "heap.bin", "application/x-dump"), "sha256": SHA.upper()},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["media_type"] == "application/x-dump" and resp.json["sha256"] == SHA


def test_a_wrong_claimed_sha256_is_refused_and_nothing_is_stored(
    app: Flask, api: ApiClient
) -> None:
    key = create(api)["key"]
    claim = "0" * 64
    resp = api.post(_files(key) + f"?sha256={claim}", data=DUMP)
    assert resp.status_code == 422
    assert resp.json["errors"][0]["loc"] == ["query", "sha256"] and SHA in resp.json["detail"]
    assert api.get(f"/api/v1/incidents/{key}/evidence").json == []
    assert not blob_path(runtime(app).settings, SHA).exists()


def test_limits_and_bad_input(app: Flask, api: ApiClient) -> None:
    key = create(api)["key"]
    rt = runtime(app)
    rt.settings = rt.settings.model_copy(update={"evidence_max_bytes": 1000})
    too_big = api.post(_files(key), data=DUMP)
    assert too_big.status_code == 413 and "1000 bytes" in too_big.json["detail"]
    assert api.post(_files("INC-999"), data=b"x").status_code == 404
    bad_kind = api.post(_files(key) + "?kind=rumour", data=b"x")
    assert bad_kind.status_code == 422 and bad_kind.json["errors"][0]["loc"][:2] == [
        "query",
        "kind",
    ]
    no_part = api.post(_files(key), data={"note": "x"}, content_type="multipart/form-data")
    assert no_part.status_code == 422 and no_part.json["errors"][0]["loc"] == ["body", "file"]
    assert api.as_token(None).post(_files(key), data=b"x").status_code == 401


def test_a_file_damaged_in_the_store_is_not_served(app: Flask, api: ApiClient) -> None:
    key = create(api)["key"]
    body = api.post(_files(key), data=DUMP).json
    blob_path(runtime(app).settings, SHA).write_bytes(b"changed")
    resp = api.get(f"/api/v1/incidents/{key}/evidence/{body['id']}/file")
    assert resp.status_code == 409 and "damaged" in resp.json["detail"]
