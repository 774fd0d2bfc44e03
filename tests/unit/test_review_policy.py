"""Review policy: business days, facilitator rotation, participants (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from app.catalog import load_catalog
from app.domain.vocabulary import Severity
from app.rules.review import (
    ReviewPolicy,
    add_business_days,
    facilitator_pool,
    pick_facilitator,
    suggested_participants,
)

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "config")


def test_business_days_skip_weekends_and_holidays() -> None:
    friday = date(2026, 12, 18)
    assert add_business_days(friday, 1) == date(2026, 12, 21)
    assert add_business_days(friday, 5) == date(2026, 12, 25)
    holidays = [date(2026, 12, 24), date(2026, 12, 25)]
    assert add_business_days(friday, 5, holidays) == date(2026, 12, 29)
    saturday = date(2026, 12, 19)
    assert add_business_days(saturday, 0) == date(2026, 12, 21)
    assert add_business_days(saturday, 1) == date(2026, 12, 22)


def test_rotation_takes_turns_and_skips_the_commander() -> None:
    pool = facilitator_pool(ReviewPolicy(), CATALOG, ["checkout"])
    assert {p.team for p in pool} == {"storefront"}
    first = pick_facilitator(pool, {})
    assert first is not None and first.name == pool[0].name
    history = {pool[0].name: datetime(2026, 1, 1, tzinfo=UTC)}
    second = pick_facilitator(pool, history)
    assert second is not None and second.name == pool[1].name
    everyone = {p.name: datetime(2026, 1, i + 1, tzinfo=UTC) for i, p in enumerate(pool)}
    oldest = pick_facilitator(pool, everyone, exclude=[pool[0].name])
    assert oldest is not None and oldest.name == pool[1].name
    assert pick_facilitator(pool, {}, exclude=[p.name for p in pool]) is None


def test_trained_pool_prefers_outside_the_owning_team() -> None:
    pool = facilitator_pool(ReviewPolicy(facilitator_pool="facilitators"), CATALOG, ["monitoring"])
    assert [p.name for p in pool] == ["Grace Adeyemi"]  # SRE owns monitoring


def test_participants_add_a_stakeholder_only_for_severe_incidents() -> None:
    policy = ReviewPolicy()
    severe = suggested_participants(
        policy,
        CATALOG,
        services=["orders-db", "checkout"],
        severity=Severity.SEV2,
        facilitator="Ines Duarte",
    )
    assert severe == [
        ("Ines Duarte", "facilitator"),
        ("Tomasz Nowak", "owner of orders-db"),
        ("Priya Raman", "lead of data-platform, affected team"),
        ("Maya Okafor", "owner of checkout"),
        ("Daniel Brooks", "business stakeholder"),
    ]
    minor = suggested_participants(
        policy, CATALOG, services=["orders-db"], severity=Severity.SEV4, facilitator=None
    )
    assert ("Daniel Brooks", "business stakeholder") not in minor
