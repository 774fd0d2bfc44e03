"""The completion report: are improvement actions getting done, on time, and how fast?

Pure of Flask and of the services: it takes a Session or Connection and the
clock `now`, and runs a handful of aggregate queries (SQLAlchemy Core), one pair
per breakdown; no action row is loaded into Python.

Definitions (the README repeats them):

- each status counts the actions in it now; `overdue` counts actions not closed
  (open, in progress, blocked) whose due date is before today (`now`, UTC);
- `on_time_rate` = completed actions (done or verified) with a due date that were
  completed on or before it / completed actions with a due date (None if none);
- days to complete = completed_at - created_at of done and verified actions;
  median and p90 interpolate as PostgreSQL's percentile_cont does;
- `month` is the UTC month the action was created; `service` counts an action
  under every service of its incident; filters `since` (inclusive) and `until`
  (exclusive) bound the action's creation time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, String, and_, func, literal, select, true

from app.domain.vocabulary import ActionStatus
from app.models import Action, Incident

from . import sql
from .sql import Executor

ACTIONS = Action.__table__
INCIDENTS = Incident.__table__
STATUSES = [s.value for s in ActionStatus]
CLOSED = [s.value for s in ActionStatus if s.is_closed]
COMPLETED = [ActionStatus.DONE.value, ActionStatus.VERIFIED.value]
DIMENSIONS = ("team", "service", "severity", "priority", "type", "month")


@dataclass(frozen=True)
class CompletionFilter:
    team: str | None = None
    service: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class Figures:
    key: str | None
    total: int = 0
    open: int = 0
    in_progress: int = 0
    blocked: int = 0
    done: int = 0
    verified: int = 0
    wont_do: int = 0
    overdue: int = 0
    on_time: int = 0
    completed_with_due: int = 0
    on_time_rate: float | None = None
    median_days_to_complete: float | None = None
    p90_days_to_complete: float | None = None


@dataclass
class Completion:
    computed_at: datetime
    filters: CompletionFilter
    totals: Figures
    by: dict[str, list[Figures]] = field(default_factory=dict)


def completion(db: Executor, now: datetime, filters: CompletionFilter) -> Completion:
    """Every figure of the report, for the actions the filters select."""
    q = _Query(sql.dialect_of(db), now, filters)
    if q.dialect == "postgresql":
        from . import completion_pg  # it builds on this module's _Query

        whole, by = completion_pg.figures(db, q)
        return Completion(computed_at=now, filters=filters, totals=whole, by=by)
    totals = q.figures(db, None)
    return Completion(
        computed_at=now,
        filters=filters,
        totals=totals[0] if totals else Figures(key=None),
        by={name: q.figures(db, name) for name in DIMENSIONS},
    )


class _Query:
    def __init__(self, dialect: str, now: datetime, filters: CompletionFilter) -> None:
        self.dialect, self.today, self.filters = dialect, now.date(), filters
        self.a = ACTIONS.c
        self.services = sql.json_values(dialect, INCIDENTS.c.services)

    def source(self, dimension: str | None) -> tuple[FromClause, ColumnElement[Any]]:
        """The FROM clause and the group key of one breakdown (None: the whole set)."""
        joined = ACTIONS.join(INCIDENTS, INCIDENTS.c.id == self.a.incident_id)
        keys: dict[str, ColumnElement[Any]] = {
            "team": self.a.team,
            "severity": INCIDENTS.c.severity,
            "priority": self.a.priority,
            "type": self.a.type,
            "month": sql.utc_month(self.dialect, self.a.created_at),
        }
        if dimension is None:
            return joined, literal("all", String)
        if dimension == "service":
            return joined.join(self.services, true()), self.services.c.value
        return joined, keys[dimension]

    def where(self) -> ColumnElement[bool]:
        f, conds = self.filters, []
        if f.team is not None:
            conds.append(self.a.team == f.team)
        if f.service is not None:
            conds.append(sql.has_value(self.dialect, INCIDENTS.c.services, f.service))
        if f.since is not None:
            conds.append(self.a.created_at >= f.since)
        if f.until is not None:
            conds.append(self.a.created_at < f.until)
        return and_(true(), *conds)

    def completed(self) -> ColumnElement[bool]:
        return self.a.status.in_(COMPLETED) & self.a.completed_at.is_not(None)

    def counts(self, dimension: str | None) -> Select[Any]:
        frm, key = self.source(dimension)
        a, done = self.a, self.completed()
        with_due = done & a.due_date.is_not(None)
        finished_on = sql.utc_date(self.dialect, a.completed_at)
        cols = [sql.count_if(a.status == s).label(s) for s in STATUSES]
        return (
            select(key.label("key"), sql.count_if(true()).label("total"), *cols)
            .add_columns(
                sql.count_if(a.status.not_in(CLOSED) & (a.due_date < self.today)).label("overdue"),
                sql.count_if(with_due).label("completed_with_due"),
                sql.count_if(with_due & (finished_on <= a.due_date)).label("on_time"),
            )
            .select_from(frm)
            .where(self.where())
            .group_by(*self.group(dimension, key))
        )

    def durations(self, dimension: str | None) -> Select[Any]:
        frm, key = self.source(dimension)
        days = sql.days_between(self.dialect, self.a.created_at, self.a.completed_at)
        ranked = (
            select(
                key.label("key"),
                days.label("days"),
                func.row_number()
                .over(partition_by=self.group(dimension, key), order_by=days)
                .label("rn"),
                func.count().over(partition_by=self.group(dimension, key)).label("n"),
            )
            .select_from(frm)
            .where(self.where() & self.completed())
            .subquery()
        )
        c = ranked.c
        return select(
            func.max(c.key).label("key"),
            func.max(c.n).label("n"),
            *sql.percentile_columns(c.days, c.rn, c.n),
        ).group_by(*self.group(dimension, c.key))

    @staticmethod
    def group(dimension: str | None, key: Any) -> list[Any]:
        """GROUP BY / PARTITION BY the key; the whole set is one group without one."""
        return [] if dimension is None else [key]

    def figures(self, db: Executor, dimension: str | None) -> list[Figures]:
        out: dict[Any, Figures] = {}
        for row in db.execute(self.counts(dimension)):
            values = {k: int(v) for k, v in row._mapping.items() if k != "key"}
            fig = Figures(key=None if dimension is None else row.key, **values)
            if fig.completed_with_due:
                fig.on_time_rate = round(fig.on_time / fig.completed_with_due, 4)
            out[row.key] = fig
        for row in db.execute(self.durations(dimension)):
            if row.n is None:  # nothing completed in the whole set
                continue
            fig = out[row.key]
            fig.median_days_to_complete = sql.interpolate(row, "median", int(row.n))
            fig.p90_days_to_complete = sql.interpolate(row, "p90", int(row.n))
        return sorted(out.values(), key=lambda f: (f.key is None, str(f.key)))
