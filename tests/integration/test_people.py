"""Issue 13, points 1-3 and 8 through the API: evidence, people, workflow, compliance clocks.

Every test runs on SQLite and PostgreSQL (the `api` / `rt` fixtures).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from app.models import AuditEntry
from app.runtime import Runtime
from app.services.documents import import_file_once
from tests.conftest import ADMIN_TOKEN, CONFIG_DIR, ApiClient
from tests.integration.test_rules_api import add_action, complete_incident, findings

DEMO = Path(__file__).resolve().parents[2] / "demo"
PROBLEM = "application/problem+json"


def token_for(api: ApiClient, owner: str, *scopes: str, **extra: Any) -> ApiClient:
    """A token held by `owner`, issued by an admin through the API."""
    name = re.sub(r"[^a-z0-9]+", "-", owner.lower()) + "-" + "-".join(scopes)
    issued = api.as_token(ADMIN_TOKEN).post(
        "/api/v1/tokens", json={"name": name, "owner": owner, "scopes": list(scopes), **extra}
    )
    assert issued.status_code == 201, issued.json
    assert issued.json["owner"] == owner and issued.json["state"] == "active"
    return api.as_token(issued.json["token"])


def audit(rt: Runtime, action: str) -> list[AuditEntry]:
    with rt.db.sessions() as s:
        return list(s.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


# --- 1. Verification is evidence ------------------------------------------------------------


def done_action(api: ApiClient, owner: str = "Maya Okafor") -> tuple[str, str]:
    key = complete_incident(api)
    act = add_action(api, key, owner=owner)["key"]
    assert api.patch(f"/api/v1/actions/{act}", json={"status": "done"}).status_code == 200
    return key, act


CHECK = {
    "checked": "Pushed a config change; the deploy log shows it held at the 5% canary gate",
    "result": "pass",
    "evidence": "https://deploy.example.com/runs/8812",
}


def test_verifying_without_a_record_is_refused_with_the_way_to_do_it(api: ApiClient) -> None:
    _, act = done_action(api)
    refused = api.patch(f"/api/v1/actions/{act}", json={"status": "verified"})
    assert refused.status_code == 409 and refused.mimetype == PROBLEM
    assert refused.json["validations"] == f"/api/v1/actions/{act}/validations"
    assert "validations" in refused.json["detail"]
    assert api.get(f"/api/v1/actions/{act}").json["status"] == "done"
    missing = api.post(f"/api/v1/actions/{act}/validations", json={**CHECK, "evidence": ""})
    assert missing.status_code == 422 and missing.json["errors"][0]["loc"] == ["body", "evidence"]


def test_a_passing_record_verifies_and_is_shown_and_audited(api: ApiClient, rt: Runtime) -> None:
    _, act = done_action(api)
    checker = token_for(api, "Ravi Menon", "write")
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    verified = checker.post(f"/api/v1/actions/{act}/validations", json={**CHECK, "checked_at": at})
    assert verified.status_code == 201, verified.json
    body = verified.json
    assert body["status"] == "verified" and body["verified_at"] is not None
    [record] = body["validations"]
    assert record["checked_by"] == "Ravi Menon" and record["result"] == "pass"
    assert record["evidence"] == CHECK["evidence"] and record["checked_at"].startswith(at[:16])
    assert api.get(f"/api/v1/actions/{act}").json["validations"] == [record]
    [entry] = audit(rt, "action.validate")
    assert entry.actor == "Ravi Menon" and entry.after is not None
    assert entry.after["result"] == "pass" and entry.after["status"] == "verified"
    assert body["history"][-1]["actor"] == "Ravi Menon"
    # The compliance archive carries the evidence too.
    key = body["incident_key"]
    exported = api.as_token(ADMIN_TOKEN).post("/api/v1/exports", json={"incident": key})
    assert exported.status_code == 200
    with zipfile.ZipFile(io.BytesIO(exported.data)) as z:
        actions = json.loads(z.read(f"{key}/actions.json"))
    [mine] = [a for a in actions if a["key"] == act]
    assert [(v["checked_by"], v["result"]) for v in mine["validations"]] == [("Ravi Menon", "pass")]


def test_the_owner_cannot_verify_their_own_action(api: ApiClient, rt: Runtime) -> None:
    assert rt.policy.verification.verifier_must_differ_from_owner  # config/policy.yaml
    _, act = done_action(api, owner="Maya Okafor")
    owner = token_for(api, "maya@example.com", "write")  # the same catalog person
    refused = owner.post(f"/api/v1/actions/{act}/validations", json=CHECK)
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    assert "owns this action" in refused.json["detail"]
    assert api.get(f"/api/v1/actions/{act}").json["validations"] == []
    # The owner may still report that their own action failed its check.
    failed = owner.post(f"/api/v1/actions/{act}/validations", json={**CHECK, "result": "fail"})
    assert failed.status_code == 201 and failed.json["status"] == "open"


def test_a_failed_check_reopens_the_action_with_a_finding(api: ApiClient) -> None:
    key, act = done_action(api)
    checker = token_for(api, "Ravi Menon", "write")
    assert checker.post(f"/api/v1/actions/{act}/validations", json=CHECK).json["status"] == (
        "verified"
    )
    failing = {
        "checked": "Canary gate bypassed by the hotfix path in the October drill",
        "result": "fail",
        "evidence": "https://deploy.example.com/runs/9120",
    }
    reopened = checker.post(f"/api/v1/actions/{act}/validations", json=failing)
    assert reopened.status_code == 201 and reopened.json["status"] == "open"
    assert reopened.json["verified_at"] is None and len(reopened.json["validations"]) == 2
    assert reopened.json["history"][-1]["reason"].startswith("validation failed")
    [finding] = [f for f in findings(api, key) if f["rule"] == "verification.failed"]
    assert finding["entity_key"] == act and "hotfix path" in finding["message"]
    assert finding["details"]["evidence"] == failing["evidence"]
    # A pass now is refused: the action has to be done again first.
    again = checker.post(f"/api/v1/actions/{act}/validations", json=CHECK)
    assert again.status_code == 409 and again.mimetype == PROBLEM
    assert api.patch(f"/api/v1/actions/{act}", json={"status": "done"}).status_code == 200
    assert checker.post(f"/api/v1/actions/{act}/validations", json=CHECK).status_code == 201
    assert not [f for f in findings(api, key) if f["rule"].startswith("verification.")]


def test_validation_endpoint_is_in_openapi(api: ApiClient) -> None:
    paths = api.get("/openapi.json").json["paths"]
    assert "post" in paths["/api/v1/actions/{key}/validations"]
    assert "post" in paths["/api/v1/incidents/{key}/reopen"]
    assert {"get", "post"} <= set(paths["/api/v1/tokens"])


# --- 2. People, roles and tokens -------------------------------------------------------------


def test_tokens_are_listed_revoked_and_audit_names_the_owner(api: ApiClient, rt: Runtime) -> None:
    admin = api.as_token(ADMIN_TOKEN)
    priya = token_for(api, "Priya Raman", "write")
    created = priya.post("/api/v1/incidents", json={"title": "Search latency", "severity": "SEV3"})
    assert created.status_code == 201
    [entry] = [e for e in audit(rt, "incident.create") if e.entity_key == created.json["key"]]
    assert entry.actor == "Priya Raman"  # the person, not "token:..."
    listed = admin.get("/api/v1/tokens").json
    [row] = [t for t in listed if t["owner"] == "Priya Raman"]
    assert row["kind"] == "person" and row["scopes"] == ["write"] and "token" not in row
    assert row["last_used_at"] is not None
    assert priya.get("/api/v1/tokens").status_code == 403  # admin scope only
    revoked = admin.delete(f"/api/v1/tokens/{row['name']}")
    assert revoked.status_code == 200 and revoked.json["state"] == "revoked"
    refused = priya.get("/api/v1/incidents")
    assert refused.status_code == 401 and refused.mimetype == PROBLEM
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "revoked" in refused.json["detail"]
    assert admin.delete(f"/api/v1/tokens/{row['name']}").status_code == 409
    assert admin.delete("/api/v1/tokens/nobody").status_code == 404
    assert [e.actor for e in audit(rt, "token.revoke")] == ["ci-admin"]


def test_an_expired_token_gets_401(api: ApiClient, rt: Runtime) -> None:
    now = datetime.now(UTC)
    ci = token_for(
        api,
        "nightly-report",
        "read",
        kind="automation",
        expires_at=(now + timedelta(days=1)).isoformat(),
    )
    assert ci.get("/api/v1/incidents").status_code == 200
    rt.clock = lambda: now + timedelta(days=1, seconds=1)  # a day later (restored after the test)
    expired = ci.get("/api/v1/incidents")
    assert expired.status_code == 401 and "expired" in expired.json["detail"]
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")
    [row] = [
        t for t in api.as_token(ADMIN_TOKEN).get("/api/v1/tokens").json if t["kind"] == "automation"
    ]
    assert row["state"] == "expired"
    past = api.as_token(ADMIN_TOKEN).post(
        "/api/v1/tokens",
        json={"name": "late", "owner": "x", "scopes": ["read"], "expires_at": now.isoformat()},
    )
    assert past.status_code == 422 and past.json["errors"][0]["loc"] == ["body", "expires_at"]


def _finding(api: ApiClient, key: str, rule: str) -> dict[str, Any]:
    [found] = [f for f in findings(api, key) if f["rule"] == rule]
    return found


def test_only_the_facilitator_or_an_admin_may_waive(api: ApiClient, rt: Runtime) -> None:
    key = complete_incident(api)  # facilitator: Noor Haddad
    add_action(api, key, owner="Somebody Unknown")
    url = f"/api/v1/incidents/{key}/findings/{_finding(api, key, 'ownership.unknown_owner')['id']}"
    reason = {"reason": "Contractor; catalog entry requested in HR-1234"}
    refused = token_for(api, "Ravi Menon", "write").post(f"{url}/waive", json=reason)
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    assert "facilitator" in refused.json["detail"]
    assert api.post(f"{url}/waive", json=reason).status_code == 403  # a write automation, too
    noor = token_for(api, "Noor Haddad", "write")
    waived = noor.post(f"{url}/waive", json=reason)
    assert waived.status_code == 201 and waived.json["waived_by"] == "Noor Haddad"
    [entry] = audit(rt, "finding.waive")
    assert entry.actor == "Noor Haddad" and entry.after is not None
    assert entry.after["reason"] == reason["reason"]


def test_regulatory_blockers_are_admin_only(api: ApiClient) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=4)
    key = complete_incident(
        api,
        regulatory=["gdpr"],
        started_at=long_ago.isoformat(),
        detected_at=(long_ago + timedelta(minutes=5)).isoformat(),
        resolved_at=(long_ago + timedelta(hours=2)).isoformat(),
    )
    overdue = _finding(api, key, "compliance.overdue")
    url = f"/api/v1/incidents/{key}/findings/{overdue['id']}/waive"
    reason = {"reason": "Counsel confirmed no personal data left the processor"}
    noor = token_for(api, "Noor Haddad", "write")
    refused = noor.post(url, json=reason)
    assert refused.status_code == 403 and "regulatory" in refused.json["detail"]
    assert api.as_token(ADMIN_TOKEN).post(url, json=reason).status_code == 201


def test_a_waiver_with_an_expiry_lapses(api: ApiClient, rt: Runtime) -> None:
    key = complete_incident(api)
    add_action(api, key, owner=None)
    blocker = _finding(api, key, "ownership.missing")
    now = datetime.now(UTC)
    until = (now + timedelta(days=7)).isoformat()
    waived = api.as_token(ADMIN_TOKEN).post(
        f"/api/v1/incidents/{key}/findings/{blocker['id']}/waive",
        json={"reason": "Owner named at Monday's review", "expires_at": until},
    )
    assert waived.status_code == 201 and waived.json["waiver_expires_at"] is not None
    publish = {"status": "published"}
    rt.clock = lambda: now + timedelta(days=8)  # the week is over
    lapsed = _finding(api, key, "ownership.missing")
    assert lapsed["waived"] is False and lapsed["waiver_lapsed"] is True
    refused = api.patch(f"/api/v1/incidents/{key}/postmortem", json=publish)
    assert refused.status_code == 409
    assert [b["rule"] for b in refused.json["blockers"]] == ["ownership.missing"]


# --- 3. Incident workflow ---------------------------------------------------------------------


def test_reopening_is_explicit_and_puts_the_postmortem_back_to_draft(
    api: ApiClient, rt: Runtime
) -> None:
    key = complete_incident(api)
    base = f"/api/v1/incidents/{key}"
    publish = api.patch(f"{base}/postmortem", json={"status": "published"})
    assert publish.status_code == 200, publish.json
    plain = api.patch(base, json={"status": "open"})
    assert plain.status_code == 409 and plain.mimetype == PROBLEM
    assert plain.json["reopen"] == f"{base}/reopen" and f"{base}/reopen" in plain.json["detail"]
    assert api.post(f"{base}/reopen", json={"reason": "short"}).status_code == 422
    reopened = api.post(
        f"{base}/reopen", json={"reason": "Errors came back after the config rollback"}
    )
    assert reopened.status_code == 200, reopened.json
    assert reopened.json["status"] == "open" and reopened.json["resolved_at"] is None
    assert reopened.json["postmortem_status"] == "draft"
    postmortem = api.get(f"{base}/postmortem").json["postmortem"]
    assert postmortem["status"] == "draft" and postmortem["published_at"] is None
    [entry] = audit(rt, "incident.reopen")
    assert entry.before is not None and entry.after is not None
    assert entry.before["status"] == "resolved" and entry.before["postmortem_status"] == "published"
    assert entry.after["reason"].startswith("Errors came back") and entry.actor == "ci-write"
    events = api.get(f"{base}/timeline").json
    assert any(e["kind"] == "status_change" and "Reopened" in e["text"] for e in events)
    again = api.post(f"{base}/reopen", json={"reason": "Still open, nothing to reopen"})
    assert again.status_code == 409
    # Live again, it moves by PATCH and resolves as before.
    assert api.patch(base, json={"status": "investigating"}).status_code == 200
    assert api.patch(base, json={"status": "closed"}).status_code == 200
    assert api.patch(base, json={"status": "resolved"}).status_code == 409


# --- 8. Compliance clocks see what happened --------------------------------------------------


def _import(rt: Runtime, path: Path) -> str:
    key, created = import_file_once(rt, path, source="demo", actor="demo")
    assert created
    return key


def test_the_recorded_sec_notification_meets_the_reg_sci_notice(
    api: ApiClient, rt: Runtime, tmp_path: Path
) -> None:
    """Demo 02 records its SEC notices as notification events; without them they are overdue."""
    source = DEMO / "02-trading-market-data.yaml"
    doc = yaml.safe_load(source.read_text())
    untold = [
        {k: v for k, v in e.items() if k != "obligation"} | {"kind": "communication"}
        if e.get("kind") == "notification"
        else e
        for e in doc["timeline"]
    ]
    counterfactual = tmp_path / "02-untold.yaml"
    counterfactual.write_text(yaml.safe_dump({**doc, "timeline": untold}))
    told_key, untold_key = _import(rt, source), _import(rt, counterfactual)
    api.post(f"/api/v1/incidents/{told_key}/evaluate")
    api.post(f"/api/v1/incidents/{untold_key}/evaluate")
    notice = "sec_reg_sci.immediate_notice"

    def overdue(key: str) -> set[str]:
        return {
            f["details"]["obligation"]
            for f in findings(api, key)
            if f["rule"] == "compliance.overdue"
        }

    assert notice in overdue(untold_key)  # the test can fail: the same incident, untold
    assert overdue(told_key) == set()
    assert not [f for f in findings(api, told_key) if f["rule"].startswith("completeness.timeline")]


def test_a_notification_must_name_a_known_obligation(api: ApiClient) -> None:
    key = complete_incident(api, regulatory=["gdpr"])
    url = f"/api/v1/incidents/{key}/timeline"
    at = datetime.now(UTC).isoformat()
    event = {"at": at, "kind": "notification", "text": "Told the ICO (ref 114)"}
    typo = api.post(url, json={**event, "obligation": "gdpr.supervisory"})
    assert typo.status_code == 422 and typo.json["errors"][0]["loc"] == ["body", "obligation"]
    assert "gdpr.supervisory_authority" in typo.json["errors"][0]["msg"]
    wrong_kind = api.post(
        url, json={**event, "kind": "note", "obligation": "gdpr.supervisory_authority"}
    )
    assert wrong_kind.status_code == 422
    before = {f["rule"] for f in findings(api, key) if f["rule"].startswith("compliance.")}
    assert "compliance.due" in before
    told = api.post(url, json={**event, "obligation": "gdpr.supervisory_authority"})
    assert told.status_code == 201 and told.json["obligation"] == "gdpr.supervisory_authority"
    assert not [f for f in findings(api, key) if f["rule"].startswith("compliance.")]


def test_token_commands_create_list_revoke(
    committed_api: ApiClient,
    committed_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`hindsight tokens create|list|revoke`: the token works until revoked, then 401."""
    from app.cli import main

    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", committed_database_url)
    monkeypatch.setenv("HINDSIGHT_CONFIG_DIR", str(CONFIG_DIR))
    monkeypatch.delenv("HINDSIGHT_REDIS_URL", raising=False)
    args = ["--name", "deploy-bot", "--owner", "Deploy pipeline", "--kind", "automation"]
    assert main(["tokens", "create", *args, "--scope", "write", "--expires-in-days", "30"]) == 0
    secret = capsys.readouterr().out.strip()
    assert committed_api.as_token(secret).get("/api/v1/incidents").status_code == 200
    assert main(["tokens", "create", *args, "--scope", "write"]) == 1  # the name is taken
    assert "already exists" in capsys.readouterr().err
    assert main(["token", "list", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["owner"] == "Deploy pipeline" and row["kind"] == "automation"
    assert row["state"] == "active" and row["expires_at"] and row["last_used_at"]
    assert main(["tokens", "revoke", "deploy-bot"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert committed_api.as_token(secret).get("/api/v1/incidents").status_code == 401
    assert main(["tokens", "list", "--active"]) == 0
    assert "0 token(s)" in capsys.readouterr().out
    assert main(["tokens", "revoke", "nobody"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no token named" in err
