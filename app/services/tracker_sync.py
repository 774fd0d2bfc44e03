"""Outbound tracker sync as use cases: record a change, drain the outbox, `hindsight sync`.

`app.sync` supplies the parts (the tracker port and its adapters, outbox rows,
one push round, leases, the back-off policy); this module runs them with the
runtime's database, settings and parsed configuration.

One process at a time holds the push lease and drains every due row, so the
first mirror of a postmortem with many actions becomes a few bulk creates
instead of one create per action, and two workers never race to create the
same issue. Rows a failed round backed off for a short while (up to
HINDSIGHT_SYNC_INLINE_RETRY_SECONDS) are waited for here, with the lease
released meanwhile; longer back-offs are left to the sweep. That wait honours
the rows' own back-off: it is not a second retry layer.

Before each round the shared circuit breaker (`app.sync.breaker`) is asked:
while it is open no round calls Jira and the due rows wait for the probe
time; when the cool-down is over, one round of a single row is the probe.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from app.db import JobRequest, UnitOfWork
from app.domain.errors import Conflict, NotFound
from app.models import Action, Incident, OutboxItem, Postmortem, WebhookDelivery
from app.runtime import Runtime, current
from app.settings import Settings
from app.sync import breaker, connect, outbox
from app.sync.check import CheckReport, check_mapping
from app.sync.connect import SyncContext
from app.sync.items import RowRef
from app.sync.models import TrackerLink
from app.sync.push import DrainReport, LeaseLost, Pusher
from app.sync.retry import Backoff
from app.sync.state import PUSH_LEASE, Lease
from app.sync.tracker import TrackerError

log = logging.getLogger(__name__)

BATCH_ROWS = 2000  # outbox rows per round; entities are coalesced from them
# After a round the tracker cut short (429, 503, timeout), the next takes at most this many:
# a round builds an item for every row it took, and a storm ends most rounds after a few
# calls, so rebuilding 2,000 entities to make three calls was where a storm's time went.
# A clean round goes back to BATCH_ROWS, so the calls-per-action of a healthy mirror stay.
STORM_BATCH_ROWS = 100


def drain_job() -> None:
    """The job: push every due outbox row (queue `sync`)."""
    drain(current())


# One deterministic id for "push what is due": a transaction that touches an incident, its
# postmortem and 40 actions enqueues one job, not 42, and that job bulk-creates them all.
DRAIN_JOB = JobRequest(drain_job, (), "sync-drain", "sync")


def record_change(
    uow: UnitOfWork, settings: Settings, entity_type: str, entity_id: int, entity_key: str
) -> None:
    """An outbox row in the caller's transaction, and a drain after commit.

    With no tracker configured, actions live in Hindsight alone: nothing to send.
    """
    if not settings.jira_enabled:
        return
    outbox.add(uow.session, entity_type, entity_id, entity_key)
    uow.after_commit(DRAIN_JOB)


def record_tree(uow: UnitOfWork, runtime: Runtime, incident: Incident) -> None:
    """The incident's row, plus one for each of its entities not in the tracker and not on
    its way there: so an import, the demo, a webhook-opened postmortem, or any path still
    to be written mirrors everything, with no `sync push --backfill`."""
    settings = runtime.settings
    if not settings.jira_enabled:
        return
    record_change(uow, settings, "incident", incident.id, incident.key or "")
    uow.session.flush()
    closed = runtime.jira_mapping.mirror_closed_actions
    for entity_type, entity_id, key in outbox.unmirrored(
        uow.session, incident, closed_actions=closed
    ):
        outbox.add(uow.session, entity_type, entity_id, key)


def open_context(runtime: Runtime, *, refresh: bool = False) -> SyncContext:
    return connect.open_context(
        runtime.db, runtime.settings, runtime.jira_mapping, runtime.catalog, refresh=refresh
    )


# -- the drain ------------------------------------------------------------------------------


def drain(runtime: Runtime, *, wait: bool = False) -> DrainReport:
    """Push all due rows; returns at once (skipped) when another process holds the lease,
    or, with `wait`, waits for it."""
    report = DrainReport()
    lease = Lease(runtime.db, PUSH_LEASE, runtime.settings.sync_lease_seconds)
    ctx: SyncContext | None = None
    try:
        while True:
            if not lease.acquire():
                if not wait:
                    report.skipped = report.rounds == 0
                    return report
                time.sleep(0.5)
                continue
            try:
                ctx = _drain_held(runtime, lease, report, ctx)
            except LeaseLost:
                log.warning("push lease expired mid-drain; the next holder resumes the rows")
                return report
            finally:
                lease.release()
            # Look again after releasing: a row committed while we held the lease may have
            # had its job skip, and rows backed off briefly are due again soon.
            with runtime.db.sessions() as session:
                pause = outbox.seconds_to_next_due(session, runtime.clock())
            if pause is None or pause > runtime.settings.sync_inline_retry_seconds:
                return report
            time.sleep(pause)
    finally:
        if ctx is not None:
            ctx.close()


def _drain_held(
    runtime: Runtime, lease: Lease, report: DrainReport, ctx: SyncContext | None
) -> SyncContext | None:
    """Rounds until nothing is due; returns the context it opened, for the caller to close."""
    with runtime.db.sessions() as session, session.begin():
        outbox.release_stranded(session)
    gate = breaker.Breaker.from_settings(runtime.settings, runtime.clock)
    batch = BATCH_ROWS
    while True:
        now = runtime.clock()
        with runtime.db.sessions() as session, session.begin():
            decision, current = gate.admit(session)
            if decision == breaker.HOLD:
                _hold(runtime, session, current, report, now)
                return ctx
            limit = 1 if decision == breaker.PROBE else batch
            rows = [
                RowRef(r.entity_type, r.entity_id, r.id, r.attempts)
                for r in outbox.due_rows(session, limit, now)
            ]
            if not rows:
                if decision == breaker.PROBE:
                    gate.probe_unused(session)
                return ctx
            outbox.mark(session, [r.row_id for r in rows], outbox.PROCESSING)
        if ctx is None:
            try:
                ctx = open_context(runtime)
            except TrackerError as exc:
                _defer_all(runtime, rows, exc, report, gate)
                return None
        report.rounds += 1
        pusher = Pusher(ctx, lease, report, runtime.clock, probe=decision == breaker.PROBE)
        pusher.push(rows)
        batch = STORM_BATCH_ROWS if pusher.cut_short else BATCH_ROWS


def _hold(
    runtime: Runtime,
    session: Session,
    current: breaker.BreakerState,
    report: DrainReport,
    now: datetime,
) -> None:
    """The breaker is open: no call to Jira; due rows wait for the probe, uncounted."""
    until = current.retry_time() or now
    backoff = Backoff.from_settings(runtime.settings, runtime.clock)
    note = f"tracker unreachable, breaker open: {current.last_error or 'no answer'}"
    held, dead = outbox.hold_until(session, until, note, backoff, now)
    report.held += held
    report.dead += dead


def _defer_all(
    runtime: Runtime,
    rows: list[RowRef],
    exc: TrackerError,
    report: DrainReport,
    gate: breaker.Breaker,
) -> None:
    """Jira could not even be asked who it is: every row of the round failed alike."""
    ids = [r.row_id for r in rows]
    backoff = Backoff.from_settings(runtime.settings, runtime.clock)
    delay = max(1.0, backoff.delay(max(r.attempts for r in rows) + 1, exc))
    now = runtime.clock()
    with runtime.db.sessions() as session, session.begin():
        if exc.refuses_credentials:  # a revoked token: the connection's fault, no row's
            outbox.postpone(session, ids, backoff.delay(1, exc), str(exc), now)
            report.deferred += len(ids)
        elif exc.transient:
            report.dead += outbox.defer(session, ids, delay, str(exc), backoff, now)
            report.deferred += len(ids)
        else:
            outbox.mark(session, ids, outbox.DEAD, str(exc))
            report.dead += len(ids)
        if exc.tracker_down or exc.refuses_credentials:
            gate.failed(session, exc)
        else:
            gate.succeeded(session)
    report.errors.append(str(exc))


def backfill(runtime: Runtime) -> int:
    """Outbox rows for every entity with no tracker issue yet.

    For the first mirror of a database that existed before Jira was connected:
    there were no outbox rows then, and one drain of these rows creates the
    issues in bulk. Returns the number of rows written.
    """
    with runtime.db.sessions() as session, session.begin():
        mirrored = {
            (t, i)
            for t, i in session.execute(
                select(TrackerLink.entity_type, TrackerLink.entity_id).where(
                    TrackerLink.issue_key.is_not(None)
                )
            )
        }
        rows: list[tuple[str, int, str | None]] = []
        rows += [("incident", i, k) for i, k in session.execute(select(Incident.id, Incident.key))]
        rows += [
            ("postmortem", i, k)
            for i, k in session.execute(select(Postmortem.id, Incident.key).join(Incident))
        ]
        rows += [
            ("action", i, k)
            for i, k in session.execute(
                select(Action.id, Action.key).where(
                    Action.tracker_deleted.is_(False),
                    true()
                    if runtime.jira_mapping.mirror_closed_actions
                    else Action.status.not_in(outbox.CLOSED_ACTIONS),
                )
            )
        ]
        todo = [(t, i, k) for t, i, k in rows if (t, i) not in mirrored]
        session.add_all(
            OutboxItem(entity_type=t, entity_id=i, entity_key=k or "", op="backfill")
            for t, i, k in todo
        )
    return len(todo)


# -- `hindsight sync ...` and the dead-letter API ---------------------------------------------


@dataclass
class PushResult:
    backfilled: int | None  # rows written by --backfill (None: not asked)
    report: DrainReport


def push_now(runtime: Runtime, *, backfill_first: bool = False) -> PushResult:
    """`hindsight sync push [--backfill]`: waits for the lease rather than skipping.

    Asks Jira who Hindsight is first, so a wrong token or an unreachable site is one
    `TrackerError` for the command to report, not every due row failing alike."""
    open_context(runtime, refresh=True).close()
    queued = backfill(runtime) if backfill_first else None
    return PushResult(queued, drain(runtime, wait=True))


def check(runtime: Runtime) -> CheckReport:
    """`hindsight sync check`: asks Jira afresh who and what it is, then checks the mapping."""
    ctx = open_context(runtime, refresh=True)
    try:
        return check_mapping(ctx)
    finally:
        ctx.close()


@dataclass
class SyncStatus:
    outbox: dict[str, int]
    deliveries: dict[str, int]
    not_mirrored: dict[str, int] = field(default_factory=dict)
    tracker: TrackerHealth | None = None  # None: no Jira configured


def status(runtime: Runtime) -> SyncStatus:
    """`hindsight sync status`: outbox rows and webhook deliveries, counted by status, and
    the tracker's health as `/healthz` reports it (the breaker, read from the database)."""
    with runtime.db.sessions() as session:
        rows = session.execute(
            select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
        ).all()
        hooks = session.execute(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        ).all()
        missing = outbox.not_mirrored(
            session, closed_actions=runtime.jira_mapping.mirror_closed_actions
        )
    health = tracker_health(runtime)
    return SyncStatus(
        {s: n for s, n in rows},
        {s: n for s, n in hooks},
        missing,
        health if health.enabled else None,
    )


def retry_failure(runtime: Runtime, failure_id: int) -> OutboxItem:
    """Send a dead-lettered change again (after the mapping or the data was fixed)."""
    with runtime.uow() as uow:
        row = uow.session.get(OutboxItem, failure_id)
        if row is None:
            raise NotFound(f"no sync failure {failure_id}")
        if row.status != outbox.DEAD:
            raise Conflict(f"sync item {failure_id} is {row.status}, not in the dead letter")
        outbox.retry_dead(uow.session, failure_id)
        uow.after_commit(DRAIN_JOB)
        uow.commit()
        return row


@dataclass
class TrackerHealth:
    """For `/healthz` and `/metrics`: can pushes reach the tracker, and what is waiting."""

    enabled: bool
    breaker: str = breaker.CLOSED
    reachable: bool = True
    since: str | None = None
    retry_at: str | None = None
    last_error: str | None = None
    waiting: int = 0
    dead: int = 0


def tracker_health(runtime: Runtime) -> TrackerHealth:
    if not runtime.settings.jira_enabled:
        return TrackerHealth(enabled=False)
    with runtime.db.sessions() as session:
        current = breaker.read(session)
        counts = outbox.count_waiting(session)
    return TrackerHealth(
        enabled=True,
        breaker=current.state,
        reachable=current.reachable,
        since=current.opened_at,
        retry_at=current.retry_at,
        last_error=current.last_error,
        waiting=counts["waiting"],
        dead=counts["dead"],
    )
