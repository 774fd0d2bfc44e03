"""Reconcile: catch the tracker changes webhooks missed, at a cost that grows with changes.

One search, `labels = hindsight AND updated >= "-Nm"`, pages through only the
issues updated since the last successful run (minus a safety margin), and
feeds each one to the same field-by-field `tracker_apply.apply_changes` as
webhooks use (action, postmortem and incident issues alike). The window is
relative ("-Nm") so it is measured on Jira's clock and does not depend on the
search user's time zone; the watermark only moves forward after a complete
pass, so a run that fails half-way is simply repeated.

The same search hits show duplicates by their `hs-<key>` label
(`app.sync.duplicates`): the oldest issue is kept, the entity repointed to
it, the others linked and closed as Duplicate; one more search, only when a
duplicate is suspected.
Time is the runtime's clock, so tests can walk it with the Jira test server's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from app.db import JobRequest
from app.runtime import Runtime, current
from app.sync import duplicates, state
from app.sync.models import TrackerLink

from . import tracker_apply
from .tracker_sync import open_context

WATERMARK = "reconcile.watermark"
LAST_RUN = "reconcile.last_run"
LEASE = "reconcile"
PAGE_SIZE = 100


@dataclass
class ReconcileReport:
    since_minutes: int | None = None
    pages: int = 0
    seen: int = 0
    applied: int = 0  # entities changed (actions, postmortems, incidents)
    applied_by_type: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0  # issues closed as duplicates of an older one
    skipped: bool = False

    def summary(self) -> str:
        if self.skipped:
            return "another reconcile is running"
        window = (
            "all mirrored issues"
            if self.since_minutes is None
            else f"issues updated in the last {self.since_minutes} min"
        )
        return (
            f"checked {self.seen} {window} in {self.pages} page(s); "
            f"applied changes to {self._applied()}"
            + (f"; closed {self.duplicates} duplicate issue(s)" if self.duplicates else "")
        )

    def _applied(self) -> str:
        parts = [f"{n} {t}(s)" for t, n in sorted(self.applied_by_type.items()) if n]
        return ", ".join(parts) or "0 action(s)"


def reconcile_job() -> None:
    """The job: fetch issues changed since the last run and apply what webhooks missed."""
    reconcile(current())


RECONCILE_JOB = JobRequest(reconcile_job, (), "sync-reconcile", "sync")


def window_minutes(runtime: Runtime, started: datetime, full: bool) -> int | None:
    """Minutes to look back: since the watermark (or the first mirror) plus the margin."""
    if full:
        return None
    with runtime.db.sessions() as session:
        mark = state.get_value(session, WATERMARK)
        since = (
            datetime.fromisoformat(mark)
            if mark
            else session.scalar(select(func.min(TrackerLink.created_at)))
        )
    if since is None:
        since = started
    seconds = (started - since).total_seconds() + runtime.settings.sync_reconcile_margin_seconds
    return max(1, math.ceil(seconds / 60))


def reconcile(runtime: Runtime, *, full: bool = False) -> ReconcileReport:
    report = ReconcileReport()
    lease = state.Lease(runtime.db, LEASE, max(runtime.settings.sync_lease_seconds, 300))
    if not lease.acquire():
        report.skipped = True
        return report
    try:
        started = runtime.clock()
        report.since_minutes = window_minutes(runtime, started, full)
        ctx = open_context(runtime)
        try:
            inbound = tracker_apply.InboundContext(
                ctx.mapping, ctx.catalog, ctx.flavour, ctx.me, runtime.settings.jira_user
            )
            suspects: set[str] = set()
            for page in ctx.tracker.changed_since(
                ctx.mapping.sync_label, report.since_minutes, PAGE_SIZE
            ):
                lease.renew()
                report.pages += 1
                report.seen += len(page)
                suspects |= duplicates.suspects(ctx, page)
                for entity_type, n in tracker_apply.apply_changes(
                    runtime, inbound, page, "jira:reconcile"
                ).items():
                    report.applied += n
                    report.applied_by_type[entity_type] = (
                        report.applied_by_type.get(entity_type, 0) + n
                    )
            report.duplicates = duplicates.close_duplicates(ctx, suspects).closed
        finally:
            ctx.close()
        with runtime.db.sessions() as session, session.begin():
            state.set_value(session, WATERMARK, started.isoformat())
            state.set_value(session, LAST_RUN, runtime.clock().isoformat())
        return report
    finally:
        lease.release()


def due(runtime: Runtime) -> bool:
    """For the sweep: has the reconcile interval passed since the last run?"""
    with runtime.db.sessions() as session, session.begin():
        last = state.get_value(session, LAST_RUN)
        if not last:  # start the clock: the first run comes one interval after start-up
            state.set_value(session, LAST_RUN, runtime.clock().isoformat())
            return False
    age = (runtime.clock() - datetime.fromisoformat(last)).total_seconds()
    return age >= runtime.settings.sync_reconcile_seconds
