"""The completion report on PostgreSQL: one hashed scan, rolled up in Python with numpy.

History, measured at a million actions (bench/reports.py): one GROUPING SETS statement
with `percentile_cont` took 8-11 s (an ordered-set aggregate sorts the joined rows once
per grouping set); two hashed statements, one by *cell* (team, severity, priority, type
and month together: some 22,000 cells) and one by the incident's list of services (some
1,600), took 3-4 s, of which ~1.5 s was psycopg turning a million floats of `array_agg`
text into Python floats, and the second scan repeated the join.

Now a single statement reads the join once and feeds both groupings, hashed (GROUPING
SETS (cell), (services)); every row's derived values (a status code, the overdue and
on-time flags, the days to complete) are worked out once, in a projection under the
aggregate (`OFFSET 0` keeps the planner from copying the expressions into each of the
ten aggregates), and the scan and join run in parallel workers. Days travel as packed
big-endian float8 (`string_agg(float8send(days))`): numpy reads the bytes as they are.
Every count is additive, so each breakdown's figures are sums of its cells'. Percentiles
are not: the median and p90 of a group are taken from its cells' days with the
arithmetic `percentile_cont` uses (`percentile`), all groups of a breakdown in one sort
(`rollup`), so the figures are the same floats as PostgreSQL's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlalchemy import (
    LargeBinary,
    Select,
    case,
    func,
    literal_column,
    select,
    text,
    tuple_,
)

from .completion import CLOSED, INCIDENTS, STATUSES, Figures, _Query
from .sql import Executor

SINGLE = ("team", "severity", "priority", "type", "month")
COUNTS = ("total", *STATUSES, "overdue", "completed_with_due", "on_time")
ORDER = ("team", "service", "severity", "priority", "type", "month")
# SET LOCAL for the one statement. The planner sizes a hash of string_agg states at 8 kB a
# group and estimates the cells as the product of their columns' distinct values (~100,000):
# 0.8 GB, over work_mem * hash_mem_multiplier by default, so it would sort the million rows
# per grouping set instead. The hash really holds ~24,000 groups (50 MB at a million
# actions); a real overrun spills to disk rather than growing. Parallel costs are lowered so
# the workers do the scan, the join and the projection (the leader hashes the groups).
SETTINGS = {
    "work_mem": "256MB",
    "hash_mem_multiplier": "8",
    "jit": "off",  # compiling these aggregates cost 6 s of 27
    "enable_sort": "off",
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0.001",
}


def _rows(q: _Query) -> Any:
    """One row per selected action with its keys and derived values, computed once."""
    a, done = q.a, q.completed()
    utc = func.timezone(literal_column("'UTC'"), a.created_at)
    finished_on = func.timezone(literal_column("'UTC'"), a.completed_at).cast(a.due_date.type)
    with_due = done & a.due_date.is_not(None)
    span = func.date_part(literal_column("'epoch'"), a.completed_at - a.created_at) / 86400.0
    return (
        select(
            a.team.label("team"),
            INCIDENTS.c.severity.label("severity"),
            a.priority.label("priority"),
            a.type.label("type"),
            func.date_trunc(literal_column("'month'"), utc).label("month"),
            INCIDENTS.c.services.label("services"),
            case({s: i for i, s in enumerate(STATUSES)}, value=a.status).label("status"),
            (a.status.not_in(CLOSED) & (a.due_date < q.today)).label("overdue"),
            with_due.label("with_due"),
            (with_due & (finished_on <= a.due_date)).label("on_time"),
            case((done, func.float8send(span)), else_=None).label("days"),
        )
        .select_from(q.source(None)[0])
        .where(q.where())
        .offset(literal_column("0"))  # a fence: the projection is evaluated once a row
        .subquery("facts")
    )


def statement(q: _Query) -> Select[Any]:
    """Both groupings in one scan; `cell` is 1 on a cell's row (services summed over), else 0."""
    r = _rows(q).c
    cell = [r.team, r.severity, r.priority, r.type, r.month]
    flags = [r.overdue, r.with_due, r.on_time]
    return select(
        func.grouping(r.services).label("cell"),
        *cell,
        r.services,
        func.count().label("total"),
        *(func.count().filter(r.status == i).label(s) for i, s in enumerate(STATUSES)),
        *(func.count().filter(f).label(f.name) for f in flags),
        func.string_agg(r.days, literal_column("''::bytea"), type_=LargeBinary).label("days"),
    ).group_by(func.grouping_sets(tuple_(*cell), tuple_(r.services)))


def percentile(ordered: Any, fraction: float) -> float:
    """percentile_cont over sorted values: PostgreSQL's rows, proportion and lerp, in float8."""
    position = fraction * (len(ordered) - 1)
    first, second = math.floor(position), math.ceil(position)
    lo, hi = float(ordered[first]), float(ordered[second])
    return lo + (hi - lo) * (position - first)


class Cells:
    """The fetched rows of one grouping set: keys, a count matrix, and their days packed."""

    def __init__(self, rows: list[Any]) -> None:
        self.keys = [r[1:7] for r in rows]
        self.counts = np.array([r[7 : 7 + len(COUNTS)] for r in rows], dtype=np.int64)
        self.counts = self.counts.reshape(-1, len(COUNTS))
        packed = [r[-1] or b"" for r in rows]
        self.lengths = np.array([len(p) // 8 for p in packed], dtype=np.int64)
        self.offsets = np.cumsum(self.lengths) - self.lengths
        self.days = np.frombuffer(b"".join(packed), dtype=">f8").astype(np.float64)
        by_value = np.argsort(self.days, kind="stable")
        self.ordered = self.days[by_value]  # every day value, ascending
        self.rank = np.empty_like(by_value)
        self.rank[by_value] = np.arange(len(by_value))  # each value's place in `ordered`

    def rollup(self, members: list[tuple[int, Any]]) -> list[Figures]:
        """Figures of each group, given (row, key) memberships (a row may be in several)."""
        keys = list(dict.fromkeys(k for _, k in members))
        index = {k: g for g, k in enumerate(keys)}
        row = np.array([r for r, _ in members], dtype=np.int64)
        group = np.array([index[k] for _, k in members], dtype=np.int64)
        sums = np.zeros((len(keys), len(COUNTS)), dtype=np.int64)
        np.add.at(sums, group, self.counts[row])
        median, p90 = self._percentiles(row, group, len(keys))
        out = []
        for g, key in enumerate(keys):
            fig = Figures(key=key, **dict(zip(COUNTS, sums[g].tolist(), strict=True)))
            if fig.completed_with_due:
                fig.on_time_rate = round(fig.on_time / fig.completed_with_due, 4)
            if not math.isnan(median[g]):
                fig.median_days_to_complete = round(float(median[g]), 2)
                fig.p90_days_to_complete = round(float(p90[g]), 2)
            out.append(fig)
        return out

    def _percentiles(self, row: Any, group: Any, groups: int) -> tuple[Any, Any]:
        """Median and p90 of every group's days (NaN: none), one integer sort for all groups.

        Sorting (group, rank of the value among all the days) puts each group's days in
        order, next to each other: cheaper than a sort of floats per group.
        """
        size = self.lengths[row]
        # the position in `days` of each value of each membership, built in place
        where = np.arange(int(size.sum()), dtype=np.int64)
        where += np.repeat(self.offsets[row] - (np.cumsum(size) - size), size)
        total = len(self.days)
        key = np.repeat(group, size)
        n = np.bincount(key, minlength=groups)
        key *= total
        key += self.rank[where]
        del where
        key.sort()
        ordered = self.ordered[key % total]
        if not len(ordered):
            return np.full(groups, np.nan), np.full(groups, np.nan)
        start = np.cumsum(n) - n
        result = []
        for fraction in (0.5, 0.9):
            position = fraction * (n - 1)
            first, second = np.floor(position), np.ceil(position)
            lo = ordered[np.minimum(start + first.astype(np.int64), len(ordered) - 1)]
            hi = ordered[np.minimum(start + second.astype(np.int64), len(ordered) - 1)]
            value = lo + (hi - lo) * (position - first)  # as `percentile`, element-wise
            result.append(np.where(n > 0, value, np.nan))
        return result[0], result[1]


def _breakdowns(cells: Cells, sets: Cells) -> dict[str, list[Figures]]:
    by: dict[str, list[Figures]] = {}
    for d, name in enumerate(SINGLE):
        keyed = [(r, k[d]) for r, k in enumerate(cells.keys)]
        if name == "month":
            keyed = [(r, k.strftime("%Y-%m")) for r, k in keyed]
        by[name] = cells.rollup(keyed)
    # each element of the incident's list, as jsonb_array_elements_text counts it
    by["service"] = sets.rollup([(r, s) for r, k in enumerate(sets.keys) for s in k[5] or []])
    return {n: sorted(by[n], key=lambda f: (f.key is None, str(f.key))) for n in ORDER}


def figures(db: Executor, q: _Query) -> tuple[Figures, dict[str, list[Figures]]]:
    """The totals and every breakdown, as the portable path returns them."""
    for name, value in SETTINGS.items():
        db.execute(text(f"SET LOCAL {name} = '{value}'"))
    try:
        rows = db.execute(statement(q)).all()
    finally:
        for name in SETTINGS:
            db.execute(text(f"RESET {name}"))
    cells = Cells([r for r in rows if r.cell == 1])
    sets = Cells([r for r in rows if r.cell == 0])
    if not cells.keys:
        return Figures(key=None), _breakdowns(cells, sets)
    totals = cells.rollup([(r, None) for r in range(len(cells.keys))])[0]
    return totals, _breakdowns(cells, sets)
