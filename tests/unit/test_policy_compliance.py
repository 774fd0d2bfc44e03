"""Compliance deadlines: dated obligations per regulatory flag, as findings and actions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from app.rules.policy import Policy
from tests.unit.test_policy_kit import NOW, action, ctx, incident, rules, run

OBLIGATIONS: dict[str, Any] = {
    "hipaa": [
        {
            "id": "hipaa.individual_notice",
            "title": "Notify individuals",
            "within_days": 60,
            "starts": "detected_at",
            "owner_team": "compliance",
            "priority": "P0",
            "success_criteria": "All notified",
            "validation_method": "Log signed off",
        }
    ],
    "gdpr": [
        {
            "id": "gdpr.supervisory_authority",
            "title": "Notify the authority",
            "within_hours": 72,
            "starts": "detected_at",
            "owner_team": "compliance",
            "success_criteria": "Lodged",
            "validation_method": "Reference recorded",
        }
    ],
    "sla": [
        {
            "id": "sla.credit_statement",
            "title": "Issue SLA credits",
            "within_days": 30,
            "starts": "resolved_at",
            "priority": "P1",
            "success_criteria": "Credits issued",
            "validation_method": "Finance reconciles",
        }
    ],
}
POLICY = Policy.model_validate({"compliance": {"obligations": OBLIGATIONS}})


def _run(**kw: Any):  # type: ignore[no-untyped-def]
    return run(incident(**kw), ctx(POLICY))


def test_no_flag_no_obligation() -> None:
    outcome = _run()
    assert not {r for r in rules(outcome) if r.startswith("compliance.")}
    assert not outcome.changes or all(c.rule != "compliance.create_action" for c in outcome.changes)


def test_gdpr_creates_a_dated_action_with_an_owner() -> None:
    detected = NOW - timedelta(hours=10)
    outcome = _run(regulatory=("gdpr",), detected_at=detected)
    [change] = [c for c in outcome.changes if c.rule == "compliance.create_action"]
    assert change.values["owner"] == "Grace Adeyemi" and change.values["team"] == "compliance"
    assert change.values["due_date"] == (detected + timedelta(hours=72)).date()
    assert (
        change.values["is_compliance"]
        and change.values["compliance_rule"] == "gdpr.supervisory_authority"
    )
    [finding] = [f for f in outcome.findings if f.rule == "compliance.due"]
    assert finding.severity == "warning" and "in 62 hours" in finding.message
    assert (
        finding.entity_type == "obligation"
        and finding.entity_key == "INC-1/gdpr.supervisory_authority"
    )


def test_obligation_past_its_deadline_blocks_until_done() -> None:
    detected = NOW - timedelta(days=61)
    tracked = action(
        key="ACT-9",
        is_compliance=True,
        compliance_rule="hipaa.individual_notice",
        status="in_progress",
        owner="Grace Adeyemi",
    )
    outcome = _run(
        regulatory=("hipaa",),
        detected_at=detected,
        started_at=detected,
        actions=(*incident().actions, tracked),
    )
    [finding] = [f for f in outcome.findings if f.rule == "compliance.overdue"]
    assert finding.severity == "blocker" and "ACT-9" in finding.message
    assert not any(c.rule == "compliance.create_action" for c in outcome.changes)
    done = _run(
        regulatory=("hipaa",),
        detected_at=detected,
        started_at=detected,
        actions=(*incident().actions, replace(tracked, status="done")),
    )
    assert not {r for r in rules(done) if r.startswith("compliance.")}


def test_sla_clock_starts_at_resolution_and_owner_is_the_service_team() -> None:
    outcome = _run(regulatory=("sla",))
    [change] = [c for c in outcome.changes if c.rule == "compliance.create_action"]
    resolved = incident().resolved_at
    assert resolved is not None
    assert change.values["due_date"] == (resolved + timedelta(days=30)).date()
    assert change.values["owner"] == "Ravi Menon" and change.values["team"] == "storefront"


def test_missing_clock_start_falls_back_and_says_so() -> None:
    outcome = _run(
        regulatory=("sla",),
        resolved_at=None,
        detected_at=None,
        started_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    [finding] = [f for f in outcome.findings if f.rule == "compliance.due"]
    assert finding.details["clock_from"] == "started_at"


def test_a_recorded_notification_meets_its_obligation_and_only_that_one() -> None:
    """The timeline says the authority was told: no overdue blocker, no action to create."""
    from app.rules.views import TimelineView

    detected = NOW - timedelta(days=5)
    told = TimelineView(
        "INC-1/77",
        "notification",
        "DPO lodged the Art. 33 notice (ref 2026-114)",
        at=detected + timedelta(hours=30),
        obligation="gdpr.supervisory_authority",
    )
    late = _run(regulatory=("gdpr", "hipaa"), detected_at=detected, started_at=detected)
    overdue = [f for f in late.findings if f.rule == "compliance.overdue"]
    assert [f.entity_key for f in overdue] == ["INC-1/gdpr.supervisory_authority"]
    met = _run(
        regulatory=("gdpr", "hipaa"),
        detected_at=detected,
        started_at=detected,
        timeline=(*incident().timeline, told),
    )
    keys = {f.entity_key for f in met.findings if f.rule.startswith("compliance.")}
    assert keys == {"INC-1/hipaa.individual_notice"}  # the other obligation still runs
    created = {c.values["compliance_rule"] for c in met.changes if c.rule.startswith("compl")}
    assert created == {"hipaa.individual_notice"}
    # A notification naming another obligation, or an ordinary communication, meets nothing.
    for event in (
        replace(told, obligation="hipaa.individual_notice"),
        replace(told, kind="communication", obligation=None),
    ):
        still = _run(
            regulatory=("gdpr",),
            detected_at=detected,
            started_at=detected,
            timeline=(*incident().timeline, event),
        )
        assert "compliance.overdue" in rules(still)


def test_a_done_action_linked_by_compliance_rule_meets_it() -> None:
    detected = NOW - timedelta(days=5)
    linked = action(key="ACT-4", compliance_rule="gdpr.supervisory_authority", status="done")
    outcome = _run(
        regulatory=("gdpr",),
        detected_at=detected,
        started_at=detected,
        actions=(*incident().actions, linked),
    )
    assert not {r for r in rules(outcome) if r.startswith("compliance.")}
