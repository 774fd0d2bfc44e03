"""Priority scoring: severity + action type + effort + prevention potential, mapped to P0-P3."""

from __future__ import annotations

import pytest

from app.rules.views import CauseView, RelatedIncident
from tests.unit.test_policy_kit import action, ctx, incident, policy, rules, run


def _scored(view_kwargs: dict[str, object] | None = None, **action_kwargs: object):  # type: ignore[no-untyped-def]
    view = incident(actions=(action(**action_kwargs),), **(view_kwargs or {}))
    outcome = run(view)
    [finding] = [f for f in outcome.findings if f.rule == "priority.scored"]
    return finding, outcome


def test_each_term_is_explained_and_summed() -> None:
    finding, _ = _scored(effort="S", type="detect")
    assert finding.severity == "info"
    assert finding.details["terms"] == {"severity": 30, "type": 20, "effort": 15, "prevention": 0}
    assert finding.details["score"] == 65 and finding.details["band"] == "P1"
    for text in (
        "incident severity SEV2: +30",
        "action type detect: +20",
        "effort S: +15",
        "0 incident(s) in the last 180 days",
    ):
        assert text in finding.message


def test_prevention_counts_related_incidents_sharing_service_and_category() -> None:
    related = (
        RelatedIncident("INC-7", frozenset({"checkout"}), frozenset({"change"})),
        RelatedIncident(
            "INC-8", frozenset({"checkout"}), frozenset({"capacity"})
        ),  # other category
        RelatedIncident("INC-9", frozenset({"search"}), frozenset({"change"})),  # other service
        RelatedIncident("INC-10", frozenset({"checkout", "search"}), frozenset({"change", "x"})),
    )
    finding, _ = _scored({"related": related})
    assert finding.details["related_incidents"] == ["INC-7", "INC-10"]
    assert finding.details["terms"]["prevention"] == 20


def test_prevention_is_capped() -> None:
    related = tuple(
        RelatedIncident(f"INC-{n}", frozenset({"checkout"}), frozenset({"change"}))
        for n in range(10, 20)
    )
    finding, _ = _scored({"related": related})
    assert finding.details["terms"]["prevention"] == 30  # prevention_max


def test_action_categories_come_from_the_causes_it_addresses() -> None:
    causes = (
        CauseView("INC-1/1", "root_cause", "change", "a"),
        CauseView("INC-1/2", "root_cause", "capacity", "b"),
    )
    related = (RelatedIncident("INC-8", frozenset({"checkout"}), frozenset({"capacity"})),)
    finding, _ = _scored({"causes": causes, "related": related}, cause_keys=("INC-1/1",))
    assert finding.details["related_incidents"] == []
    finding, _ = _scored({"causes": causes, "related": related}, cause_keys=("INC-1/2",))
    assert finding.details["related_incidents"] == ["INC-8"]


@pytest.mark.parametrize(
    ("severity", "kind", "effort", "band"),
    [
        ("SEV1", "prevent", "S", "P0"),  # 40 + 25 + 15 = 80
        ("SEV1", "prevent", "M", "P1"),  # 73
        ("SEV2", "detect", "M", "P2"),  # 30 + 20 + 8 = 58
        ("SEV3", "process", "M", "P3"),  # 33, just under the P2 threshold of 35
        ("SEV4", "documentation", "L", "P3"),  # 10
    ],
)
def test_score_maps_to_bands(severity: str, kind: str, effort: str, band: str) -> None:
    finding, _ = _scored({"severity": severity}, type=kind, effort=effort)
    assert finding.details["band"] == band


def test_missing_priority_is_filled_from_the_score() -> None:
    _, outcome = _scored(
        priority=None, effort="S", type="prevent", view_kwargs={"severity": "SEV1"}
    )
    [change] = [c for c in outcome.changes if c.rule == "priority.apply"]
    assert change.values == {"score": 80, "priority": "P0"}


def test_stored_score_means_no_change() -> None:
    _, outcome = _scored(score=63.0)
    assert not outcome.changes


def test_stated_priority_below_the_score_warns_and_above_does_not() -> None:
    _, low = _scored(priority="P3")  # scores P1
    [finding] = [f for f in low.findings if f.rule == "priority.below_score"]
    assert finding.severity == "warning" and "P3" in finding.message and "P1" in finding.message
    _, high = _scored(priority="P0")
    assert "priority.below_score" not in rules(high)


def test_set_priority_always_overwrites() -> None:
    context = ctx(policy(scoring={"set_priority": "always"}))
    outcome = run(incident(actions=(action(priority="P3", score=63.0),)), context)
    [change] = [c for c in outcome.changes if c.rule == "priority.apply"]
    assert change.values == {"score": 63.0, "priority": "P1"}
    assert "priority.below_score" not in rules(outcome)


def test_weights_are_configurable() -> None:
    context = ctx(policy(scoring={"effort": {"S": 100, "M": 0, "L": 0}}))
    outcome = run(incident(actions=(action(effort="S"),)), context)
    [finding] = [f for f in outcome.findings if f.rule == "priority.scored"]
    assert finding.details["terms"]["effort"] == 100 and finding.details["band"] == "P0"
