"""Outbound sync entry points: drain the outbox under the push lease.

One process at a time holds the lease and drains every due row, so the first
mirror of a postmortem with many actions becomes a few bulk creates instead
of one create per action, and two workers never race to create the same
issue. `push.Pusher` does one round; this module loops, releases and
re-checks, and writes back-off on the rows when Jira cannot be reached.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select

from app.models import Action, Incident, OutboxItem, Postmortem
from app.runtime import Runtime

from . import outbox
from .connect import SyncContext, open_context
from .models import TrackerLink
from .push import DrainReport, LeaseLost, Pusher
from .retry import Backoff
from .state import PUSH_LEASE, Lease
from .tracker import TrackerError

log = logging.getLogger(__name__)

BATCH_ROWS = 2000  # outbox rows per round; entities are coalesced from them


def push_entity(runtime: Runtime, entity_type: str, entity_id: int) -> DrainReport:
    """Per-entity job id kept for jobs queued before `sync-drain`; drains everything due."""
    return drain(runtime)


def drain(runtime: Runtime, *, wait: bool = False) -> DrainReport:
    """Push all due rows; returns at once (skipped) when another process holds the lease."""
    report = DrainReport()
    lease = Lease(runtime.db, PUSH_LEASE, runtime.settings.sync_lease_seconds)
    while True:
        if not lease.acquire():
            if not wait:
                report.skipped = report.rounds == 0
                return report
            time.sleep(0.5)
            continue
        try:
            _drain_held(runtime, lease, report)
        except LeaseLost:
            log.warning("push lease expired mid-drain; the next holder resumes the rows")
            return report
        finally:
            lease.release()
        # A row committed while we held the lease may have had its job skip: look again
        # after releasing, so it is either ours now or its own job will find the lease free.
        with runtime.db.sessions() as session:
            if not outbox.count_due(session):
                return report


def _drain_held(runtime: Runtime, lease: Lease, report: DrainReport) -> None:
    with runtime.db.sessions() as session, session.begin():
        outbox.release_stranded(session)
    ctx: SyncContext | None = None
    try:
        while True:
            with runtime.db.sessions() as session, session.begin():
                rows = outbox.due_rows(session, BATCH_ROWS)
                if not rows:
                    return
                ids = [r.id for r in rows]
                outbox.mark(session, ids, outbox.PROCESSING)
                refs = [(r.entity_type, r.entity_id, r.id) for r in rows]
            if ctx is None:
                try:
                    ctx = open_context(runtime)
                except TrackerError as exc:
                    _defer_all(runtime, ids, exc, report)
                    return
            report.rounds += 1
            Pusher(ctx, lease, report).push(refs)
    finally:
        if ctx is not None:
            ctx.close()


def _defer_all(runtime: Runtime, ids: list[int], exc: TrackerError, report: DrainReport) -> None:
    s = runtime.settings
    backoff = Backoff(s.sync_backoff_base_seconds, s.sync_backoff_cap_seconds, s.sync_max_attempts)
    with runtime.db.sessions() as session, session.begin():
        if exc.transient:
            report.dead += outbox.defer(session, ids, backoff.delay(1, exc), str(exc),
                                        s.sync_max_attempts)
            report.deferred += len(ids)
        else:
            outbox.mark(session, ids, outbox.DEAD, str(exc))
            report.dead += len(ids)
    report.errors.append(str(exc))


def backfill(runtime: Runtime) -> int:
    """Outbox rows for every entity with no tracker issue yet.

    For the first mirror of a database that existed before Jira was connected:
    there were no outbox rows then, and one drain of these rows creates the
    issues in bulk. Returns the number of rows written.
    """
    with runtime.db.sessions() as session, session.begin():
        mirrored = {(t, i) for t, i in session.execute(
            select(TrackerLink.entity_type, TrackerLink.entity_id)
            .where(TrackerLink.issue_key.is_not(None)))}
        rows: list[tuple[str, int, str | None]] = []
        rows += [("incident", i, k) for i, k in session.execute(
            select(Incident.id, Incident.key))]
        rows += [("postmortem", i, k) for i, k in session.execute(
            select(Postmortem.id, Incident.key).join(Incident))]
        rows += [("action", i, k) for i, k in session.execute(
            select(Action.id, Action.key).where(Action.tracker_deleted.is_(False)))]
        todo = [(t, i, k) for t, i, k in rows if (t, i) not in mirrored]
        session.add_all(OutboxItem(entity_type=t, entity_id=i, entity_key=k or "", op="backfill")
                        for t, i, k in todo)
    return len(todo)
