"""Builders for the pure policy tests, plus checks that the rule set compiles as documented.

Every policy test starts from `incident()`, a complete, blameless, on-time
incident that yields no findings except the informational score; each test
then breaks exactly one thing, so "fires" and "does not fire" are judged
against the same baseline.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from app.catalog import Catalog, Person, Service, Team
from app.rules.catalogue import RULES, base_id
from app.rules.evaluate import compile_rules, evaluate
from app.rules.model import Context, Outcome
from app.rules.policy import Policy
from app.rules.views import (
    ActionView,
    CauseView,
    IncidentView,
    ParticipantView,
    PostmortemView,
    TimelineView,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TODAY = NOW.date()

CATALOG = Catalog(
    teams=[
        Team(
            name="storefront",
            lead="Maya Okafor",
            director="Daniel Brooks",
            default_owner="Ravi Menon",
        ),
        Team(name="compliance", lead="Grace Adeyemi", default_owner="Grace Adeyemi"),
        Team(name="orphans", lead="Daniel Brooks"),
    ],
    services=[Service(name="checkout", team="storefront"), Service(name="legacy", team="orphans")],
    people=[
        Person(name="Maya Okafor", team="storefront", email="maya@example.com"),
        Person(name="Ravi Menon", team="storefront"),
        Person(name="Daniel Brooks", team="storefront"),
        Person(name="Grace Adeyemi", team="compliance"),
        Person(name="Noor Haddad", team="sre", facilitator=True),
    ],
)


def policy(**sections: Any) -> Policy:
    return Policy.model_validate(sections)


def ctx(pol: Policy | None = None, now: datetime = NOW) -> Context:
    return Context(pol or Policy(), CATALOG, now)


def action(**kw: Any) -> ActionView:
    base = ActionView(
        key="ACT-1",
        title="Add a canary stage to checkout deploys",
        type="prevent",
        owner="Maya Okafor",
        team="storefront",
        due_date=TODAY + timedelta(days=10),
        priority="P1",
        effort="M",
        success_criteria="Every deploy passes a 10% canary",
        validation_method="Deploy log shows canary gate on each release",
        status="open",
        created_at=NOW - timedelta(days=5),
        last_activity_at=NOW - timedelta(days=2),
        cause_keys=("INC-1/1",),
    )
    return replace(base, **kw)


def incident(**kw: Any) -> IncidentView:
    resolved = NOW - timedelta(days=6)
    base = IncidentView(
        key="INC-1",
        title="Checkout errors after deploy",
        severity="SEV2",
        status="resolved",
        summary="A config change disabled the payment retry path; checkout failed for 40 minutes.",
        services=("checkout",),
        started_at=resolved - timedelta(hours=2),
        detected_at=resolved - timedelta(hours=1, minutes=50),
        resolved_at=resolved,
        created_at=resolved - timedelta(hours=1),
        timeline=(
            TimelineView(
                "INC-1/1", "alert", "Checkout 5xx alert fired", at=resolved - timedelta(hours=2)
            ),
            TimelineView(
                "INC-1/2",
                "decision",
                "Rolled back the config",
                is_decision=True,
                rationale="Rollback was faster than a forward fix",
            ),
            TimelineView("INC-1/3", "resolution", "Error rate back to baseline", at=resolved),
        ),
        causes=(
            CauseView(
                "INC-1/1",
                "root_cause",
                "change",
                "Config changes skip the canary stage that code changes go through",
            ),
        ),
        actions=(action(),),
        participants=(
            ParticipantView("incident_commander", "Maya Okafor"),
            ParticipantView("business_stakeholder", "Daniel Brooks"),
        ),
        postmortem=PostmortemView(
            facilitator="Noor Haddad",
            review_held_at=resolved + timedelta(days=2),
            lessons=("Config needs the same safety net as code.",),
        ),
    )
    return replace(base, **kw)


def run(view: IncidentView, context: Context | None = None) -> Outcome:
    return evaluate([view], context or ctx())[view.key]


def rules(outcome: Outcome, *, include_info: bool = False) -> set[str]:
    return {f.rule for f in outcome.findings if include_info or f.severity != "info"}


def test_baseline_incident_has_no_findings_but_the_score_explanation() -> None:
    outcome = run(incident())
    assert rules(outcome) == set()
    assert rules(outcome, include_info=True) == {"priority.scored"}
    assert [c.rule for c in outcome.changes] == ["priority.apply"]  # score not stored yet


def test_every_catalogued_rule_compiles_by_default_except_opt_in_assignment() -> None:
    compiled = {base_id(r.id) for r in compile_rules(Policy())}
    assert compiled == set(RULES) - {"ownership.assign_default"}
    assert "ownership.assign_default" in {
        base_id(r.id) for r in compile_rules(policy(ownership={"assign_default_owner": True}))
    }


def test_disabled_rules_never_reach_the_engine() -> None:
    pol = policy(rules={"deadlines.overdue": {"enabled": False}})
    assert not any(r.id.startswith("deadlines.overdue") for r in compile_rules(pol))
    overdue = incident(actions=(action(due_date=TODAY - timedelta(days=3)),))
    assert "deadlines.overdue" in rules(run(overdue))
    assert "deadlines.overdue" not in rules(run(overdue, ctx(pol)))


def test_severity_override_changes_the_finding_severity() -> None:
    pol = policy(rules={"completeness.validation_method": {"severity": "blocker"}})
    view = incident(actions=(action(validation_method=None),))
    [finding] = [
        f for f in run(view, ctx(pol)).findings if f.rule == "completeness.validation_method"
    ]
    assert finding.severity == "blocker"
