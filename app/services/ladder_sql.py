"""The follow-through ladder as SQL: `plan` for a whole table at once.

`app.rules.follow_through.plan` stays the specification; this builds the same
answer as column expressions over `actions`, so a sweep or a re-measure can
work out every non-regulatory action's due step and next look in the database
instead of one Python call per action (a property test holds the two equal on
random actions, policies and clocks, on SQLite and PostgreSQL:
tests/integration/test_ladder_sql.py). Regulatory actions keep the Python path:
their clock is the incident's, read per obligation.

All arithmetic is in integer microseconds since the epoch (the clock is a bound
parameter), so it is exact and the same on both databases; only turning a
column into microseconds, a number back into a stored timestamp, and the step
keys' date texts differ by dialect. A step is chosen as `plan` chooses it: the
latest step passed, the rung with the higher number when two fall at one time,
a stale rung over the reminder at one time, and the top rung's repeats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
)

from app.models import Action
from app.rules.follow_through import FollowThroughPolicy, Rung

DAY = 86_400_000_000  # microseconds
_NONE = 2**62  # stands for "no step" inside min/least, which SQLite's min() cannot skip
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOW = bindparam("ladder_now", type_=BigInteger)  # the sweep's clock, in microseconds


def micros(when: datetime) -> int:
    """The clock as the SQL ladder takes it (bound as `ladder_now`)."""
    return (when - _EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


@dataclass(frozen=True)
class Shape:
    """What the ladder is worked out from, besides the action: the deadlines ladder, the
    stale threshold and the follow-through policy (the same as `plan` is handed)."""

    ladder: tuple[tuple[Rung, int], ...]
    stale_after_days: int
    policy: FollowThroughPolicy

    @property
    def every(self) -> int:
        return timedelta(days=self.policy.repeat_every_days) // timedelta(microseconds=1)


def _epoch_us(column: Any, dialect: str, is_date: bool) -> ColumnElement[int]:
    if dialect == "sqlite":
        seconds = cast(func.strftime("%s", column), BigInteger) * 1_000_000
        if is_date:
            return seconds
        return seconds + cast(func.substr(column, 21, 6), BigInteger)
    return cast(extract("epoch", column) * 1_000_000, BigInteger)


def _texts(dialect: str) -> tuple[ColumnElement[str], ColumnElement[str]]:
    """The step keys' bases: the due date (ISO) and the last activity (%Y%m%dT%H%M)."""
    due, idle = Action.__table__.c.due_date, Action.__table__.c.last_activity_at
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d", due), func.strftime("%Y%m%dT%H%M", idle)
    return (
        func.to_char(due, "YYYY-MM-DD"),
        func.to_char(func.timezone("UTC", idle), 'YYYYMMDD"T"HH24MI'),
    )


def _least(dialect: str, values: Sequence[ColumnElement[Any]]) -> ColumnElement[int]:
    """The smallest of `values`, NULL standing for none: `_NONE` when all are none."""
    filled = [func.coalesce(v, _NONE) for v in values]
    if len(filled) == 1:
        return filled[0]
    return func.min(*filled) if dialect == "sqlite" else func.least(*filled)


def to_timestamp(value: ColumnElement[int], dialect: str) -> ColumnElement[Any]:
    """Microseconds back to the column form `UTCDateTime` stores (SQLite: its text)."""
    if dialect == "sqlite":
        whole = func.strftime("%Y-%m-%d %H:%M:%S", value // 1_000_000, "unixepoch")
        return whole + "." + func.substr("000000" + cast(value % 1_000_000, String), -6, 6)
    return literal_column("TIMESTAMPTZ 'epoch'") + value * literal_column(
        "INTERVAL '1 microsecond'"
    )


def base_query(shape: Shape, dialect: str) -> Select[Any]:  # type: ignore[type-arg]
    """Per action: `code` (0 none, 1 the reminder, 10+k rung k overdue, 20+k rung k stale),
    the chosen step's time, the first step still ahead, and the key bases."""
    t = Action.__table__.c
    d = _epoch_us(t.due_date, dialect, True)
    stale_from = _epoch_us(t.last_activity_at, dialect, False) + shape.stale_after_days * DAY
    k_top = len(shape.ladder)
    overdue = [d + max(after, 1) * DAY for _, after in shape.ladder]
    stale = [stale_from + after * DAY for _, after in shape.ladder]
    stale_ok = [or_(t.due_date.is_(None), s < overdue[0]) for s in stale]
    remind = shape.policy.remind_before_days
    rem_at = d - remind * DAY
    rem_ok = t.due_date.isnot(None) if remind else false()
    best_stale = case(
        *[(and_(stale_ok[k], stale[k] <= NOW), 21 + k) for k in reversed(range(k_top))],
        else_=0,
    )
    rem_due = and_(rem_ok, rem_at <= NOW)
    stale_at = case(*[(best_stale == 21 + k, stale[k]) for k in range(k_top)], else_=None)
    code = case(
        *[
            (and_(t.due_date.isnot(None), overdue[k] <= NOW), 11 + k)
            for k in reversed(range(k_top))
        ],
        (and_(best_stale > 0, or_(~rem_due, stale_at >= rem_at)), best_stale),
        (rem_due, 1),
        else_=0,
    )
    ahead = [case((and_(rem_ok, rem_at > NOW), rem_at), else_=None)]
    ahead += [case((and_(t.due_date.isnot(None), o > NOW), o), else_=None) for o in overdue]
    ahead += [
        case((and_(ok, s > NOW), s), else_=None) for ok, s in zip(stale_ok, stale, strict=True)
    ]
    step_at = case(
        (code == 1, rem_at),
        *[(code == 11 + k, overdue[k]) for k in range(k_top)],
        *[(code == 21 + k, stale[k]) for k in range(k_top)],
        else_=None,
    )
    due_basis, idle_basis = _texts(dialect)
    return select(
        t.id.label("id"),
        code.label("code"),
        step_at.label("step_at"),
        _least(dialect, ahead).label("ahead"),
        due_basis.label("due_basis"),
        idle_basis.label("idle_basis"),
    )


def ladder_query(shape: Shape, dialect: str) -> Select[Any]:
    """`plan` per action: id, step key, level, rung, why, repeat, step time and next look
    (microseconds; NULL key: no step due; next `_NONE`: none ahead). Filter it by joining on
    `id` (or add `.where` on `Action` columns to the inner query via `base_query`)."""
    base = base_query(shape, dialect).subquery("ladder_base")
    k_top, every = len(shape.ladder), shape.every
    top = or_(base.c.code == 10 + k_top, base.c.code == 20 + k_top)
    repeats = and_(top, base.c.step_at + every <= NOW)
    n = case((repeats, (NOW - base.c.step_at) // every), else_=0)
    tag = case(
        (base.c.code == 1, literal("reminder")),
        *[(base.c.code == 11 + k, literal(f"L{k + 1}")) for k in range(k_top)],
        *[(base.c.code == 21 + k, literal(f"S{k + 1}")) for k in range(k_top)],
        else_=None,
    )
    basis = case((base.c.code < 20, base.c.due_basis), else_=base.c.idle_basis)
    suffix = case((repeats, "R" + cast(n, String)), else_="")
    key = case((base.c.code > 0, tag + suffix + "@" + basis), else_=null())
    level = case(
        (base.c.code > 20, base.c.code - 20), (base.c.code > 10, base.c.code - 10), else_=0
    )
    rungs = {k + 1: to for k, (to, _) in enumerate(shape.ladder)}
    rung = case(*[(level == k, literal(to)) for k, to in rungs.items()], else_=literal("owner"))
    why = case(
        (base.c.code == 1, literal("due_soon")),
        (base.c.code > 20, literal("stale")),
        else_=literal("overdue"),
    )
    after = base.c.step_at + (n + 1) * every
    next_us = case((top, _least_pair(after, base.c.ahead)), else_=base.c.ahead)
    return select(
        base.c.id,
        key.label("step"),
        cast(level, Integer).label("level"),
        rung.label("rung"),
        why.label("why"),
        cast(n, Integer).label("repeat"),
        (base.c.step_at + n * every).label("step_at"),
        next_us.label("next_at"),
    )


def _least_pair(a: ColumnElement[int], b: ColumnElement[int]) -> ColumnElement[int]:
    return case((a < b, a), else_=b)
