"""`follow_up_at` is only an index of when the sweep looks: whatever it was worked out from
moving (the policy, a waiver lapsing or withdrawn, the incident's regulatory clock) makes the
next sweep look again, and the rules decide; regulatory repeats follow the obligation's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.models import Action, Escalation, Incident
from app.runtime import Runtime
from app.services.evaluation import evaluate_and_store
from tests.conftest import ADMIN_TOKEN, ApiClient, settle

from .test_follow_through import TODAY, incident_with_action, noon, steps, sweep_twice


def _overdue_finding(api: ApiClient, rt: Runtime, key: str, action: str, at: datetime) -> int:
    with rt.db.sessions() as session:
        incident_id = session.scalar(select(Action.incident_id).where(Action.key == action))
    assert incident_id is not None
    evaluate_and_store(rt, incident_id, now=at)  # the scheduled re-evaluation, at `at`
    findings = api.get(f"/api/v1/incidents/{key}/findings").json
    overdue = [f for f in findings if f["rule"] == "deadlines.overdue"]
    assert overdue and overdue[0]["entity_key"] == action
    return int(overdue[0]["id"])


def _waive(api: ApiClient, key: str, finding: int, **body: Any) -> None:
    waived = api.as_token(ADMIN_TOKEN).post(
        f"/api/v1/incidents/{key}/findings/{finding}/waive",
        json={"reason": "Covered by the platform SLO programme for now", **body},
    )
    assert waived.status_code == 201, waived.json


def test_a_policy_change_measures_every_open_action_again(
    api: ApiClient, rt: Runtime, app: Flask
) -> None:
    due = TODAY + timedelta(days=3)
    _, action = incident_with_action(api, due)
    settle(app)
    sweep_twice(rt, noon(due + timedelta(days=1)))
    assert [s[0] for s in steps(rt, action)] == ["L1"]  # next look: level 2, 7 days past due
    ladder = rt.policy.deadlines.escalation
    sooner = (ladder[0], ladder[1].model_copy(update={"after_days": 2}), *ladder[2:])
    rt.policy = rt.policy.model_copy(
        update={"deadlines": rt.policy.deadlines.model_copy(update={"escalation": sooner})}
    )
    sweep_twice(rt, noon(due + timedelta(days=3)))
    assert [s[0] for s in steps(rt, action)] == ["L1", "L2"]


def test_a_lapsed_waiver_lets_the_ladder_go_on(api: ApiClient, rt: Runtime, app: Flask) -> None:
    due = TODAY + timedelta(days=5)
    key, action = incident_with_action(api, due)
    settle(app)
    sweep_twice(rt, noon(due + timedelta(days=2)))
    finding = _overdue_finding(api, rt, key, action, noon(due + timedelta(days=2)))
    _waive(api, key, finding, expires_at=noon(due + timedelta(days=10)).isoformat())
    sweep_twice(rt, noon(due + timedelta(days=8)))  # level 2 is due, but waived
    assert [s[0] for s in steps(rt, action)] == ["L1"]
    sweep_twice(rt, noon(due + timedelta(days=10)) + timedelta(minutes=5))  # it lapsed
    assert [s[0] for s in steps(rt, action)] == ["L1", "L2"]


def test_a_withdrawn_waiver_is_looked_at_by_the_next_sweep(
    api: ApiClient, rt: Runtime, app: Flask
) -> None:
    due = TODAY + timedelta(days=5)
    key, action = incident_with_action(api, due)
    settle(app)
    sweep_twice(rt, noon(due + timedelta(days=2)))
    finding = _overdue_finding(api, rt, key, action, noon(due + timedelta(days=2)))
    _waive(api, key, finding)
    sweep_twice(rt, noon(due + timedelta(days=8)))  # waived: looked at again in a day
    assert [s[0] for s in steps(rt, action)] == ["L1"]
    withdrawn = api.as_token(ADMIN_TOKEN).delete(
        f"/api/v1/incidents/{key}/findings/{finding}/waiver"
    )
    assert withdrawn.status_code == 204
    sweep_twice(rt, noon(due + timedelta(days=8)) + timedelta(hours=1))
    assert [s[0] for s in steps(rt, action)] == ["L1", "L2"]


def _regulated(api: ApiClient, app: Flask, flag: str, detected: datetime) -> str:
    created = api.post(
        "/api/v1/incidents",
        json={
            "title": "Patient records export was public",
            "severity": "SEV2",
            "services": ["checkout"],
            "regulatory": [flag],
            "detected_at": detected.isoformat(),
        },
    )
    assert created.status_code == 201, created.json
    settle(app)  # the evaluation after creation: the obligation becomes an action
    return str(created.json["key"])


def _regulatory_steps(rt: Runtime, key: str, rule: str) -> list[str]:
    with rt.db.sessions() as session:
        action = session.scalar(
            select(Action.key)
            .join(Incident, Incident.id == Action.incident_id)
            .where(Incident.key == key, Action.compliance_rule == rule)
        )
        found = session.scalars(
            select(Escalation.step).where(Escalation.action_key == action).order_by(Escalation.id)
        )
        return [step.partition("@")[0] for step in found]


def test_moving_the_incident_clock_brings_the_regulatory_ladder_forward(
    api: ApiClient, rt: Runtime, app: Flask
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    key = _regulated(api, app, "gdpr", now - timedelta(hours=1))
    sweep_twice(rt, now)  # 71 hours left: next look at the reminder, a day before
    assert _regulatory_steps(rt, key, "gdpr.supervisory_authority") == []
    moved = api.patch(
        f"/api/v1/incidents/{key}", json={"detected_at": (now - timedelta(hours=80)).isoformat()}
    )
    assert moved.status_code == 200, moved.json
    settle(app)
    sweep_twice(rt, now + timedelta(minutes=1))  # the 72 hours ran out 8 hours ago
    assert _regulatory_steps(rt, key, "gdpr.supervisory_authority") == ["G2"]


def test_a_60_day_hipaa_notice_repeats_every_few_days_not_every_4_hours(
    api: ApiClient, rt: Runtime, app: Flask
) -> None:
    detected = datetime.now(UTC).replace(microsecond=0) - timedelta(days=61)
    key = _regulated(api, app, "hipaa", detected)
    deadline = detected + timedelta(days=60)
    rule = "hipaa.individual_notice"
    for hours in (12.5, 16.5, 24 * 5):  # the director at 12 h; a tenth of 60 days is 6 days
        sweep_twice(rt, deadline + timedelta(hours=hours))
    assert _regulatory_steps(rt, key, rule) == ["G3"]
    sweep_twice(rt, deadline + timedelta(hours=12 + 144, minutes=5))
    assert _regulatory_steps(rt, key, rule) == ["G3", "G3R1"]
