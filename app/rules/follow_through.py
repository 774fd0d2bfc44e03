"""Follow-through: when an open action is reminded, escalated, and reminded again.

Pure arithmetic on one action's dates: the follow-through sweep hands in
its due instant, last activity and the policy, and gets back the step due
now (if any) and when the next one falls due. The ladder's rungs (owner,
team lead, director) are the deadlines policy's, so the finding and the
sweep agree on who is next; regulatory obligations (GDPR, HIPAA, Reg SCI)
run on their own clock, in hours, from the obligation's exact deadline, and
repeat at a cadence that scales with that clock (`regulatory_cadence`): a
72-hour GDPR notice is chased every few hours, a 60-day HIPAA notice every
few days.

Only the latest step due is taken: a sweep that was down for a week sends
the rung the action has reached, not every rung it passed. Each step has a
key naming the rung and the commitment it was measured against (the due
date, or the last activity for a stale action), so a step is taken once per
commitment and a new due date starts a new ladder.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from operator import itemgetter
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

Rung = Literal["owner", "team_lead", "director"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegulatoryStep(_Strict):
    after_hours: float = Field(ge=0)
    to: Rung


_REGULATORY_LADDER = (
    RegulatoryStep(after_hours=0, to="owner"),
    RegulatoryStep(after_hours=4, to="team_lead"),
    RegulatoryStep(after_hours=12, to="director"),
)


class RegulatoryFollowThrough(_Strict):
    remind_before_hours: float = Field(default=24, ge=0)
    escalation: tuple[RegulatoryStep, ...] = _REGULATORY_LADDER
    # The top rung repeats every `repeat_fraction` of the obligation's clock, never more
    # often than `repeat_every_hours`; an obligation's own `repeat_every_hours` wins.
    repeat_every_hours: float = Field(default=4, gt=0)
    repeat_fraction: float = Field(default=0.1, ge=0, le=1)

    @field_validator("escalation")
    @classmethod
    def _increasing(cls, value: tuple[RegulatoryStep, ...]) -> tuple[RegulatoryStep, ...]:
        hours = [s.after_hours for s in value]
        if not value or hours != sorted(set(hours)):
            raise ValueError("regulatory escalation steps need strictly increasing after_hours")
        return value


class FollowThroughPolicy(_Strict):
    remind_before_days: int = Field(default=3, ge=0)
    repeat_every_days: float = Field(default=7, gt=0)
    bump_priority_at: tuple[int, ...] = ()
    regulatory: RegulatoryFollowThrough = RegulatoryFollowThrough()

    @field_validator("bump_priority_at")
    @classmethod
    def _levels(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(level < 1 for level in value):
            raise ValueError("bump_priority_at lists ladder levels, 1 and up")
        return value


@dataclass(frozen=True, slots=True)
class Subject:
    """One open action as the ladder sees it."""

    due_date: date | None
    last_activity_at: datetime
    regulatory_due_at: datetime | None = None
    regulatory_every: timedelta | None = None  # the obligation's repeat cadence


def regulatory_cadence(
    policy: RegulatoryFollowThrough, clock_hours: float, own_hours: float | None = None
) -> timedelta:
    """How often the top rung repeats for an obligation with a clock of `clock_hours`.

    The obligation's own cadence if policy gives one; else `repeat_fraction` of its
    clock, but never more often than `repeat_every_hours`: with the defaults (a tenth,
    at least 4 h) Reg SCI's 1 h and 24 h notices repeat every 4 h, GDPR's 72 h every
    7.2 h, HIPAA's 60 days every 6 days.
    """
    if own_hours is not None:
        return timedelta(hours=own_hours)
    return timedelta(hours=max(policy.repeat_every_hours, policy.repeat_fraction * clock_hours))


class Step(NamedTuple):
    """One rung (or repeat) of an action's ladder. A named tuple, not a frozen dataclass:
    a plan builds one per rung for every action it measures, and a frozen dataclass's
    `__init__` (one `object.__setattr__` per field) was most of what planning cost."""

    key: str  # unique per action: rung and commitment, e.g. "L2@2026-12-01"
    level: int  # 0: the reminder before the due date
    rung: Rung
    at: datetime  # when it fell due
    why: Literal["due_soon", "overdue", "stale", "regulatory_due", "regulatory_overdue"]
    repeat: int = 0


class Plan(NamedTuple):
    due: Step | None
    next_at: datetime | None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


_WHY = {"L": "overdue", "S": "stale", "G": "regulatory_overdue"}
_AT = itemgetter(3)  # Step.at, for the stable sort by time


def _rungs(ladder: tuple[Rung, ...], times: list[datetime], tag: str, basis: str) -> list[Step]:
    why = _WHY[tag]
    return [
        Step(f"{tag}{i + 1}@{basis}", i + 1, ladder[i], at, why)  # type: ignore[arg-type]
        for i, at in enumerate(times)
    ]


def _repeat(top: Step, every: timedelta, now: datetime) -> tuple[Step | None, datetime]:
    """The latest repeat at the top rung due by `now`, and when the one after falls due."""
    if now < top.at + every:
        return None, top.at + every
    n = int((now - top.at) / every)
    tag, _, basis = top.key.partition("@")
    step = Step(f"{tag}R{n}@{basis}", top.level, top.rung, top.at + n * every, top.why, n)
    return step, top.at + (n + 1) * every


@cache
def _shape(
    ladder: tuple[tuple[Rung, int], ...],
) -> tuple[tuple[Rung, ...], tuple[timedelta, ...], tuple[timedelta, ...]]:
    """A ladder's rungs and its offsets from the due date and from going stale: the same for
    every action a sweep measures, so worked out once per ladder, not once per action."""
    rungs = tuple(to for to, _ in ladder)
    overdue = tuple(timedelta(days=max(after, 1)) for _, after in ladder)
    return rungs, overdue, tuple(timedelta(days=after) for _, after in ladder)


def steps_for(
    subject: Subject,
    ladder: tuple[tuple[Rung, int], ...],
    stale_after_days: int,
    policy: FollowThroughPolicy,
) -> tuple[list[Step], timedelta]:
    """Every non-repeating step of this action's ladder, in time order, and the repeat cadence."""
    rungs, overdue_after, stale_after = _shape(ladder)
    if subject.regulatory_due_at is not None:
        reg = policy.regulatory
        due = subject.regulatory_due_at
        basis = f"{due:%Y%m%dT%H%M}"
        out = [
            Step(
                f"reminder@{basis}",
                0,
                "owner",
                due - timedelta(hours=reg.remind_before_hours),
                "regulatory_due",
            )
        ]
        times = [due + timedelta(hours=s.after_hours) for s in reg.escalation]
        regulatory = tuple(s.to for s in reg.escalation)
        every = subject.regulatory_every or timedelta(hours=reg.repeat_every_hours)
        return out + _rungs(regulatory, times, "G", basis), every
    every = timedelta(days=policy.repeat_every_days)
    out = []
    first_overdue: datetime | None = None
    if subject.due_date is not None:
        start = _midnight(subject.due_date)
        basis = subject.due_date.isoformat()
        if policy.remind_before_days:
            at = start - timedelta(days=policy.remind_before_days)
            out.append(Step(f"reminder@{basis}", 0, "owner", at, "due_soon"))
        times = [start + after for after in overdue_after]
        first_overdue = times[0]
        out += _rungs(rungs, times, "L", basis)
    idle = subject.last_activity_at
    stale_from = idle + timedelta(days=stale_after_days)
    # Stale counts only while the action is not overdue: overdue is the stronger reason.
    if first_overdue is None or stale_from < first_overdue:
        stale_times = [stale_from + after for after in stale_after]
        stale = _rungs(rungs, stale_times, "S", f"{idle:%Y%m%dT%H%M}")
        out += [s for s in stale if first_overdue is None or s.at < first_overdue]
    return sorted(out, key=_AT), every


def plan(
    subject: Subject,
    ladder: tuple[tuple[Rung, int], ...],
    stale_after_days: int,
    policy: FollowThroughPolicy,
    now: datetime,
) -> Plan:
    """The step due at `now` (the latest one passed) and when the sweep should look again.

    At the top rung the step repeats every cadence until the action is closed; a
    later ladder (an overdue one overtaking a stale one) still takes over.
    """
    steps, every = steps_for(subject, ladder, stale_after_days, policy)
    due: Step | None = None  # the latest step passed (steps are in time order)
    next_at: datetime | None = None  # the first one still ahead
    top = 0
    for s in steps:
        if s.at <= now:
            due = s
        elif next_at is None:
            next_at = s.at
        top = max(top, s.level)
    if due is not None and top > 0 and due.level == top:
        repeat, after = _repeat(due, every, now)
        due = repeat or due
        next_at = min(after, next_at) if next_at else after
    return Plan(due, next_at)


def waiver_fingerprints(action_key: str, obligation_entity: str | None) -> set[str]:
    """Fingerprints of the findings whose waiver stops this action's ladder (see model.py)."""
    rules = [("deadlines.overdue", "action", action_key), ("deadlines.stale", "action", action_key)]
    if obligation_entity:
        rules.append(("compliance.overdue", "obligation", obligation_entity))
    return {hashlib.sha256("|".join((*r, "")).encode()).hexdigest() for r in rules}
