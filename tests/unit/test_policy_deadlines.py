"""Deadlines: a due date inside the priority's limit; overdue and stale work escalates."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from app.rules.model import FindingDraft
from tests.unit.test_policy_kit import NOW, TODAY, action, ctx, incident, policy, rules, run


def _only(outcome_findings: list[FindingDraft], rule: str) -> FindingDraft:
    [finding] = [f for f in outcome_findings if f.rule == rule]
    return finding


def test_due_date_inside_policy_does_not_fire() -> None:
    assert not {r for r in rules(run(incident())) if r.startswith("deadlines.")}


def test_missing_due_date_gets_the_policy_default() -> None:
    view = incident(actions=(action(due_date=None, priority="P1"),))
    outcome = run(view)
    assert "deadlines.missing" not in rules(outcome)
    [change] = [c for c in outcome.changes if c.rule == "deadlines.default_due"]
    created = (NOW - timedelta(days=5)).date()
    assert change.values == {"due_date": created + timedelta(days=30)}  # P1 limit by default
    custom = ctx(policy(deadlines={"default_days": {"P1": 21}}))
    [change] = [c for c in run(view, custom).changes if c.rule == "deadlines.default_due"]
    assert change.values == {"due_date": created + timedelta(days=21)}


def test_missing_due_date_is_a_blocker_when_defaults_are_off() -> None:
    context = ctx(policy(deadlines={"default_due": False}))
    outcome = run(incident(actions=(action(due_date=None),)), context)
    assert _only(outcome.findings, "deadlines.missing").severity == "blocker"
    assert not [c for c in outcome.changes if c.rule == "deadlines.default_due"]


@pytest.mark.parametrize(("priority", "limit"), [("P0", 7), ("P1", 30), ("P2", 90), ("P3", 180)])
def test_longest_delay_per_priority(priority: str, limit: int) -> None:
    created = NOW - timedelta(days=1)

    def outcome(days: int) -> set[str]:
        a = action(
            priority=priority, created_at=created, due_date=created.date() + timedelta(days=days)
        )
        return rules(run(incident(actions=(a,))))

    assert "deadlines.too_far" not in outcome(limit)
    assert "deadlines.too_far" in outcome(limit + 1)


def test_compliance_actions_are_exempt_from_the_delay_limit() -> None:
    a = action(
        priority="P0",
        due_date=TODAY + timedelta(days=50),
        is_compliance=True,
        compliance_rule="hipaa.individual_notice",
    )
    assert "deadlines.too_far" not in rules(run(incident(actions=(a,))))


@pytest.mark.parametrize(
    ("days_late", "level", "who"),
    [
        (1, 1, "Maya Okafor"),
        (6, 1, "Maya Okafor"),
        (7, 2, "Maya Okafor"),
        (21, 3, "Daniel Brooks"),
    ],
)
def test_overdue_actions_carry_their_escalation_level(days_late: int, level: int, who: str) -> None:
    a = action(
        owner="Maya Okafor",
        due_date=TODAY - timedelta(days=days_late),
        created_at=NOW - timedelta(days=days_late + 5),
    )
    finding = _only(run(incident(actions=(a,))).findings, "deadlines.overdue")
    assert finding.details["escalation_level"] == level
    assert finding.details["escalate_to"] == who  # owner, then team lead (Maya), then director
    assert f"{days_late} day(s) overdue" in finding.message


def test_due_today_is_not_overdue_and_done_actions_never_are() -> None:
    assert "deadlines.overdue" not in rules(run(incident(actions=(action(due_date=TODAY),))))
    done = action(due_date=TODAY - timedelta(days=30), status="done")
    assert "deadlines.overdue" not in rules(run(incident(actions=(done,))))


def test_stale_action_is_flagged_with_level() -> None:
    fresh = action(last_activity_at=NOW - timedelta(days=13))
    assert "deadlines.stale" not in rules(run(incident(actions=(fresh,))))
    stale = action(last_activity_at=NOW - timedelta(days=14 + 7))
    finding = _only(run(incident(actions=(stale,))).findings, "deadlines.stale")
    assert finding.details["escalation_level"] == 2 and finding.details["days_idle"] == 21


def test_custom_ladder_compiles_into_rules() -> None:
    context = ctx(
        policy(
            deadlines={
                "escalation": [
                    {"after_days": 0, "to": "owner"},
                    {"after_days": 2, "to": "director"},
                ]
            }
        )
    )
    a = action(due_date=TODAY - timedelta(days=3))
    finding = _only(run(incident(actions=(a,)), context).findings, "deadlines.overdue")
    assert finding.details["escalation_level"] == 2
    assert finding.details["escalate_to"] == "Daniel Brooks"


def test_fingerprint_survives_the_days_ticking_by() -> None:
    def fp(days_late: int) -> str:
        a = action(due_date=TODAY - timedelta(days=days_late))
        return _only(run(incident(actions=(a,))).findings, "deadlines.overdue").fingerprint

    assert fp(2) == fp(3)


def test_compliance_actions_are_chased_by_compliance_rules_not_the_ladder() -> None:
    a = action(
        is_compliance=True,
        compliance_rule="gdpr.supervisory_authority",
        due_date=TODAY - timedelta(days=9),
        last_activity_at=NOW - timedelta(days=40),
    )
    assert not {"deadlines.overdue", "deadlines.stale"} & rules(run(incident(actions=(a,))))


def test_imported_incident_counts_the_delay_from_resolution_not_the_import() -> None:
    base = incident()
    assert base.resolved_at is not None
    resolved = base.resolved_at.date()
    a = action(priority="P1", created_at=NOW, due_date=resolved + timedelta(days=35))
    assert "deadlines.too_far" not in rules(run(replace(base, actions=(a,))))  # 29 days from now
    [finding] = [
        f
        for f in run(replace(base, actions=(a,), backfilled=True)).findings
        if f.rule == "deadlines.too_far"
    ]
    assert finding.details["due_span"] == 35 and finding.details["max_days"] == 30
