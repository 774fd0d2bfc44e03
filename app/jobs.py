"""Job names RQ may still hold from before jobs were enqueued by function reference.

Jobs are now module-level functions beside the service they call
(`evaluation.evaluate_job`, `intake.process_delivery_job`,
`tracker_sync.drain_job`, `tracker_inbound.process_delivery_job`,
`tracker_reconcile.reconcile_job`). A job queued under one of these older
names before an upgrade still runs: each forwards to its successor.
"""

from __future__ import annotations

from .services import evaluation, intake, tracker_inbound, tracker_reconcile, tracker_sync


def evaluate_incident(incident_id: int) -> None:
    evaluation.evaluate_job(incident_id)


def sync_entity(entity_type: str, entity_id: int) -> None:
    """Per-entity pushes became one drain of everything due."""
    tracker_sync.drain_job()


def sync_drain() -> None:
    tracker_sync.drain_job()


def process_jira_delivery(delivery_id: int) -> None:
    tracker_inbound.process_delivery_job(delivery_id)


def sync_reconcile() -> None:
    tracker_reconcile.reconcile_job()


def process_incident_delivery(delivery_id: int) -> None:
    intake.process_delivery_job(delivery_id)
