"""RQ job functions: importable by name, ids in, one service call each."""

from __future__ import annotations

import logging

from .runtime import current

log = logging.getLogger(__name__)


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
