"""Issue 12 point 7: a person's changes to the issues mirroring a postmortem or an incident
come back like action changes do, by webhook and by reconcile, through the services
(audit, rules, the publish gate), and Hindsight's own writes never come back as changes."""

from __future__ import annotations

from typing import Any

import requests
from sqlalchemy import select

from app.models import AuditEntry, Finding
from app.services.tracker_reconcile import reconcile
from tests.jira_server import encode_delivery

from .conftest import SECRET, SyncEnv, complete_incident


def _pm(env: SyncEnv, key: str) -> dict[str, Any]:
    r = env.api.get(f"/api/v1/incidents/{key}/postmortem?format=json")
    assert r.status_code == 200, r.json
    return dict(r.json["postmortem"])


def _incident(env: SyncEnv, key: str) -> dict[str, Any]:
    return dict(env.api.get(f"/api/v1/incidents/{key}").json)


def _audit(env: SyncEnv, action: str) -> list[AuditEntry]:
    with env.rt.db.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def _blockers(env: SyncEnv, key: str) -> set[str]:
    with env.rt.db.sessions() as session:
        return {
            f.rule
            for f in session.scalars(select(Finding).where(Finding.entity_key == key))
            if f.severity == "blocker"
        }


def _other_person(current: str | None) -> tuple[str, str]:
    """A catalog person (Jira user name, name) who is not the current facilitator."""
    return ("tnowak", "Tomasz Nowak") if current != "Tomasz Nowak" else ("kenji", "Kenji Watanabe")


def _open_incident(env: SyncEnv) -> str:
    r = env.api.post(
        "/api/v1/incidents",
        json={
            "title": "Search latency",
            "severity": "SEV3",
            "services": ["search"],
            "status": "open",
            "summary": "Search answered slowly",
            "started_at": "2024-02-01T10:00:00Z",
            "detected_at": "2024-02-01T10:04:00Z",
        },
    )
    assert r.status_code == 201, r.json
    return str(r.json["key"])


def _no_facilitator_incident(env: SyncEnv) -> str:
    """A SEV2 whose only facilitator is the postmortem's (rotation): no facilitator role."""
    key, _ = complete_incident(env.api, actions=1)
    parts = env.api.get(f"/api/v1/incidents/{key}/participants").json
    items = parts["items"] if isinstance(parts, dict) else parts
    for p in items:
        if p["role"] == "facilitator":
            r = env.api.delete(f"/api/v1/incidents/{key}/participants/{p['id']}")
            assert r.status_code in (200, 204), r.json
    return key


def test_postmortem_changes_made_in_jira_come_back_by_webhook(env: SyncEnv) -> None:
    key, _ = complete_incident(env.api, actions=1)
    env.settle()
    issue = env.issue_by_label(f"hs-{key}-pm").key
    before = _pm(env, key)
    assert before["status"] == "draft" and before["tracker_key"] == issue
    login, name = _other_person(before["facilitator"])
    outbox = env.outbox_counts()
    env.srv.reset_counters()

    env.srv.simulate_user_edit(issue, "priya", assignee=login, duedate="2031-02-03")
    env.srv.simulate_user_edit(issue, "priya", status="In Progress")
    env.settle()
    pm = _pm(env, key)
    assert (pm["facilitator"], pm["review_due"], pm["status"]) == (name, "2031-02-03", "in_review")

    env.srv.simulate_user_edit(issue, "priya", status="Done")  # the gate lets this one publish
    env.settle()
    pm = _pm(env, key)
    assert pm["status"] == "published" and pm["published_at"]

    assert env.srv.total_calls == 0, f"nothing was pushed back to Jira: {env.srv.calls}"
    assert env.outbox_counts() == outbox, "inbound changes write no outbox rows"
    audited = _audit(env, "postmortem.sync_in")
    assert {e.entity_key for e in audited} == {key}
    assert {e.actor for e in audited} == {"jira:Priya Raman"}
    assert any((e.after or {}).get("facilitator") == name for e in audited)
    assert any((e.after or {}).get("status") == "published" for e in audited)
    assert {d.status for d in env.deliveries()[-3:]} == {"processed"}
    assert reconcile(env.rt, full=True).applied == 0, "a reconcile finds nothing new"
    assert _pm(env, key)["status"] == "published"


def test_incident_status_made_in_jira_comes_back_and_a_resolve_opens_the_postmortem(
    env: SyncEnv,
) -> None:
    key = _open_incident(env)
    env.settle()
    issue = env.issue_by_label(f"hs-{key}").key
    env.srv.simulate_user_edit(issue, "priya", status="In Progress")
    env.settle()
    assert _incident(env, key)["status"] == "investigating"

    env.srv.simulate_user_edit(issue, "priya", status="Resolved", resolution="Done")
    env.settle()
    incident = _incident(env, key)
    assert incident["status"] == "resolved"
    assert incident["resolved_at"], "stamped with the time the person resolved it in Jira"
    pm = _pm(env, key)
    assert pm["status"] == "draft" and pm["review_due"], "the close opened the postmortem"
    assert env.issue_by_label(f"hs-{key}-pm").key == pm["tracker_key"], "and mirrored it"
    assert env.status_of(env.srv.issue(issue)) == ("Resolved", "Done"), "not transitioned again"
    audited = _audit(env, "incident.sync_in")
    assert [e.after.get("status") for e in audited if e.after] == ["investigating", "resolved"]
    assert reconcile(env.rt, full=True).applied == 0


def test_changes_arrive_by_reconcile_when_webhooks_are_lost(env: SyncEnv) -> None:
    key, _ = complete_incident(env.api, actions=1)
    live = _open_incident(env)
    env.settle()
    pm_issue = env.issue_by_label(f"hs-{key}-pm").key
    inc_issue = env.issue_by_label(f"hs-{live}").key
    login, name = _other_person(_pm(env, key)["facilitator"])
    env.srv.webhooks.mode = "hold"
    env.srv.simulate_user_edit(pm_issue, "priya", status="In Progress")
    env.srv.simulate_user_edit(pm_issue, "priya", assignee=login, duedate="2031-03-04")
    env.srv.simulate_user_edit(inc_issue, "priya", status="In Progress")
    env.srv.webhooks.drop_held()

    report = reconcile(env.rt, full=True)
    assert report.applied_by_type == {"postmortem": 1, "incident": 1}
    assert "1 incident(s), 1 postmortem(s)" in report.summary()
    pm = _pm(env, key)
    assert (pm["status"], pm["facilitator"], pm["review_due"]) == ("in_review", name, "2031-03-04")
    assert _incident(env, live)["status"] == "investigating"
    assert {e.actor for e in _audit(env, "postmortem.sync_in")} == {"jira:reconcile"}
    assert reconcile(env.rt, full=True).applied == 0, "already applied"

    env.srv.webhooks.mode = "hold"
    env.srv.simulate_user_edit(pm_issue, "priya", assignee=None)  # unassigned in Jira
    env.srv.webhooks.drop_held()
    assert reconcile(env.rt, full=True).applied == 1
    assert _pm(env, key)["facilitator"] is None


def test_a_publish_the_gate_refuses_is_recorded_and_not_forced(env: SyncEnv) -> None:
    key = _no_facilitator_incident(env)
    env.settle()
    issue = env.issue_by_label(f"hs-{key}-pm").key
    assert _pm(env, key)["facilitator"], "the rotation named one"
    assert "completeness.facilitator" not in _blockers(env, key)

    env.srv.simulate_user_edit(issue, "priya", assignee=None)
    env.settle()
    assert _pm(env, key)["facilitator"] is None
    assert "completeness.facilitator" in _blockers(env, key), "the rules ran again"
    env.srv.reset_counters()

    env.srv.simulate_user_edit(issue, "priya", status="Done")
    env.settle()
    assert _pm(env, key)["status"] == "draft", "blocking findings stop publication"
    refused = _audit(env, "postmortem.sync_in_refused")
    assert len(refused) == 1 and refused[0].actor == "jira:Priya Raman"
    after = refused[0].after or {}
    assert after["wanted"] == {"status": "published"}
    assert "completeness.facilitator" in {b["rule"] for b in after["blockers"]}
    last = env.deliveries()[-1]
    assert last.status == "processed" and (last.error or "").startswith("refused: status")
    assert env.status_of(env.srv.issue(issue))[0] == "Done", "the person's Jira status stays"
    assert env.srv.total_calls == 0, "and Hindsight does not move it back"
    assert reconcile(env.rt, full=True).applied == 0
    assert len(_audit(env, "postmortem.sync_in_refused")) == 1, "refused once, not each pass"

    login, name = _other_person(None)
    env.srv.simulate_user_edit(issue, "priya", assignee=login)
    env.srv.simulate_user_edit(issue, "priya", status="In Progress")
    env.settle()
    assert (_pm(env, key)["facilitator"], _pm(env, key)["status"]) == (name, "in_review")
    env.srv.simulate_user_edit(issue, "priya", status="Done")  # a new decision, now allowed
    env.settle()
    assert _pm(env, key)["status"] == "published"
    assert len(_audit(env, "postmortem.sync_in_refused")) == 1


def test_taking_an_incident_back_from_resolved_in_jira_is_refused(cloud_env: SyncEnv) -> None:
    """By reconcile this time (the webhook was lost): each pass reads the same issue again,
    and the refusal is recorded once, not once per pass."""
    env = cloud_env
    key, _ = complete_incident(env.api, actions=1)
    env.settle()
    issue = env.issue_by_label(f"hs-{key}").key
    assert env.status_of(env.srv.issue(issue))[0] == "Resolved"
    env.srv.webhooks.mode = "hold"
    env.srv.simulate_user_edit(issue, "priya", status="Reopened")
    env.srv.webhooks.drop_held()
    for _ in range(3):
        assert reconcile(env.rt, full=True).applied == 0
    assert _incident(env, key)["status"] == "resolved", "a reopen needs a reason"
    refused = _audit(env, "incident.sync_in_refused")
    assert len(refused) == 1, "refused once, not on every pass"
    assert refused[0].actor == "jira:reconcile"
    assert f"/api/v1/incidents/{key}/reopen" in (refused[0].after or {})["refused"]
    assert env.status_of(env.srv.issue(issue))[0] == "Reopened", "Jira keeps what was done"


def test_hindsights_own_postmortem_and_incident_writes_never_come_back(env: SyncEnv) -> None:
    key, _ = complete_incident(env.api, actions=1)
    live = _open_incident(env)
    env.settle()
    seen = len(env.deliveries())
    login, name = _other_person(_pm(env, key)["facilitator"])
    r = env.api.patch(
        f"/api/v1/incidents/{key}/postmortem",
        json={"facilitator": name, "review_due": "2031-04-05", "status": "in_review"},
    )
    assert r.status_code == 200, r.json
    assert (
        env.api.patch(f"/api/v1/incidents/{live}", json={"status": "mitigated"}).status_code == 200
    )
    env.settle()
    echoes = env.deliveries()[seen:]
    assert echoes, "Jira sends webhooks for our own edits too"
    assert {d.error for d in echoes} == {"made by Hindsight's own Jira account"}
    pm_issue = env.srv.issue(env.issue_by_label(f"hs-{key}-pm").key)
    assert env.status_of(pm_issue)[0] == "In Progress"
    assert reconcile(env.rt, full=True).applied == 0, "a reconcile right after our push"

    # The same echo with no author to recognise: the field-by-field comparison holds too.
    for delivery in env.srv.webhooks.deliveries[-3:]:
        payload = {k: v for k, v in delivery.payload.items() if k != "user"}
        body, headers = encode_delivery(payload, secret=SECRET)
        headers["X-Atlassian-Webhook-Identifier"] += "-anon"
        assert requests.post(env.hook_url, data=body, headers=headers, timeout=5).status_code == 202
    env.settle()
    assert {d.error for d in env.deliveries()[-3:]} <= {
        "nothing new to apply",
        "no synced field changed",
    }
    pm = _pm(env, key)
    assert (pm["facilitator"], pm["review_due"], pm["status"]) == (name, "2031-04-05", "in_review")
    assert _incident(env, live)["status"] == "mitigated"

    r = env.api.patch(f"/api/v1/incidents/{key}/postmortem", json={"status": "published"})
    assert r.status_code == 200, r.json
    env.settle()
    assert env.status_of(pm_issue) == ("Done", "Done")
    assert reconcile(env.rt, full=True).applied == 0, "our own Done/Done is no decision"
    assert _pm(env, key)["status"] == "published"
    assert not _audit(env, "postmortem.sync_in") and not _audit(env, "incident.sync_in")
