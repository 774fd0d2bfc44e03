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
    CTE,
    BigInteger,
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    extract,
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
        # The whole seconds only: SQLite's date functions round a fraction to milliseconds,
        # so .9995 s would count as the next second.
        seconds = cast(func.strftime("%s", func.substr(column, 1, 19)), BigInteger) * 1_000_000
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


def _layer_a(shape: Shape, dialect: str, where: Sequence[ColumnElement[bool]]) -> CTE:
    """Layer a (see `_layered`): each date read into microseconds once per row."""
    t = Action.__table__.c
    due_basis, idle_basis = _texts(dialect)
    return (
        select(
            t.id.label("id"),
            _epoch_us(t.due_date, dialect, True).label("d"),
            (_epoch_us(t.last_activity_at, dialect, False) + shape.stale_after_days * DAY).label(
                "f"
            ),
            due_basis.label("due_basis"),
            idle_basis.label("idle_basis"),
        )
        .where(*where)
        .cte("ladder_a")
        .prefix_with("MATERIALIZED")
    )


def _passed(shape: Shape, dialect: str, a: CTE) -> CTE:
    """Layer b (see `_layered`): rungs passed counted, as sums of 0/1 per rung."""
    over = [max(after, 1) * DAY for _, after in shape.ladder]
    stale = [after * DAY for _, after in shape.ladder]
    remind = shape.policy.remind_before_days * DAY
    stale_ok = [or_(a.c.d.is_(None), a.c.f + s < a.c.d + over[0]) for s in stale]
    passed = [case((a.c.d + o <= NOW, 1), else_=0) for o in over]
    stale_passed = [
        case((and_(ok, a.c.f + s <= NOW), 1), else_=0)
        for ok, s in zip(stale_ok, stale, strict=True)
    ]
    rem_due: ColumnElement[int] = literal(0)
    ahead: list[ColumnElement[Any]] = []
    if remind:
        rem_due = case((and_(a.c.d.isnot(None), a.c.d - remind <= NOW), 1), else_=0)
        ahead.append(case((a.c.d - remind > NOW, a.c.d - remind), else_=None))
    ahead += [case((a.c.d + o > NOW, a.c.d + o), else_=None) for o in over]
    ahead += [
        case((and_(ok, a.c.f + s > NOW), a.c.f + s), else_=None)
        for ok, s in zip(stale_ok, stale, strict=True)
    ]
    return (
        select(
            a,
            sum(passed[1:], passed[0]).label("ov"),
            sum(stale_passed[1:], stale_passed[0]).label("st"),
            rem_due.label("rem_due"),
            _least(dialect, ahead).label("ahead"),
        )
        .cte("ladder_b")
        .prefix_with("MATERIALIZED")
    )


def _layered(shape: Shape, dialect: str, where: Sequence[ColumnElement[bool]]) -> CTE:
    """Three materialized layers, each naming what the next one reads: without them every
    reference to a derived value is its whole expression again (both databases substitute a
    subquery's expressions into the query using it), tens of kilobytes of SQL per row.

    a: the due date and the start of staleness in microseconds; b: how many overdue rungs
    and valid stale rungs are passed (the times only grow along the ladder, so the count is
    the rung reached), whether the reminder is passed, the first step ahead; c: the step
    chosen, as `code` (0 none, 1 the reminder, 10+k rung k overdue, 20+k rung k stale), and
    its time."""
    b = _passed(shape, dialect, _layer_a(shape, dialect, where))
    over = [max(after, 1) * DAY for _, after in shape.ladder]
    stale = [after * DAY for _, after in shape.ladder]
    remind = shape.policy.remind_before_days * DAY
    k_top = len(shape.ladder)
    stale_at = case(*[(b.c.st == k + 1, b.c.f + stale[k]) for k in range(k_top)], else_=None)
    over_at = case(*[(b.c.ov == k + 1, b.c.d + over[k]) for k in range(k_top)], else_=None)
    stale_wins = and_(b.c.st > 0, or_(b.c.rem_due == 0, stale_at >= b.c.d - remind))
    code = case(
        (b.c.ov > 0, 10 + b.c.ov), (stale_wins, 20 + b.c.st), (b.c.rem_due == 1, 1), else_=0
    )
    step_at = case(
        (b.c.ov > 0, over_at), (stale_wins, stale_at), (b.c.rem_due == 1, b.c.d - remind)
    )
    return (
        select(
            b.c.id,
            code.label("code"),
            step_at.label("step_at"),
            b.c.ahead,
            b.c.due_basis,
            b.c.idle_basis,
        )
        .cte("ladder_c")
        .prefix_with("MATERIALIZED")
    )


def ladder_cte(shape: Shape, dialect: str, where: Sequence[ColumnElement[bool]] = ()) -> CTE:
    """`plan` per action: id, step key, level, rung, why, repeat, step time and next look
    (microseconds; NULL key: no step due; next `_NONE`: none ahead), for the actions `where`
    (conditions on `Action`'s columns) chooses: join it on `id`. Bind the clock as
    `ladder_now` (`micros`)."""
    c = _layered(shape, dialect, where)
    k_top, every = len(shape.ladder), shape.every
    top = or_(c.c.code == 10 + k_top, c.c.code == 20 + k_top)
    repeats = and_(top, c.c.step_at + every <= NOW)
    n = case((repeats, (NOW - c.c.step_at) // every), else_=0)
    tag = case(
        (c.c.code == 1, literal("reminder")),
        *[(c.c.code == 11 + k, literal(f"L{k + 1}")) for k in range(k_top)],
        *[(c.c.code == 21 + k, literal(f"S{k + 1}")) for k in range(k_top)],
        else_=None,
    )
    basis = case((c.c.code < 20, c.c.due_basis), else_=c.c.idle_basis)
    suffix = case((repeats, "R" + cast(n, String)), else_="")
    key = case((c.c.code > 0, tag + suffix + "@" + basis), else_=null())
    level = case((c.c.code > 20, c.c.code - 20), (c.c.code > 10, c.c.code - 10), else_=0)
    rungs = {k + 1: to for k, (to, _) in enumerate(shape.ladder)}
    rung = case(*[(level == k, literal(to)) for k, to in rungs.items()], else_=literal("owner"))
    why = case(
        (c.c.code == 1, literal("due_soon")),
        (c.c.code > 20, literal("stale")),
        else_=literal("overdue"),
    )
    after = c.c.step_at + (n + 1) * every
    next_us = case((top, case((after < c.c.ahead, after), else_=c.c.ahead)), else_=c.c.ahead)
    return (
        select(
            c.c.id,
            key.label("step"),
            cast(level, Integer).label("level"),
            rung.label("rung"),
            why.label("why"),
            cast(n, Integer).label("repeat"),
            (c.c.step_at + n * every).label("step_at"),
            next_us.label("next_at"),
        )
        .cte("ladder")
        .prefix_with("MATERIALIZED")
    )
