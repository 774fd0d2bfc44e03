"""Reports as cached jobs: answer the last computed body at once, recompute on the `reports` queue.

A report reads every incident and action, so it is computed once per name and
parameters and kept in `report_cache` with the time it was computed:

- no cached body yet: computed in the request and stored (the first reader waits once);
- a cached body younger than `report_max_age_seconds`, and no write since (the audit
  chain's last seq is the one it read): answered as it is;
- older, written to since, or `refresh=True`: the cached body is answered and a recompute job is
  requested (job id `report-<name>-<hash>`, so a burst of refreshes queues one job)
  on the `reports` queue (RQ with Redis, the background thread without);
  `Cached.pending` says so, and the API answers 202 with a Location to poll.

A refresh asked for is a row (`refresh_requested_at`), not only a queue entry: the
sweep re-dispatches requests a lost job left behind, and the old body stays meanwhile.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import JobRequest
from app.models import AuditHead, ReportCache
from app.runtime import Runtime, current
from app.schemas.recurrence import RecurrenceReport
from app.schemas.reports import CompletionQuery, CompletionReport, LearningQuery, LearningReport

from . import recurrence as recurrence_service
from . import reports as report_service


def _completion(runtime: Runtime, params: dict[str, Any], now: datetime) -> BaseModel:
    return report_service.completion_report(runtime, CompletionQuery(**params), now=now)


def _learning(runtime: Runtime, params: dict[str, Any], now: datetime) -> BaseModel:
    return report_service.learning_report(runtime, LearningQuery(**params), now=now)


def _recurrence(runtime: Runtime, params: dict[str, Any], now: datetime) -> BaseModel:
    return recurrence_service.recurrence_report(runtime, now=now)


Compute = Callable[[Runtime, dict[str, Any], datetime], BaseModel]
REPORTS: dict[str, tuple[Compute, type[BaseModel]]] = {
    "completion": (_completion, CompletionReport),
    "learning": (_learning, LearningReport),
    "recurrence": (_recurrence, RecurrenceReport),
}


@dataclass(frozen=True)
class Cached:
    report: Any
    computed_at: datetime
    pending: bool  # a recompute has been asked for and not stored yet

    def age_seconds(self, now: datetime) -> int:
        return max(0, int((now - self.computed_at).total_seconds()))


def params_hash(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


def refresh_job(name: str, params: dict[str, Any]) -> JobRequest:
    return JobRequest(
        refresh_report_job, (name, params), f"report-{name}-{params_hash(params)}", "reports"
    )


def get_report(
    runtime: Runtime, name: str, params: dict[str, Any], *, now: datetime, refresh: bool = False
) -> Cached:
    """The cached report (computed now if there is none), and whether a recompute is on its way."""
    compute, model = REPORTS[name]
    with runtime.db.sessions() as session:
        version = _data_version(session)
        row = session.get(ReportCache, (name, params_hash(params)))
        cached = (
            (row.body, row.computed_at, row.refresh_requested_at, row.data_version) if row else None
        )
    if cached is None:
        report = compute(runtime, params, now)
        _store(runtime, name, params, report.model_dump_json(), now, version)
        return Cached(report, now, pending=False)
    body, computed_at, requested, read_version = cached
    too_old = (now - computed_at).total_seconds() > runtime.settings.report_max_age_seconds
    stale = too_old or read_version != version
    pending = requested is not None
    if refresh or stale:  # one job id per report: repeated asks queue one job
        _request_refresh(runtime, name, params, now)
        pending = True
    return Cached(model.model_validate_json(body), computed_at, pending)


def _request_refresh(runtime: Runtime, name: str, params: dict[str, Any], now: datetime) -> None:
    with runtime.uow() as uow:
        row = uow.session.get(ReportCache, (name, params_hash(params)))
        if row is not None:
            row.refresh_requested_at = now
        uow.after_commit(refresh_job(name, params))
        uow.commit()


def _data_version(session: Session) -> int:
    head = session.get(AuditHead, 1)
    return head.last_seq if head else 0


def _store(
    runtime: Runtime, name: str, params: dict[str, Any], body: str, now: datetime, version: int
) -> None:
    """Insert or replace; a concurrent first computation of the same report may win the insert."""
    key = (name, params_hash(params))
    for _ in range(2):
        with runtime.db.sessions() as session:
            row = session.get(ReportCache, key)
            if row is None:
                row = ReportCache(name=name, params_hash=key[1], params=params)
                session.add(row)
            elif row.computed_at > now:
                return  # a later computation already stored its body
            row.body, row.computed_at, row.refresh_requested_at = body, now, None
            row.data_version = version
            try:
                session.commit()
                return
            except IntegrityError:
                session.rollback()


def redispatch_refreshes(runtime: Runtime, *, older_than: datetime) -> int:
    """For the sweep: recomputes asked for before `older_than` whose job never stored a body."""
    with runtime.db.sessions() as session:
        rows = session.execute(
            select(ReportCache.name, ReportCache.params).where(
                ReportCache.refresh_requested_at <= older_than
            )
        ).all()
    if rows:
        runtime.queue.dispatch([refresh_job(name, params) for name, params in rows])
    return len(rows)


def refresh_report_job(name: str, params: dict[str, Any]) -> None:
    """The `reports` queue's job: recompute one report and store it with its time."""
    runtime = current()
    now = datetime.now(UTC)
    compute, _ = REPORTS[name]
    with runtime.db.sessions() as session:
        version = _data_version(session)  # read first: a write during the computation is seen
    _store(runtime, name, params, compute(runtime, params, now).model_dump_json(), now, version)
