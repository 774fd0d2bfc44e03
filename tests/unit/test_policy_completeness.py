"""Completeness: timeline, causes, actions that can be checked, people, review, decisions."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from app.rules.views import ActionView, CauseView, ParticipantView, TimelineView
from tests.unit.test_policy_kit import NOW, action, ctx, incident, policy, rules, run


def test_complete_incident_passes() -> None:
    assert not {r for r in rules(run(incident())) if r.startswith("completeness.")}


def test_timeline_without_detection_or_resolution() -> None:
    base = replace(incident(), detected_at=None, resolved_at=None)
    no_detect = replace(base, timeline=tuple(t for t in base.timeline if t.kind != "alert"))
    no_resolve = replace(base, timeline=tuple(t for t in base.timeline if t.kind != "resolution"))
    assert "completeness.timeline_detection" in rules(run(no_detect))
    assert "completeness.timeline_resolution" not in rules(run(no_detect))
    assert "completeness.timeline_resolution" in rules(run(no_resolve))


def test_detection_kinds_are_policy() -> None:
    view = incident(
        timeline=(
            TimelineView("INC-1/1", "escalation", "Paged the DB team"),
            TimelineView("INC-1/3", "resolution", "Recovered"),
        ),
        detected_at=None,
    )
    assert "completeness.timeline_detection" in rules(run(view))
    context = ctx(policy(completeness={"detection_kinds": ["escalation"]}))
    assert "completeness.timeline_detection" not in rules(run(view, context))


def test_the_incidents_own_times_count_as_detection_and_resolution() -> None:
    """A source (or a person) that set detected_at / resolved_at has recorded them already."""
    bare = replace(incident(), timeline=())
    assert {"completeness.timeline_detection", "completeness.timeline_resolution"}.isdisjoint(
        rules(run(bare))
    )
    without = replace(bare, detected_at=None, resolved_at=None)
    assert {"completeness.timeline_detection", "completeness.timeline_resolution"} <= rules(
        run(without)
    )
    strict = ctx(policy(completeness={"incident_times_count": False}))
    assert "completeness.timeline_detection" in rules(run(bare, strict))
    assert "completeness.timeline_resolution" in rules(run(bare, strict))


def test_incident_checks_wait_for_resolution() -> None:
    view = incident(
        status="investigating", postmortem=None, timeline=(), causes=(), participants=(), summary=""
    )
    assert not {r for r in rules(run(view)) if r.startswith("completeness.")} - {
        "completeness.cause_unaddressed"
    }
    assert "completeness.root_cause" in rules(run(replace(view, status="resolved")))


def test_no_root_cause() -> None:
    view = incident(causes=(CauseView("INC-1/1", "trigger", "change", "A deploy"),))
    assert "completeness.root_cause" in rules(run(view))


def test_root_cause_without_action() -> None:
    causes = (
        *incident().causes,
        CauseView("INC-1/2", "root_cause", "monitoring", "No alert on retries"),
    )
    outcome = run(incident(causes=causes))
    [finding] = [f for f in outcome.findings if f.rule == "completeness.cause_unaddressed"]
    assert finding.entity_key == "INC-1/2" and finding.severity == "blocker"


def test_wont_do_action_does_not_address_a_cause() -> None:
    view = incident(actions=(action(status="wont_do"),))
    assert "completeness.cause_unaddressed" in rules(run(view))


def test_contributing_factor_needs_no_action() -> None:
    causes = (*incident().causes, CauseView("INC-1/2", "contributing_factor", "process", "Friday"))
    assert "completeness.cause_unaddressed" not in rules(run(incident(causes=causes)))


@pytest.mark.parametrize(
    ("field", "rule", "severity"),
    [
        ("success_criteria", "completeness.success_criteria", "blocker"),
        ("validation_method", "completeness.validation_method", "warning"),
    ],
)
def test_action_needs_success_criteria_and_validation(field: str, rule: str, severity: str) -> None:
    for empty in (None, "   "):
        a: ActionView = replace(action(), **{field: empty})
        [finding] = [f for f in run(incident(actions=(a,))).findings if f.rule == rule]
        assert finding.severity == severity and finding.entity_key == "ACT-1"


@pytest.mark.parametrize(
    ("participants", "facilitator", "missing"),
    [
        ((), "Noor Haddad", {"technical_role", "business_role"}),
        ((ParticipantView("responder", "A"),), "Noor Haddad", {"business_role"}),
        ((ParticipantView("customer_support", "B"),), None, {"technical_role", "facilitator"}),
        (
            (
                ParticipantView("facilitator", "N"),
                ParticipantView("subject_matter_expert", "E"),
                ParticipantView("communications", "C"),
            ),
            None,
            set(),
        ),
    ],
)
def test_major_incidents_need_facilitator_and_both_kinds_of_role(
    participants: tuple[ParticipantView, ...], facilitator: str | None, missing: set[str]
) -> None:
    base = incident()
    assert base.postmortem is not None
    view = replace(
        base,
        participants=participants,
        postmortem=replace(base.postmortem, facilitator=facilitator),
    )
    found = {r.removeprefix("completeness.") for r in rules(run(view))}
    assert found & {"facilitator", "technical_role", "business_role"} == missing
    minor = replace(view, severity="SEV3")
    assert not {"facilitator", "technical_role", "business_role"} & {
        r.removeprefix("completeness.") for r in rules(run(minor))
    }


def test_review_must_be_held_within_the_window() -> None:
    base = incident()
    assert base.postmortem is not None and base.resolved_at is not None
    late = replace(
        base,
        postmortem=replace(base.postmortem, review_held_at=base.resolved_at + timedelta(days=8)),
    )
    [finding] = [f for f in run(late).findings if f.rule == "completeness.review_late"]
    assert finding.details["days_late"] == 3
    not_held = replace(base, postmortem=replace(base.postmortem, review_held_at=None))
    assert "completeness.review_late" in rules(run(not_held))  # resolved 6 days ago, window 5
    recent = replace(not_held, resolved_at=NOW - timedelta(days=2))
    assert "completeness.review_late" not in rules(run(recent))


def test_decision_without_rationale() -> None:
    view = incident(
        timeline=(
            *incident().timeline,
            TimelineView("INC-1/9", "decision", "Kept the feature flag on", is_decision=True),
        )
    )
    [finding] = [f for f in run(view).findings if f.rule == "completeness.decision_rationale"]
    assert finding.entity_type == "timeline_event" and finding.entity_key == "INC-1/9"


def test_missing_summary_warns() -> None:
    base = incident()
    assert base.postmortem is not None
    view = replace(base, summary="", postmortem=replace(base.postmortem, summary=""))
    assert "completeness.summary" in rules(run(view))
    filled = replace(view, postmortem=replace(base.postmortem, summary="Written later."))
    assert "completeness.summary" not in rules(run(filled))
