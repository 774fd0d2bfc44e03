"""The periodic sweep: re-dispatch work whose job was lost, for every source.

Enqueueing happens after commit and may fail (Redis down, worker killed);
the database rows are the truth. The worker calls `sweep` on start and then
every HINDSIGHT_SYNC_SWEEP_SECONDS (`hindsight serve` does the same on a
thread when there is no worker), so stored incident-source and Jira
deliveries, requested evaluations, due outbox rows, due notifications and
asked-for report recomputes all resume on their own. It also ticks the schedule
(app/services/schedule.py), which runs the Jira reconcile, the re-evaluation, the
follow-through sweep and the audit checkpoint.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.db import JobRequest
from app.runtime import Runtime
from app.sync import outbox

from . import (
    deliveries,
    evaluation,
    intake,
    notifications,
    report_cache,
    schedule,
    tracker_inbound,
)
from .tracker_sync import DRAIN_JOB

log = logging.getLogger(__name__)
DELIVERY_GRACE = timedelta(seconds=5)  # let the request's own enqueue go first
EVALUATION_GRACE = timedelta(seconds=30)  # the background queue may defer one up to 2 s
REPORT_GRACE = timedelta(minutes=10)  # a recompute of a large report takes a while


@dataclass
class SweepReport:
    outbox_due: int = 0
    deliveries: int = 0
    intake: int = 0
    evaluations: int = 0
    notifications_due: int = 0
    scheduled: list[str] = field(default_factory=list)
    reports: int = 0


def sweep(runtime: Runtime) -> SweepReport:
    report = SweepReport()
    now = datetime.now(UTC)
    with runtime.db.sessions() as session:
        stranded = deliveries.pending_deliveries(
            session, intake.PARSERS.keys(), now - DELIVERY_GRACE
        )
    report.intake = len(stranded)
    if stranded:  # incident sources work without Jira too
        runtime.queue.dispatch([intake.intake_job(i) for i in stranded])
    report.evaluations = evaluation.redispatch_pending(
        runtime, grace_seconds=EVALUATION_GRACE.total_seconds()
    )
    with runtime.db.sessions() as session:
        report.notifications_due = notifications.count_due(session, now)
    if report.notifications_due:
        runtime.queue.dispatch([notifications.NOTIFY_JOB])
    if runtime.settings.schedule_enabled:
        report.scheduled = schedule.tick(runtime)
    report.reports = report_cache.redispatch_refreshes(runtime, older_than=now - REPORT_GRACE)
    if not runtime.settings.jira_enabled:
        return report
    with runtime.db.sessions() as session, session.begin():
        # Rows left `processing` by a killed pusher count too: the drain that takes the
        # (expired) lease puts them back to pending.
        report.outbox_due = outbox.count_due(session, now) + outbox.count_processing(session)
        ids = tracker_inbound.pending_deliveries(session, now - DELIVERY_GRACE)
        report.deliveries = len(ids)
        outbox.purge_done(session)
    jobs: list[JobRequest] = [tracker_inbound.delivery_job(i) for i in ids]
    if report.outbox_due:
        jobs.append(DRAIN_JOB)
    if jobs:
        runtime.queue.dispatch(jobs)
        log.info("sync sweep: %s", report)
    return report
