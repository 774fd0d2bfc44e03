"""The webhook inbox across sources: which job applies a delivery, and replaying one.

Kept apart from `deliveries` (the lifecycle every source shares) because it
knows every source's job, and the sources' services import `deliveries`.
"""

from __future__ import annotations

from collections.abc import Callable

from app.db import JobRequest
from app.models import WebhookDelivery
from app.runtime import Runtime

from . import deliveries, intake, tracker_inbound


def job_for(source: str) -> Callable[[int], JobRequest]:
    if source in intake.PARSERS:
        return intake.intake_job
    return tracker_inbound.delivery_job


def replay_delivery(runtime: Runtime, delivery_id: int) -> WebhookDelivery:
    """A failed or ignored delivery back to pending, with its source's job after commit."""
    return deliveries.replay(runtime, delivery_id, job_for)
