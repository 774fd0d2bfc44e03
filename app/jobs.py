"""RQ job functions: importable by name, ids in, one service call each."""

from __future__ import annotations

import logging

from .runtime import current

log = logging.getLogger(__name__)


def evaluate_incident(incident_id: int) -> None:
    """Re-run the rules for one incident and replace its findings."""
    from .rules.service import evaluate_and_store

    evaluate_and_store(current(), incident_id)


def sync_entity(entity_type: str, entity_id: int) -> None:
    """Push one incident, postmortem or action to the tracker (drains all that is due)."""
    from .sync.service import push_entity

    push_entity(current(), entity_type, entity_id)


def sync_drain() -> None:
    """Push every due outbox row (the sweep's job, after outages and back-offs)."""
    from .sync.service import drain

    drain(current())


def process_jira_delivery(delivery_id: int) -> None:
    """Apply one stored Jira webhook delivery."""
    from .sync.inbound import process_delivery

    process_delivery(current(), delivery_id)


def sync_reconcile() -> None:
    """Fetch Jira issues changed since the last run and apply what webhooks missed."""
    from .sync.reconcile import reconcile

    reconcile(current())


def process_incident_delivery(delivery_id: int) -> None:
    """Turn one stored incident-source delivery into incident, timeline and postmortem."""
    from .services.intake import process_delivery

    process_delivery(current(), delivery_id)
