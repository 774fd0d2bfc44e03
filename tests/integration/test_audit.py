"""The hash chain catches edits, deletions and truncation, on both backends.

Every break is reported and the right entry named; numbers of every shape
survive each database's round trip; a rewrite re-hashed forward or a tail
cut with its head moved fails against a signed checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from app import audit
from app.domain import signing
from app.domain.errors import Invalid
from app.models import AuditEntry
from app.runtime import Runtime
from app.services.checkpoints import verify_chain, write_checkpoint
from app.services.keys import public_key_pem
from tests.conftest import ADMIN_TOKEN, ApiClient, runtime
from tests.integration.test_api_incidents import create


def _fill(api: ApiClient, writes: int = 3) -> str:
    key = create(api)["key"]
    for n in range(writes):
        api.patch(f"/api/v1/incidents/{key}", json={"summary": f"s{n}"})
    return key


def _tamper(app: Flask, sql: str, **params: object) -> None:
    """Change the stored log behind the service's back (raw SQL, committed)."""
    with runtime(app).db.sessions() as s:
        s.execute(sa.text(sql), params)
        s.commit()


def _verify(app: Flask) -> audit.VerifyResult:
    with runtime(app).db.sessions() as s:
        return audit.verify(s)


def _rehash_forward(rt: Runtime, from_seq: int, actor: str = "mallory") -> None:
    """What a forger with database access does: edit, re-hash every later entry, move the head."""
    with rt.db.sessions() as s:
        entries = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)).all()
        prev = audit.GENESIS
        for entry in entries:
            if entry.seq == from_seq:
                entry.actor = actor
            if entry.seq >= from_seq:
                entry.prev_hash = prev
                entry.hash = audit.digest(entry)
            prev = entry.hash
        s.execute(sa.text("UPDATE audit_head SET last_hash = :h"), {"h": prev})
        s.commit()


def test_every_write_is_audited_with_before_and_after(app: Flask, api: ApiClient) -> None:
    key = _fill(api)
    with runtime(app).db.sessions() as s:
        rows = s.execute(sa.text("SELECT action, entity_key FROM audit_log ORDER BY seq")).all()
    assert [r[0] for r in rows] == ["incident.create"] + ["incident.update"] * 3
    assert {r[1] for r in rows} == {key}
    result = api.as_token(ADMIN_TOKEN).get("/api/v1/audit/verify").json
    assert result["ok"] is True and result["checked"] == 4 and result["head_seq"] == 4
    assert result["broken"] == [] and result["first_broken_seq"] is None
    assert not runtime(app).settings.signing_key_path.exists()  # verifying creates no key


@pytest.mark.parametrize(
    "revenue",
    [1e20, 1e16, -0.0, 123456789012345678901234567890, 0.1, 5e-324, 1.7976931348623157e308],
)
def test_numbers_of_every_shape_leave_the_chain_verifiable(
    app: Flask, api: ApiClient, revenue: float
) -> None:
    """PostgreSQL's JSONB hands 1e20 back as an integer and -0.0 as 0.0: the hash holds."""
    key = create(api)["key"]
    body = '{"impact": {"revenue": %s, "customers": 1}}' % repr(revenue)  # noqa: UP031
    resp = api.patch(
        f"/api/v1/incidents/{key}", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 200, resp.json
    result = api.as_token(ADMIN_TOKEN).get("/api/v1/audit/verify").json
    assert result["ok"] is True, result
    assert result["checked"] >= 2


def test_edited_entry_is_found(app: Flask, api: ApiClient) -> None:
    _fill(api)
    _tamper(app, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    result = _verify(app)
    assert not result.ok and result.first_broken_seq == 3 and "altered" in (result.reason or "")


def test_every_broken_entry_is_reported(app: Flask, api: ApiClient) -> None:
    """A first break does not hide a later edit."""
    _fill(api, writes=5)
    _tamper(app, "UPDATE audit_log SET actor = 'mallory' WHERE seq IN (2, 5)")
    result = _verify(app)
    assert [(b.seq, "altered" in b.reason) for b in result.broken] == [(2, True), (5, True)]


def test_deleted_entry_is_found(app: Flask, api: ApiClient) -> None:
    _fill(api)
    _tamper(app, "DELETE FROM audit_log WHERE seq = 2")
    result = _verify(app)
    assert not result.ok and result.first_broken_seq == 2 and "missing" in (result.reason or "")


def test_truncated_tail_is_found(app: Flask, api: ApiClient) -> None:
    _fill(api)
    _tamper(app, "DELETE FROM audit_log WHERE seq = 4")
    result = _verify(app)
    assert not result.ok and result.first_broken_seq == 4 and "end" in (result.reason or "")


def test_rehashed_entry_is_the_one_named(app: Flask, api: ApiClient) -> None:
    """Re-hashing the edited row: the next row still points at the old hash; name the edited one."""
    _fill(api)
    rt = runtime(app)
    with rt.db.sessions() as s:
        entry = s.scalars(sa.select(AuditEntry).where(AuditEntry.seq == 2)).one()
        entry.actor = "mallory"
        entry.hash = audit.digest(entry)
        s.commit()
    result = _verify(app)
    assert [b.seq for b in result.broken] == [2]
    assert "re-hashed" in result.broken[0].reason


def test_entries_written_before_0006_keep_verifying(app: Flask, api: ApiClient) -> None:
    """Version 1 entries are checked the old way; a downgrade after version 2 is reported."""
    _fill(api)
    with runtime(app).db.sessions() as s:
        entries = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)).all()
        prev = audit.GENESIS
        for entry in entries[:3]:  # the first three as a pre-0006 Hindsight wrote them
            entry.hash_version, entry.prev_hash = 1, prev
            entry.hash = prev = audit.digest(entry)
        entries[3].prev_hash = prev
        entries[3].hash = audit.digest(entries[3])
        s.execute(sa.text("UPDATE audit_head SET last_hash = :h"), {"h": entries[3].hash})
        s.commit()
    assert _verify(app).ok
    _tamper(app, "UPDATE audit_log SET hash_version = 1 WHERE seq = 4")
    assert [b.seq for b in _verify(app).broken] == [4]


def test_rewrite_rehashed_forward_fails_against_the_checkpoint(app: Flask, api: ApiClient) -> None:
    _fill(api, writes=5)
    rt = runtime(app)
    assert write_checkpoint(rt) is not None
    _fill(api, writes=1)  # the chain goes on after the checkpoint: that is fine
    assert verify_chain(rt).ok
    _rehash_forward(rt, from_seq=3)
    assert _verify(app).ok  # the chain alone cannot tell
    result = verify_chain(rt)
    assert not result.ok and result.checkpoints == 1
    (broken,) = result.broken
    assert broken.seq == 1 and "entries 1..6 were rewritten" in broken.reason


def test_truncation_with_the_head_moved_fails_against_the_checkpoint(
    app: Flask, api: ApiClient
) -> None:
    _fill(api)
    rt = runtime(app)
    checkpoint = write_checkpoint(rt)
    assert checkpoint is not None
    held = [(checkpoint.name, checkpoint.read_bytes())]
    with rt.db.sessions() as s:
        h3 = s.scalar(sa.select(AuditEntry.hash).where(AuditEntry.seq == 3))
        s.execute(sa.text("DELETE FROM audit_log WHERE seq = 4"))
        s.execute(sa.text("UPDATE audit_head SET last_seq = 3, last_hash = :h"), {"h": h3})
        s.commit()
    assert _verify(app).ok  # the chain alone cannot tell
    checkpoint.unlink()  # the forger cleans up the host too; the auditor kept a copy
    assert verify_chain(rt).ok
    public = signing.load_public(public_key_pem(rt))
    result = verify_chain(rt, held=held, public_key=public)
    assert not result.ok and "entries were removed from the end" in (result.reason or "")


def test_a_forged_checkpoint_is_refused(app: Flask, api: ApiClient) -> None:
    _fill(api)
    rt = runtime(app)
    path = write_checkpoint(rt)
    assert path is not None
    changed = path.read_text().replace('"seq": 4', '"seq": 40')
    with pytest.raises(Invalid, match="bad signature"):
        verify_chain(rt, held=[("held.json", changed.encode())])
    with pytest.raises(Invalid, match="wrong key"):
        verify_chain(
            rt, held=[("held.json", path.read_bytes())], public_key=signing.generate().public_key()
        )
    path.write_text(changed)  # a stored checkpoint that no longer verifies is itself reported
    result = verify_chain(rt)
    assert not result.ok and "bad signature" in (result.reason or "")


def test_cli_verify_audit_and_checkpoint(  # type: ignore[no-untyped-def]
    committed_app: Flask, committed_api: ApiClient, monkeypatch, tmp_path: Path, capsys
) -> None:
    """The CLI reads the database on a connection of its own: the data must be committed."""
    from app.cli import main

    _fill(committed_api)
    rt = runtime(committed_app)
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", rt.settings.database_url)
    assert main(["audit", "checkpoint"]) == 0
    held = Path(capsys.readouterr().out.strip())
    key = tmp_path / "signing.pub"
    assert main(["keys", "show"]) == 0
    key.write_text(capsys.readouterr().out)
    assert main(["verify-audit"]) == 0
    auditor = ["audit", "verify", "--checkpoint", str(held), "--public-key", str(key)]
    assert main(auditor) == 0
    _rehash_forward(rt, from_seq=2)
    held.rename(tmp_path / held.name)  # removed from the host; the auditor holds it
    assert main(["verify-audit"]) == 0
    capsys.readouterr()
    auditor[3] = str(tmp_path / held.name)
    assert main(auditor) == 1
    assert "BROKEN at entry 1: entries 1..4 were rewritten" in capsys.readouterr().err
    _tamper(committed_app, "UPDATE audit_log SET after = NULL WHERE seq = 1")
    assert main(["verify-audit"]) == 1


def test_checkpoints_without_the_key_are_reported(app: Flask, api: ApiClient) -> None:
    _fill(api)
    rt = runtime(app)
    assert write_checkpoint(rt) is not None
    rt.settings.signing_key_path.unlink()
    result = verify_chain(rt)
    assert not result.ok and "no signing key at" in (result.reason or "")


def test_a_batch_appends_the_chain_one_by_one_would(app: Flask, api: ApiClient) -> None:
    """`record_many` (the follow-through sweep's batch) links each entry to the one before."""
    key = create(api)["key"]
    entries = [
        audit.Entry(
            actor="follow-through",
            action="action.escalate",
            entity_type="action",
            entity_key=f"ACT-{n}",
            after={"step": f"L{n}@2026-12-01", "level": n, "amount": 1e20},
        )
        for n in range(1, 4)
    ]
    with runtime(app).db.sessions() as s:
        audit.record_many(s, entries)
        audit.record(
            s, actor="test", action="incident.note", entity_type="incident", entity_key=key
        )
        s.commit()
    with runtime(app).db.sessions() as s:
        rows = s.execute(sa.text("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert all(
        later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:], strict=False)
    )
    assert _verify(app).ok
    _tamper(app, "UPDATE audit_log SET entity_key = 'ACT-9' WHERE seq = 3")
    result = _verify(app)
    assert not result.ok and result.first_broken_seq == 3
