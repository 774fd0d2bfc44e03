"""The periodic sweep: re-enqueue sync work whose job was lost.

Enqueueing happens after commit and may fail (Redis down, worker killed);
the database rows are the truth. The worker calls `sweep` on start and then
every HINDSIGHT_SYNC_SWEEP_SECONDS, so pending outbox rows, unprocessed
webhook deliveries (Jira's and the incident sources') and the scheduled
reconcile all resume on their own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.db import JobRequest
from app.runtime import Runtime
from app.services.deliveries import pending_deliveries as pending_intake
from app.services.intake import PARSERS, intake_job

from . import outbox, reconcile
from .inbound import delivery_job, pending_deliveries

log = logging.getLogger(__name__)
RECONCILE_JOB = JobRequest("app.jobs.sync_reconcile", (), "sync-reconcile", "sync")
DELIVERY_GRACE = timedelta(seconds=5)  # let the request's own enqueue go first


@dataclass
class SweepReport:
    outbox_due: int = 0
    deliveries: int = 0
    intake: int = 0
    reconcile: bool = False


def sweep(runtime: Runtime) -> SweepReport:
    report = SweepReport()
    now = datetime.now(UTC)
    with runtime.db.sessions() as session:
        stranded = pending_intake(session, PARSERS.keys(), now - DELIVERY_GRACE)
    report.intake = len(stranded)
    if stranded:  # incident sources work without Jira too
        runtime.queue.dispatch([intake_job(i) for i in stranded])
    if not runtime.settings.jira_enabled:
        return report
    with runtime.db.sessions() as session, session.begin():
        # Rows left `processing` by a killed pusher count too: the drain that takes the
        # (expired) lease puts them back to pending.
        report.outbox_due = outbox.count_due(session, now) + outbox.count_processing(session)
        report.deliveries = len(ids := pending_deliveries(session, now - DELIVERY_GRACE))
        outbox.purge_done(session)
    jobs = [delivery_job(i) for i in ids]
    if report.outbox_due:
        jobs.append(outbox.DRAIN_JOB)
    if reconcile.due(runtime):
        report.reconcile = True
        jobs.append(RECONCILE_JOB)
    if jobs:
        runtime.queue.dispatch(jobs)
        log.info("sync sweep: %s", report)
    return report
