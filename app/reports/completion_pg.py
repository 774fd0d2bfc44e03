"""The completion report on PostgreSQL: two hashed scans, rolled up in Python.

Measured at a million actions (bench/reports.py), the single GROUPING SETS statement
with `percentile_cont` took 8-11 s of a 12 s report: an ordered-set aggregate makes
PostgreSQL sort the joined rows once per grouping set (five sorts of a million wide
rows, spilling to disk), and the planner, which overestimates the groups of several
columns by their product, never hashes grouping sets it thinks will not fit in memory.

Here the database groups the actions by *cell* (team, severity, priority, type and
month together: some 22,000 cells at a million actions) and, in a second statement,
by the incident's list of services (some 1,600), each with plain hash aggregation
(`enable_sort` is off for the two statements: the estimate would otherwise pick a
sort). Every count is additive, so each breakdown's figures are the sums of its cells'.
Percentiles are not: each cell also returns the days to complete of its completed
actions (`array_agg`, one float per completed action), and the median and p90 of a
group are taken from its cells' values with the interpolation `percentile_cont` uses
(`percentile`: the same float arithmetic, so the same figures). No action row reaches
Python, only the cells; the values arrays are numpy (8 bytes a completed action).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Select, func, literal_column, select, text

from .completion import CLOSED, INCIDENTS, STATUSES, Figures, _Query
from .sql import Executor

SINGLE = ("team", "severity", "priority", "type", "month")
COUNTS = ("total", *STATUSES, "overdue", "completed_with_due", "on_time")
WORK_MEM = "256MB"  # the planner sizes the hash for a million cells: no spill planned


def _days(q: _Query) -> ColumnElement[Any]:
    """Days to complete as double precision (as percentile_cont was given them)."""
    span = q.a.completed_at - q.a.created_at
    return func.date_part(literal_column("'epoch'"), span) / 86400.0


def _month(q: _Query) -> ColumnElement[Any]:
    """The UTC month as a timestamp: date_trunc, not to_char (a string per row costs 1 s)."""
    # literals, not bound parameters: GROUP BY and the select list must be one expression
    utc = func.timezone(literal_column("'UTC'"), q.a.created_at)
    return func.date_trunc(literal_column("'month'"), utc)


def _aggregates(q: _Query) -> list[ColumnElement[Any]]:
    a, done = q.a, q.completed()
    with_due = done & a.due_date.is_not(None)
    finished_on = func.timezone(literal_column("'UTC'"), a.completed_at).cast(a.due_date.type)
    overdue = a.status.not_in(CLOSED) & (a.due_date < q.today)
    return [
        func.count().label("total"),
        *(func.count().filter(a.status == s).label(s) for s in STATUSES),
        func.count().filter(overdue).label("overdue"),
        func.count().filter(with_due).label("completed_with_due"),
        func.count().filter(with_due & (finished_on <= a.due_date)).label("on_time"),
        func.array_agg(_days(q)).filter(done).label("days"),
    ]


def _cells(q: _Query) -> Select[Any]:
    keys = [q.a.team, INCIDENTS.c.severity, q.a.priority, q.a.type, _month(q)]
    return (
        select(*(k.label(f"k_{n}") for n, k in zip(SINGLE, keys, strict=True)), *_aggregates(q))
        .select_from(q.source(None)[0])
        .where(q.where())
        .group_by(*keys)
    )


def _service_sets(q: _Query) -> Select[Any]:
    services = INCIDENTS.c.services
    return (
        select(services.label("services"), *_aggregates(q))
        .select_from(q.source(None)[0])
        .where(q.where())
        .group_by(services)
    )


class _Group:
    """One row of the report being summed: the positions of its cells in the fetched rows."""

    def __init__(self) -> None:
        self.rows: list[int] = []

    def figures(self, key: Any, counts: Any, days: list[Any]) -> Figures:
        fig = Figures(
            key=key, **dict(zip(COUNTS, counts[self.rows].sum(axis=0).tolist(), strict=True))
        )
        if fig.completed_with_due:
            fig.on_time_rate = round(fig.on_time / fig.completed_with_due, 4)
        values = [days[r] for r in self.rows if days[r] is not None]
        if values:
            ordered = np.sort(np.concatenate(values))
            fig.median_days_to_complete = round(percentile(ordered, 0.5), 2)
            fig.p90_days_to_complete = round(percentile(ordered, 0.9), 2)
        return fig


def percentile(ordered: Any, fraction: float) -> float:
    """percentile_cont over sorted values: PostgreSQL's rows, proportion and lerp, in float8."""
    position = fraction * (len(ordered) - 1)
    first, second = math.floor(position), math.ceil(position)
    lo, hi = float(ordered[first]), float(ordered[second])
    return lo + (hi - lo) * (position - first)


def _fetch(db: Executor, stmt: Select[Any], keys: int) -> tuple[list[Any], Any, list[Any]]:
    """The rows' keys, their counts as one integer matrix, and each row's days array (or None)."""
    keyed, counts, days = [], [], []
    for row in db.execute(stmt):
        keyed.append(row[:keys])
        counts.append(row[keys : keys + len(COUNTS)])
        last = row[-1]
        days.append(None if last is None else np.asarray(last, dtype=np.float64))
    return keyed, np.array(counts, dtype=np.int64).reshape(-1, len(COUNTS)), days


def _grouped(keyed: list[Any]) -> dict[str, dict[Any, _Group]]:
    """Each single-valued breakdown's groups, each with the positions of its cells."""
    groups: dict[str, dict[Any, _Group]] = {n: defaultdict(_Group) for n in SINGLE}
    for r, keys in enumerate(keyed):
        for n, key in zip(SINGLE, keys, strict=True):
            groups[n][key.strftime("%Y-%m") if n == "month" else key].rows.append(r)
    return groups


def figures(db: Executor, q: _Query) -> tuple[Figures, dict[str, list[Figures]]]:
    """The totals and every breakdown, as the portable path returns them."""
    db.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    db.execute(text("SET LOCAL jit = off"))  # compiling these aggregates cost 6 s of 27
    db.execute(text("SET LOCAL enable_sort = off"))  # hash the cells (see the docstring)
    try:
        cells = _fetch(db, _cells(q), len(SINGLE))
        sets = _fetch(db, _service_sets(q), 1)
    finally:
        db.execute(text("SET LOCAL enable_sort = on"))
    whole = _Group()
    whole.rows = list(range(len(cells[0])))
    totals = whole.figures(None, *cells[1:]) if cells[0] else Figures(key=None)
    groups = _grouped(cells[0])
    by_service: dict[Any, _Group] = defaultdict(_Group)
    for r, (services,) in enumerate(sets[0]):
        for service in services or []:  # each element, as jsonb_array_elements_text
            by_service[service].rows.append(r)
    by = {n: [g.figures(k, *cells[1:]) for k, g in groups[n].items()] for n in SINGLE}
    by["service"] = [g.figures(k, *sets[1:]) for k, g in by_service.items()]
    ordered = {
        n: sorted(by[n], key=lambda f: (f.key is None, str(f.key)))
        for n in ("team", "service", "severity", "priority", "type", "month")
    }
    return totals, ordered
