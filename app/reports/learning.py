"""Learning metrics: how fast incidents are seen, handled and learned from (SQL-side).

Pure of Flask and of the services: a Session or Connection and the clock `now`
in, aggregates out. All durations are in minutes; an incident counts for a metric
only when it has both ends (and the end is not before the start).

- MTTD started -> detected; MTTA detected -> acknowledged; MTTM started ->
  mitigated; MTTR started -> resolved; `postmortem` resolved -> published;
- `action_completion_rate` = done + verified / actions that are not won't-do, over
  the incidents selected;
- an incident belongs to the UTC month it started in (its creation time when the
  start is unknown); `since` (inclusive) and `until` (exclusive) bound that time;
- `repeat_rate` is left None here: the service fills it from the repeat matcher
  (app/search/similarity.py), which this port may not import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, String, and_, func, literal, select, true

from app.domain.vocabulary import ActionStatus
from app.models import Action, Incident, Postmortem

from . import sql
from .sql import Executor

INCIDENTS, ACTIONS, POSTMORTEMS = Incident.__table__, Action.__table__, Postmortem.__table__
INC = INCIDENTS.c
METRICS: dict[str, tuple[Any, Any]] = {
    "mttd": (INC.started_at, INC.detected_at),
    "mtta": (INC.detected_at, INC.acknowledged_at),
    "mttm": (INC.started_at, INC.mitigated_at),
    "mttr": (INC.started_at, INC.resolved_at),
    "postmortem": (INC.resolved_at, POSTMORTEMS.c.published_at),
}


@dataclass(frozen=True)
class LearningFilter:
    service: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class Stat:
    count: int = 0
    mean_minutes: float | None = None
    median_minutes: float | None = None


@dataclass
class Period:
    month: str | None
    incidents: int = 0
    metrics: dict[str, Stat] = field(default_factory=dict)


@dataclass
class Learning:
    computed_at: datetime
    filters: LearningFilter
    incidents: int
    metrics: dict[str, Stat]
    actions_total: int
    actions_completed: int
    actions_wont_do: int
    action_completion_rate: float | None
    repeat_rate: float | None
    months: list[Period]


def learning(db: Executor, now: datetime, filters: LearningFilter) -> Learning:
    q = _Query(sql.dialect_of(db), filters)
    overall = q.periods(db, monthly=False)
    whole = overall[0] if overall else Period(month=None, metrics={m: Stat() for m in METRICS})
    total, completed, wont_do = q.actions(db)
    rate = round(completed / (total - wont_do), 4) if total - wont_do else None
    return Learning(
        computed_at=now,
        filters=filters,
        incidents=whole.incidents,
        metrics=whole.metrics,
        actions_total=total,
        actions_completed=completed,
        actions_wont_do=wont_do,
        action_completion_rate=rate,
        repeat_rate=None,
        months=q.periods(db, monthly=True),
    )


class _Query:
    def __init__(self, dialect: str, filters: LearningFilter) -> None:
        self.dialect, self.filters = dialect, filters
        self.started = func.coalesce(INC.started_at, INC.created_at)
        self.month = sql.utc_month(dialect, self.started)

    def key(self, monthly: bool) -> ColumnElement[Any]:
        return self.month if monthly else literal("all", String)

    def where(self) -> ColumnElement[bool]:
        f, conds = self.filters, []
        if f.service is not None:
            conds.append(sql.has_value(self.dialect, INC.services, f.service))
        if f.since is not None:
            conds.append(self.started >= f.since)
        if f.until is not None:
            conds.append(self.started < f.until)
        return and_(true(), *conds)

    def source(self) -> FromClause:
        return INCIDENTS.outerjoin(POSTMORTEMS, POSTMORTEMS.c.incident_id == INC.id)

    def stat(self, name: str, monthly: bool) -> Select[Any]:
        start, end = METRICS[name]
        minutes = sql.days_between(self.dialect, start, end) * 1440
        part = [self.month] if monthly else []
        ranked = (
            select(
                self.key(monthly).label("key"),
                minutes.label("days"),
                func.row_number().over(partition_by=part, order_by=minutes).label("rn"),
                func.count().over(partition_by=part).label("n"),
            )
            .select_from(self.source())
            .where(self.where() & start.is_not(None) & end.is_not(None) & (end >= start))
            .subquery()
        )
        c = ranked.c
        return select(
            func.max(c.key).label("key"),
            func.max(c.n).label("n"),
            func.avg(c.days).label("mean"),
            *sql.percentile_columns(c.days, c.rn, c.n),
        ).group_by(*([c.key] if monthly else []))

    def periods(self, db: Executor, monthly: bool) -> list[Period]:
        part = [self.month] if monthly else []
        counted = (
            select(func.max(self.key(monthly)).label("key"), func.count().label("n"))
            .select_from(INCIDENTS)
            .where(self.where())
            .group_by(*part)
        )
        out = {
            row.key: Period(month=row.key if monthly else None, incidents=int(row.n))
            for row in db.execute(counted)
            if row.n
        }
        for p in out.values():
            p.metrics = {m: Stat() for m in METRICS}
        for name in METRICS:
            for row in db.execute(self.stat(name, monthly)):
                if row.n is None or row.key not in out:
                    continue
                n = int(row.n)
                mean = round(float(row.mean), 2)
                median = sql.interpolate(row, "median", n)
                out[row.key].metrics[name] = Stat(n, mean, median)
        return sorted(out.values(), key=lambda p: str(p.month))

    def actions(self, db: Executor) -> tuple[int, int, int]:
        a = ACTIONS.c
        done = [ActionStatus.DONE.value, ActionStatus.VERIFIED.value]
        stmt = (
            select(
                sql.count_if(true()),
                sql.count_if(a.status.in_(done)),
                sql.count_if(a.status == ActionStatus.WONT_DO.value),
            )
            .select_from(ACTIONS.join(INCIDENTS, INC.id == a.incident_id))
            .where(self.where())
        )
        total, completed, wont_do = db.execute(stmt).one()
        return int(total), int(completed), int(wont_do)
