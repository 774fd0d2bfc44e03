"""The hash chain catches edits, deletions and truncation, on both backends."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from app import audit
from app.models import AuditEntry
from tests.conftest import ADMIN_TOKEN, ApiClient, runtime
from tests.integration.test_api_incidents import create


def _fill(api: ApiClient) -> str:
    key = create(api)["key"]
    for n in range(3):
        api.patch(f"/api/v1/incidents/{key}", json={"summary": f"s{n}"})
    return key


def _tamper(app: Flask, sql: str) -> None:
    """Change the stored log behind the service's back (raw SQL, committed)."""
    with runtime(app).db.sessions() as s:
        s.execute(sa.text(sql))
        s.commit()


def _verify(app: Flask) -> audit.VerifyResult:
    with runtime(app).db.sessions() as s:
        return audit.verify(s)


def test_every_write_is_audited_with_before_and_after(app: Flask, api: ApiClient) -> None:
    key = _fill(api)
    with runtime(app).db.sessions() as s:
        rows = s.execute(sa.text("SELECT action, entity_key FROM audit_log ORDER BY seq")).all()
    assert [r[0] for r in rows] == ["incident.create"] + ["incident.update"] * 3
    assert {r[1] for r in rows} == {key}
    result = api.as_token(ADMIN_TOKEN).get("/api/v1/audit/verify").json
    assert result == {"ok": True, "checked": 4, "first_broken_seq": None, "reason": None}


def test_edited_entry_is_found(app: Flask, api: ApiClient) -> None:
    _fill(api)
    _tamper(app, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    result = _verify(app)
    assert not result.ok and result.first_broken_seq == 3 and "altered" in (result.reason or "")


def test_deleted_entry_is_found(app: Flask, api: ApiClient) -> None:
    _fill(api)
    _tamper(app, "DELETE FROM audit_log WHERE seq = 2")
    result = _verify(app)
    assert not result.ok and result.first_broken_seq == 2


def test_truncated_tail_is_found(app: Flask, api: ApiClient) -> None:
    _fill(api)
    _tamper(app, "DELETE FROM audit_log WHERE seq = 4")
    result = _verify(app)
    assert not result.ok and "end" in (result.reason or "")


def test_rehashed_forgery_breaks_the_next_link(app: Flask, api: ApiClient) -> None:
    """Re-hashing the edited row is not enough: the next row still points at the old hash."""
    _fill(api)
    rt = runtime(app)
    with rt.db.sessions() as s:
        entry = s.scalars(sa.select(AuditEntry).where(AuditEntry.seq == 2)).one()
        entry.actor = "mallory"
        entry.hash = audit._digest(entry)
        s.commit()
    result = _verify(app)
    assert not result.ok and result.first_broken_seq == 3


def test_cli_verify_audit_exit_codes(  # type: ignore[no-untyped-def]
    committed_app: Flask, committed_api: ApiClient, monkeypatch
) -> None:
    """The CLI reads the database on a connection of its own: the data must be committed."""
    from app.cli import main

    _fill(committed_api)
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", runtime(committed_app).settings.database_url)
    assert main(["verify-audit"]) == 0
    _tamper(committed_app, "UPDATE audit_log SET after = NULL WHERE seq = 1")
    assert main(["verify-audit"]) == 1
