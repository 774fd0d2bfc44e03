"""The follow-through ladder as arithmetic: reminder, levels, repeats, stale, regulatory hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.rules.follow_through import FollowThroughPolicy, Subject, plan, regulatory_cadence
from app.rules.policy import PolicyError, interval_seconds, parse_policy

LADDER = (("owner", 0), ("team_lead", 7), ("director", 21))
POLICY = FollowThroughPolicy(remind_before_days=3, repeat_every_days=7)
DUE = date(2027, 3, 10)
FRESH = datetime(2027, 3, 5, tzinfo=UTC)  # activity recent enough never to be stale


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def due_step(now: datetime, activity: datetime = FRESH) -> str | None:
    step = plan(Subject(DUE, activity), LADDER, 14, POLICY, now).due
    return step.key if step else None


def test_the_ladder_walks_reminder_levels_and_repeats_in_order() -> None:
    assert due_step(at(DUE - timedelta(days=4))) is None
    assert due_step(at(DUE - timedelta(days=3))) == "reminder@2027-03-10"
    assert due_step(at(DUE)) == "reminder@2027-03-10"  # due today is not overdue yet
    assert due_step(at(DUE + timedelta(days=1))) == "L1@2027-03-10"
    assert due_step(at(DUE + timedelta(days=6))) == "L1@2027-03-10"
    assert due_step(at(DUE + timedelta(days=7))) == "L2@2027-03-10"
    assert due_step(at(DUE + timedelta(days=21))) == "L3@2027-03-10"
    assert due_step(at(DUE + timedelta(days=27))) == "L3@2027-03-10"
    assert due_step(at(DUE + timedelta(days=28))) == "L3R1@2027-03-10"
    assert due_step(at(DUE + timedelta(days=35))) == "L3R2@2027-03-10"


def test_next_look_is_the_next_step_so_a_sweep_reads_only_what_is_due() -> None:
    result = plan(Subject(DUE, FRESH), LADDER, 14, POLICY, at(DUE + timedelta(days=2)))
    assert result.next_at == datetime(2027, 3, 17, tzinfo=UTC)  # level 2
    top = plan(Subject(DUE, FRESH), LADDER, 14, POLICY, at(DUE + timedelta(days=22)))
    assert top.next_at == datetime(2027, 4, 7, tzinfo=UTC)  # the first repeat


def test_a_late_sweep_takes_only_the_rung_reached() -> None:
    assert due_step(at(DUE + timedelta(days=8))) == "L2@2027-03-10"


def test_stale_before_the_due_date_and_overdue_takes_over() -> None:
    far = date(2027, 6, 1)
    idle = datetime(2027, 1, 1, tzinfo=UTC)
    subject = Subject(far, idle)
    assert plan(subject, LADDER, 14, POLICY, idle + timedelta(days=13)).due is None
    step = plan(subject, LADDER, 14, POLICY, idle + timedelta(days=14, hours=1)).due
    assert step is not None and step.key.startswith("S1@") and step.why == "stale"
    step = plan(subject, LADDER, 14, POLICY, idle + timedelta(days=21, hours=1)).due
    assert step is not None and step.level == 2 and step.rung == "team_lead"
    late = plan(subject, LADDER, 14, POLICY, at(far + timedelta(days=1))).due
    assert late is not None and late.key == "L1@2027-06-01"


def test_regulatory_clock_runs_in_hours_from_the_exact_deadline() -> None:
    deadline = datetime(2027, 3, 4, 15, 30, tzinfo=UTC)
    subject = Subject(deadline.date(), FRESH, regulatory_due_at=deadline)

    def step(hours: float) -> tuple[str, int] | None:
        s = plan(subject, LADDER, 14, POLICY, deadline + timedelta(hours=hours)).due
        return (s.key.partition("@")[0], s.level) if s else None

    assert step(-25) is None
    assert step(-24) == ("reminder", 0)
    assert step(0) == ("G1", 1)
    assert step(3.9) == ("G1", 1)
    assert step(4) == ("G2", 2)
    assert step(12) == ("G3", 3)
    assert step(16) == ("G3R1", 3)
    assert step(20.5) == ("G3R2", 3)


def test_policy_file_reads_follow_through_and_schedule() -> None:
    policy = parse_policy(
        "follow_through: {remind_before_days: 2, bump_priority_at: [2]}\n"
        "schedule: {follow-through: 5m, reevaluate: off}\n"
    )
    assert policy.follow_through.remind_before_days == 2
    assert policy.follow_through.bump_priority_at == (2,)
    assert policy.schedule == {"follow-through": 300, "reevaluate": 0}
    assert interval_seconds("1d") == 86400 and interval_seconds(45) == 45
    with pytest.raises(PolicyError, match=r"policy.yaml:1: schedule.reevaluate"):
        parse_policy("schedule: {reevaluate: soon}\n")
    with pytest.raises(PolicyError, match="bump_priority_at"):
        parse_policy("follow_through: {bump_priority_at: [0]}\n")


def test_regulatory_repeats_scale_with_the_obligation_clock() -> None:
    reg = POLICY.regulatory  # defaults: a tenth of the clock, at least every 4 hours
    assert regulatory_cadence(reg, 1) == timedelta(hours=4)  # Reg SCI immediate notice
    assert regulatory_cadence(reg, 72) == timedelta(hours=7.2)  # GDPR
    assert regulatory_cadence(reg, 60 * 24) == timedelta(days=6)  # HIPAA
    assert regulatory_cadence(reg, 60 * 24, own_hours=48) == timedelta(hours=48)
    deadline = datetime(2027, 3, 4, 15, 30, tzinfo=UTC)
    every = regulatory_cadence(reg, 60 * 24)
    subject = Subject(deadline.date(), FRESH, regulatory_due_at=deadline, regulatory_every=every)

    def step(hours: float) -> str | None:
        s = plan(subject, LADDER, 14, POLICY, deadline + timedelta(hours=hours)).due
        return s.key.partition("@")[0] if s else None

    assert step(16) == "G3" and step(12 + 143) == "G3"
    assert step(12 + 144) == "G3R1" and step(12 + 288) == "G3R2"
    assert plan(subject, LADDER, 14, POLICY, deadline + timedelta(hours=13)).next_at == (
        deadline + timedelta(hours=12 + 144)
    )


def test_policy_reads_regulatory_cadences() -> None:
    policy = parse_policy(
        "follow_through: {regulatory: {repeat_every_hours: 2, repeat_fraction: 0.25}}\n"
    )
    assert regulatory_cadence(policy.follow_through.regulatory, 72) == timedelta(hours=18)
    with pytest.raises(PolicyError, match="repeat_fraction"):
        parse_policy("follow_through: {regulatory: {repeat_fraction: 2}}\n")
