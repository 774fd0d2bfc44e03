"""Ownership: an owner the catalog knows, or the team default where policy allows."""

from __future__ import annotations

from tests.unit.test_policy_kit import action, ctx, incident, policy, rules, run


def test_owned_by_catalog_person_does_not_fire() -> None:
    assert not {"ownership.missing", "ownership.unknown_owner"} & rules(run(incident()))


def test_owner_matched_by_email_counts_as_known() -> None:
    view = incident(actions=(action(owner="maya@example.com"),))
    assert "ownership.unknown_owner" not in rules(run(view))


def test_unowned_action_is_a_blocker_by_default() -> None:
    outcome = run(incident(actions=(action(owner=None),)))
    [finding] = [f for f in outcome.findings if f.rule == "ownership.missing"]
    assert finding.severity == "blocker"
    assert finding.entity_type == "action" and finding.entity_key == "ACT-1"
    assert "Maya Okafor" in finding.suggestion  # points at the team lead
    assert not any(c.rule == "ownership.assign_default" for c in outcome.changes)


def test_closed_unowned_action_is_not_flagged() -> None:
    outcome = run(incident(actions=(action(owner=None, status="done"),)))
    assert "ownership.missing" not in rules(outcome)


def test_policy_assigns_the_team_default_owner_instead() -> None:
    context = ctx(policy(ownership={"assign_default_owner": True}))
    outcome = run(incident(actions=(action(owner=None, team=None),)), context)
    assert "ownership.missing" not in rules(outcome)
    [change] = [c for c in outcome.changes if c.rule == "ownership.assign_default"]
    assert change.entity_key == "ACT-1"
    assert change.values == {"owner": "Ravi Menon", "team": "storefront"}


def test_assignment_falls_back_to_blocker_when_team_has_no_default_owner() -> None:
    context = ctx(policy(ownership={"assign_default_owner": True}))
    view = incident(services=("legacy",), actions=(action(owner=None, team=None),))
    outcome = run(view, context)
    assert "ownership.missing" in rules(outcome)
    assert not outcome.changes or all(c.rule != "ownership.assign_default" for c in outcome.changes)


def test_owner_outside_the_catalog_is_flagged() -> None:
    outcome = run(incident(actions=(action(owner="Somebody Else"),)))
    [finding] = [f for f in outcome.findings if f.rule == "ownership.unknown_owner"]
    assert "Somebody Else" in finding.message and finding.severity == "blocker"


def test_catalog_check_can_be_switched_off() -> None:
    context = ctx(policy(ownership={"require_catalog_owner": False}))
    assert "ownership.unknown_owner" not in rules(
        run(incident(actions=(action(owner="X Y"),)), context)
    )
