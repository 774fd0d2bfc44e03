"""Blameless language policy: which texts are read, who counts as a person, the findings."""

from __future__ import annotations

from dataclasses import replace

from app.rules.views import CauseView, TimelineView
from tests.unit.test_policy_kit import ctx, incident, policy, rules, run


def test_blameless_incident_has_no_language_findings() -> None:
    assert not {r for r in rules(run(incident())) if r.startswith("language.")}


def test_individual_blame_in_the_summary() -> None:
    view = incident(summary="Checkout failed because Maya Okafor forgot to renew the certificate.")
    [finding] = [f for f in run(view).findings if f.rule == "language.individual_blame"]
    assert finding.entity_type == "incident" and finding.entity_key == "INC-1"
    assert finding.details["field"] == "summary" and "forgot" in finding.details["phrase"]
    assert finding.suggestion  # a systems-focused rephrasing is offered


def test_person_named_as_a_cause() -> None:
    view = incident(
        causes=(CauseView("INC-1/1", "root_cause", "change", "Root cause: Maya Okafor"),)
    )
    [finding] = [f for f in run(view).findings if f.rule == "language.person_as_cause"]
    assert finding.entity_type == "cause" and finding.severity == "blocker"


def test_human_error_as_root_cause() -> None:
    view = incident(causes=(CauseView("INC-1/1", "root_cause", "process", "Human error."),))
    assert "language.human_error" in rules(run(view))


def test_timeline_and_lessons_are_read() -> None:
    base = incident()
    assert base.postmortem is not None
    view = replace(
        base,
        timeline=(
            *base.timeline,
            TimelineView("INC-1/7", "note", "Ravi Menon failed to acknowledge the page."),
        ),
        postmortem=replace(base.postmortem, lessons=("The DBA was careless with the backup.",)),
    )
    findings = [f for f in run(view).findings if f.rule.startswith("language.")]
    assert {(f.entity_type, f.details["field"]) for f in findings} == {
        ("timeline_event", "text"),
        ("postmortem", "lessons[0]"),
    }


def test_neutral_who_did_what_is_not_blame() -> None:
    view = incident(
        timeline=(
            *incident().timeline,
            TimelineView("INC-1/7", "action", "Maya Okafor rolled back the config."),
        )
    )
    assert not {r for r in rules(run(view)) if r.startswith("language.")}


def test_same_phrase_twice_gives_two_fingerprints() -> None:
    view = incident(summary="Maya Okafor forgot the flag. Later Ravi Menon forgot the flag.")
    fps = [f.fingerprint for f in run(view).findings if f.rule == "language.individual_blame"]
    assert len(fps) == 2 and len(set(fps)) == 2


def test_language_severity_is_tunable() -> None:
    context = ctx(policy(rules={"language.human_error": {"severity": "warning"}}))
    view = incident(causes=(CauseView("INC-1/1", "root_cause", "process", "Human error."),))
    [finding] = [f for f in run(view, context).findings if f.rule == "language.human_error"]
    assert finding.severity == "warning"
