"""Rules through the service: findings after every write, waivers, the publish gate,
the policy's own writes (audited, never re-triggering), the CLI, and start-up checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app import create_app
from app.models import AuditEntry, Finding
from app.rules.policy import Policy, PolicyError
from app.runtime import Runtime
from tests.conftest import ADMIN_TOKEN, CONFIG_DIR, READ_TOKEN, ApiClient, make_settings

NOW = datetime.now(UTC)


def iso(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


def complete_incident(api: ApiClient, **incident: Any) -> str:
    """A resolved SEV2 incident that satisfies every blocking rule."""
    body = {
        "title": "Checkout errors after a config push",
        "severity": "SEV2",
        "status": "resolved",
        "services": ["checkout"],
        "summary": "A retry-policy change disabled payment retries.",
        "started_at": iso(-timedelta(hours=3)),
        "detected_at": iso(-timedelta(hours=2, minutes=50)),
        "resolved_at": iso(-timedelta(hours=2)),
        **incident,
    }
    created = api.post("/api/v1/incidents", json=body)
    assert created.status_code == 201, created.json
    key: str = created.json["key"]
    base = f"/api/v1/incidents/{key}"
    for event in (
        {"at": iso(-timedelta(hours=2, minutes=50)), "kind": "alert", "text": "Checkout 5xx alert"},
        {"at": iso(-timedelta(hours=2)), "kind": "resolution", "text": "Error rate at baseline"},
    ):
        assert api.post(f"{base}/timeline", json=event).status_code == 201
    for role, name in (
        ("incident_commander", "Maya Okafor"),
        ("business_stakeholder", "Daniel Brooks"),
    ):
        assert (
            api.post(f"{base}/participants", json={"role": role, "name": name}).status_code == 201
        )
    cause = api.post(
        f"{base}/causes",
        json={
            "kind": "root_cause",
            "category": "config",
            "statement": "Config pushes skip the canary stage that code deploys use",
        },
    ).json
    add_action(api, key, cause_ids=[cause["id"]])
    patched = api.patch(f"{base}/postmortem", json={"facilitator": "Noor Haddad"})
    assert patched.status_code == 200, patched.json
    return key


def add_action(api: ApiClient, key: str, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Route config pushes through the canary stage",
        "type": "prevent",
        "owner": "Maya Okafor",
        "effort": "M",
        "due_date": (NOW + timedelta(days=10)).date().isoformat(),
        "success_criteria": "Every config push reaches 5% of traffic first",
        "validation_method": "Deploy log shows the canary gate",
        **fields,
    }
    response = api.post(f"/api/v1/incidents/{key}/actions", json=body)
    assert response.status_code == 201, response.json
    result: dict[str, Any] = response.json
    return result


def findings(api: ApiClient, key: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/incidents/{key}/findings")
    assert response.status_code == 200
    result: list[dict[str, Any]] = response.json
    return result


def blocking(api: ApiClient, key: str) -> set[str]:
    return {f["rule"] for f in findings(api, key) if f["severity"] == "blocker" and not f["waived"]}


def audit_actions(rt: Runtime, actor: str = "rules") -> list[str]:
    with rt.db.sessions() as s:
        return list(
            s.scalars(
                sa.select(AuditEntry.action)
                .where(AuditEntry.actor == actor)
                .order_by(AuditEntry.seq)
            )
        )


def test_findings_follow_every_write_and_scores_are_stored(api: ApiClient, rt: Runtime) -> None:
    key = complete_incident(api)
    assert blocking(api, key) == set()
    [scored] = [f for f in findings(api, key) if f["rule"] == "priority.scored"]
    assert scored["severity"] == "info" and scored["details"]["terms"]["severity"] == 30

    action = add_action(
        api, key, title="Alert on retry ratio", type="detect", success_criteria=None, priority=None
    )
    [missing] = [f for f in findings(api, key) if f["rule"] == "completeness.success_criteria"]
    assert missing["entity_key"] == action["key"] and missing["severity"] == "blocker"
    stored = api.get(f"/api/v1/actions/{action['key']}").json
    assert stored["priority"] == "P2" and stored["score"] == 58  # 30 + 20 + 8, filled in by rules
    assert "priority.apply" in audit_actions(rt)

    fixed = api.patch(
        f"/api/v1/actions/{action['key']}",
        json={"success_criteria": "Pages within 60 s of the ratio passing 5%"},
    )
    assert fixed.status_code == 200
    assert "completeness.success_criteria" not in blocking(api, key)


def test_evaluation_writes_never_retrigger_evaluation(
    api: ApiClient, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import evaluation as service

    key = complete_incident(api)
    calls: list[int] = []
    real = service.evaluate_and_store
    monkeypatch.setattr(
        service,
        "evaluate_and_store",
        lambda runtime, incident_id, **kw: (
            calls.append(incident_id) or real(runtime, incident_id, **kw)
        ),
    )
    add_action(api, key, priority=None, due_date=None)  # rules will fill priority and due date
    assert len(calls) == 1
    before = len(audit_actions(rt))
    assert before >= 2
    assert api.post(f"/api/v1/incidents/{key}/evaluate").status_code == 200
    assert len(audit_actions(rt)) == before  # a second evaluation finds nothing left to write


def test_waiver_lifecycle(api: ApiClient, rt: Runtime) -> None:
    """Waived by an admin here; who else may waive is in tests/integration/test_people.py."""
    key = complete_incident(api)
    admin = api.as_token(ADMIN_TOKEN)
    add_action(api, key, owner="Somebody Unknown")
    [finding] = [f for f in findings(api, key) if f["rule"] == "ownership.unknown_owner"]
    url = f"/api/v1/incidents/{key}/findings/{finding['id']}/waive"

    short = api.post(url, json={"reason": "meh"})
    assert short.status_code == 422 and short.json["errors"][0]["loc"] == ["body", "reason"]
    assert (
        api.as_token(READ_TOKEN)
        .post(url, json={"reason": "a contractor, in the catalog soon"})
        .status_code
        == 403
    )
    waived = admin.post(url, json={"reason": "Contractor; catalog entry requested in HR-1234"})
    assert waived.status_code == 201
    assert waived.json["waived"] is True and waived.json["waived_by"] == "ci-admin"
    assert (
        admin.post(url, json={"reason": "Contractor; catalog entry requested again"}).status_code
        == 409
    )
    assert "ownership.unknown_owner" not in blocking(api, key)

    # The waiver is keyed by fingerprint, so it survives re-evaluation (and the row keeps its id).
    again = api.post(f"/api/v1/incidents/{key}/evaluate").json
    [same] = [f for f in again if f["rule"] == "ownership.unknown_owner"]
    assert same["id"] == finding["id"] and same["waived"] is True
    with rt.db.sessions() as s:
        entry = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "finding.waive")).one()
    assert entry.actor == "ci-admin" and entry.after is not None
    assert (
        entry.after["reason"].startswith("Contractor")
        and entry.after["rule"] == "ownership.unknown_owner"
    )

    assert (
        admin.delete(f"/api/v1/incidents/{key}/findings/{finding['id']}/waiver").status_code == 204
    )
    assert "ownership.unknown_owner" in blocking(api, key)
    assert (
        admin.delete(f"/api/v1/incidents/{key}/findings/{finding['id']}/waiver").status_code == 404
    )
    assert (
        admin.post(
            f"/api/v1/incidents/{key}/findings/999999/waive",
            json={"reason": "no such finding here"},
        ).status_code
        == 404
    )


def test_publish_gate_lists_blockers_and_opens_once_waived(api: ApiClient) -> None:
    key = complete_incident(api)
    add_action(api, key, owner=None)
    refused = api.patch(f"/api/v1/incidents/{key}/postmortem", json={"status": "published"})
    assert refused.status_code == 409
    listed = refused.json["blockers"]
    assert [b["rule"] for b in listed] == ["ownership.missing"]
    assert listed[0]["id"] is not None and listed[0]["message"]
    assert api.get(f"/api/v1/incidents/{key}/postmortem").json["postmortem"]["status"] == "draft"

    waived = api.as_token(ADMIN_TOKEN).post(
        f"/api/v1/incidents/{key}/findings/{listed[0]['id']}/waive",
        json={"reason": "Owner agreed in the review; name pending HR"},
    )
    assert waived.status_code == 201
    published = api.patch(f"/api/v1/incidents/{key}/postmortem", json={"status": "published"})
    assert published.status_code == 200 and published.json["status"] == "published"


def test_gate_evaluates_fresh_not_from_stored_findings(api: ApiClient, rt: Runtime) -> None:
    key = complete_incident(api)
    add_action(api, key, success_criteria=None)
    with rt.db.sessions() as s, s.begin():
        s.execute(sa.delete(Finding))  # as if the evaluation job had not run yet
    assert findings(api, key) == []
    refused = api.patch(f"/api/v1/incidents/{key}/postmortem", json={"status": "published"})
    assert refused.status_code == 409
    assert [b["rule"] for b in refused.json["blockers"]] == ["completeness.success_criteria"]
    assert refused.json["blockers"][0]["id"] is None  # not stored yet: the client re-lists


def test_gate_sees_a_fix_sent_in_the_same_request(api: ApiClient) -> None:
    key = complete_incident(api)
    assert (
        api.patch(f"/api/v1/incidents/{key}/postmortem", json={"facilitator": None}).status_code
        == 200
    )
    assert blocking(api, key) == {"completeness.facilitator"}  # stored, and stale in a moment
    published = api.patch(
        f"/api/v1/incidents/{key}/postmortem",
        json={"facilitator": "Ines Duarte", "status": "published"},
    )
    assert published.status_code == 200, published.json


def test_compliance_obligation_becomes_one_owned_action(api: ApiClient, rt: Runtime) -> None:
    key = complete_incident(api, regulatory=["gdpr"])
    actions = api.get(f"/api/v1/incidents/{key}/actions").json
    [notice] = [a for a in actions if a["is_compliance"]]
    assert notice["compliance_rule"] == "gdpr.supervisory_authority"
    assert notice["owner"] == "Grace Adeyemi" and notice["team"] == "compliance"
    assert notice["priority"] == "P0" and notice["success_criteria"]
    detected = NOW - timedelta(hours=2, minutes=50)
    assert notice["due_date"] == (detected + timedelta(hours=72)).date().isoformat()
    [due] = [f for f in findings(api, key) if f["rule"] == "compliance.due"]
    assert notice["key"] in due["message"] and due["details"]["owner"] == "Grace Adeyemi"
    assert "compliance.create_action" in audit_actions(rt)

    for _ in range(2):
        api.post(f"/api/v1/incidents/{key}/evaluate")
    assert (
        len([a for a in api.get(f"/api/v1/incidents/{key}/actions").json if a["is_compliance"]])
        == 1
    )

    done = api.patch(f"/api/v1/actions/{notice['key']}", json={"status": "done"})
    assert done.status_code == 200
    assert not [f for f in findings(api, key) if f["rule"].startswith("compliance.")]


def test_overdue_obligation_blocks_publication(api: ApiClient) -> None:
    key = complete_incident(
        api,
        regulatory=["gdpr"],
        started_at=iso(-timedelta(days=5)),
        detected_at=iso(-timedelta(days=4)),
    )
    assert "compliance.overdue" in blocking(api, key)


def test_policy_can_assign_default_owners(app: Flask, api: ApiClient, rt: Runtime) -> None:
    rt.policy = Policy.model_validate({"ownership": {"assign_default_owner": True}})
    key = complete_incident(api)
    action = add_action(api, key, owner=None, team="storefront")
    assert api.get(f"/api/v1/actions/{action['key']}").json["owner"] == "Maya Okafor"
    assert "ownership.missing" not in blocking(api, key)
    assert "ownership.assign_default" in audit_actions(rt)


def test_cli_evaluate_exit_codes(
    committed_api: ApiClient,
    committed_settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The CLI reads and writes on a connection of its own: the data must be committed."""
    from app.cli import main

    api, settings = committed_api, committed_settings
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HINDSIGHT_CONFIG_DIR", str(CONFIG_DIR))
    key = complete_incident(api)
    assert main(["evaluate", key]) == 0
    add_action(api, key, owner=None)
    assert main(["evaluate", key]) == 1
    out = capsys.readouterr().out
    assert "ownership.missing" in out and f"{key}: " in out and "1 unwaived blocker(s)" in out
    assert main(["evaluate", "INC-999999"]) == 2  # not "blockers found" (1): no such incident


def test_invalid_policy_stops_the_start_with_line_and_key(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text((CONFIG_DIR / "catalog.yaml").read_text())
    (tmp_path / "policy.yaml").write_text(
        "version: 1\ndeadlines:\n  max_days: {P0: 7, P1: 30, P2: 90, P3: 180}\n"
        "  stale_after_dayz: 3\n"
    )
    settings = make_settings(f"sqlite:///{tmp_path / 'x.db'}", config_dir=tmp_path)
    with pytest.raises(PolicyError, match=r"policy\.yaml:4: deadlines\.stale_after_dayz"):
        create_app(settings)


def test_shipped_policy_loads_and_documents_every_rule() -> None:
    from app.rules.catalogue import RULES
    from app.rules.policy import load_policy

    policy = load_policy(CONFIG_DIR)
    assert set(policy.compliance.obligations) == {"hipaa", "gdpr", "sec_reg_sci", "sla"}
    text = (CONFIG_DIR / "policy.yaml").read_text()
    for rule_id in RULES:
        family, _, name = rule_id.partition(".")
        assert name in text, f"{rule_id} is not documented in policy.yaml"
