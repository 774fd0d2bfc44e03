"""Timeline, evidence, participants, causes and actions under an incident."""

from __future__ import annotations

from tests.conftest import ApiClient
from tests.integration.test_api_incidents import create


def test_timeline_crud_sorted_by_time(api: ApiClient) -> None:
    key = create(api)["key"]
    base = f"/api/v1/incidents/{key}/timeline"
    late = api.post(
        base, json={"at": "2026-03-01T10:30:00Z", "kind": "mitigation", "text": "Rolled back flag"}
    ).json
    early = api.post(
        base,
        json={
            "at": "2026-03-01T10:05:00Z",
            "kind": "decision",
            "text": "Chose rollback over hotfix",
            "is_decision": True,
            "rationale": "Rollback is tested",
            "alternatives": ["hotfix"],
        },
    ).json
    assert [e["id"] for e in api.get(base).json] == [early["id"], late["id"]]
    changed = api.patch(f"{base}/{late['id']}", json={"text": "Rolled back flag FF-12"})
    assert changed.status_code == 200 and changed.json["text"] == "Rolled back flag FF-12"
    assert api.delete(f"{base}/{early['id']}").status_code == 204
    assert len(api.get(base).json) == 1
    assert api.delete(f"{base}/{early['id']}").status_code == 404


def test_participants_and_evidence(api: ApiClient) -> None:
    key = create(api)["key"]
    p = api.post(
        f"/api/v1/incidents/{key}/participants",
        json={"role": "incident_commander", "team": "sre", "name": "Noor Haddad"},
    )
    assert p.status_code == 201
    bad = api.post(f"/api/v1/incidents/{key}/participants", json={"role": "hero"})
    assert bad.status_code == 422 and bad.json["errors"][0]["loc"] == ["body", "role"]
    ev = api.post(
        f"/api/v1/incidents/{key}/evidence",
        json={"kind": "log", "uri": "s3://logs/a.gz", "sha256": "ab" * 32},
    )
    assert ev.status_code == 201
    bad_hash = api.post(
        f"/api/v1/incidents/{key}/evidence", json={"kind": "log", "uri": "x", "sha256": "nothex"}
    )
    assert bad_hash.json["errors"][0]["loc"] == ["body", "sha256"]


def test_cause_tree_refuses_foreign_parent_and_loops(api: ApiClient) -> None:
    key, other = create(api)["key"], create(api)["key"]
    base = f"/api/v1/incidents/{key}/causes"
    root = api.post(
        base,
        json={"kind": "root_cause", "category": "config", "statement": "Flag defaults were unsafe"},
    ).json
    why = api.post(
        base,
        json={
            "kind": "contributing_factor",
            "category": "testing",
            "statement": "No canary for flags",
            "parent_id": root["id"],
        },
    ).json
    foreign = api.post(
        f"/api/v1/incidents/{other}/causes",
        json={"kind": "trigger", "category": "change", "statement": "x", "parent_id": root["id"]},
    )
    assert foreign.status_code == 422 and foreign.json["errors"][0]["loc"] == ["body", "parent_id"]
    loop = api.patch(f"{base}/{root['id']}", json={"parent_id": why["id"]})
    assert loop.status_code == 422
    assert api.get(f"{base}").json[0]["parent_id"] is None


def test_actions_lifecycle_and_history(api: ApiClient) -> None:
    key = create(api)["key"]
    cause = api.post(
        f"/api/v1/incidents/{key}/causes",
        json={"kind": "root_cause", "category": "config", "statement": "Unsafe default"},
    ).json
    act = api.post(
        f"/api/v1/incidents/{key}/actions",
        json={
            "title": "Add flag canary",
            "type": "prevent",
            "owner": "Maya Okafor",
            "due_date": "2026-04-01",
            "priority": "P1",
            "cause_ids": [cause["id"]],
            "success_criteria": "Canary catches a bad default",
            "validation_method": "Game day",
        },
    )
    assert act.status_code == 201, act.json
    akey = act.json["key"]
    assert akey.startswith("ACT-") and act.json["cause_ids"] == [cause["id"]]
    assert api.patch(f"/api/v1/actions/{akey}", json={"status": "in_progress"}).status_code == 200
    done = api.patch(f"/api/v1/actions/{akey}", json={"status": "done"}).json
    assert done["completed_at"] is not None
    assert [h["to_status"] for h in done["history"]] == ["open", "in_progress", "done"]
    # verified by evidence, not by a status write (tests/integration/test_people.py)
    assert api.patch(f"/api/v1/actions/{akey}", json={"status": "verified"}).status_code == 409
    check = {"checked": "Game day: canary caught it", "result": "pass", "evidence": "https://x/1"}
    verified = api.post(f"/api/v1/actions/{akey}/validations", json=check).json
    assert verified["verified_at"] is not None
    assert api.get("/api/v1/actions?status=verified").json["total"] == 1
    assert len(api.get(f"/api/v1/incidents/{key}/actions").json) == 1


def test_conflicting_status_change_is_409_and_changes_nothing(api: ApiClient) -> None:
    key = create(api)["key"]
    akey = api.post(
        f"/api/v1/incidents/{key}/actions",
        json={"title": "Doc runbook", "type": "documentation", "owner": "x"},
    ).json["key"]
    resp = api.patch(f"/api/v1/actions/{akey}", json={"status": "verified", "owner": "Someone"})
    assert resp.status_code == 409
    assert resp.headers["Content-Type"] == "application/problem+json"
    after = api.get(f"/api/v1/actions/{akey}").json
    assert after["status"] == "open" and after["owner"] == "x"
    no_reason = api.patch(f"/api/v1/actions/{akey}", json={"status": "wont_do"})
    assert no_reason.status_code == 409 and "reason" in no_reason.json["detail"]


def test_action_filters_overdue(api: ApiClient) -> None:
    key = create(api)["key"]
    for due in ("2020-01-01", "2999-01-01"):
        api.post(
            f"/api/v1/incidents/{key}/actions",
            json={"title": f"due {due}", "type": "detect", "due_date": due},
        )
    overdue = api.get("/api/v1/actions?overdue=true").json
    assert [a["title"] for a in overdue["items"]] == ["due 2020-01-01"]
    assert api.get("/api/v1/actions?overdue=false").json["total"] == 1
    bad = api.get("/api/v1/actions?priority=P9")
    assert bad.status_code == 422 and bad.json["errors"][0]["loc"] == ["query", "priority"]


def test_cause_ids_must_belong_to_the_incident(api: ApiClient) -> None:
    key, other = create(api)["key"], create(api)["key"]
    cause = api.post(
        f"/api/v1/incidents/{other}/causes",
        json={"kind": "root_cause", "category": "config", "statement": "x"},
    ).json
    resp = api.post(
        f"/api/v1/incidents/{key}/actions",
        json={"title": "t", "type": "prevent", "cause_ids": [cause["id"]]},
    )
    assert resp.status_code == 422
    assert resp.json["errors"][0]["loc"] == ["body", "cause_ids", 0]
    assert api.get(f"/api/v1/incidents/{key}/actions").json == []


def test_action_can_be_linked_to_a_compliance_obligation(api: ApiClient) -> None:
    key = create(api)["key"]
    bad = api.post(
        f"/api/v1/incidents/{key}/actions",
        json={"title": "t", "type": "process", "compliance_rule": "not a rule id"},
    )
    assert bad.status_code == 422 and bad.json["errors"][0]["loc"] == ["body", "compliance_rule"]
    act = api.post(
        f"/api/v1/incidents/{key}/actions",
        json={
            "title": "File Form SCI",
            "type": "process",
            "compliance_rule": "sec_reg_sci.form_sci",
        },
    ).json
    assert act["is_compliance"] is True and act["compliance_rule"] == "sec_reg_sci.form_sci"
    cleared = api.patch(f"/api/v1/actions/{act['key']}", json={"compliance_rule": None}).json
    assert cleared["is_compliance"] is False
