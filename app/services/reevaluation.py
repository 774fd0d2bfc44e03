"""Scheduled re-evaluation: findings that change with time alone, with no write to cause it.

A GDPR 72-hour clock, a due date passing, an action going stale: nothing is
written, so the evaluation that follows every write never runs. The schedule
re-evaluates every incident whose rules depend on the clock (one with an open
action, or a regulatory flag) at the schedule's `now`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from app.models import Action, Incident
from app.runtime import Runtime

from .escalations import OPEN
from .evaluation import evaluate_and_store

log = logging.getLogger(__name__)


def clocked_incidents(runtime: Runtime) -> list[int]:
    with runtime.db.sessions() as session:
        with_open = set(
            session.scalars(select(Action.incident_id).where(Action.status.in_(OPEN)).distinct())
        )
        flagged = {
            i for i, flags in session.execute(select(Incident.id, Incident.regulatory)) if flags
        }
    return sorted(with_open | flagged)


def reevaluate_open(runtime: Runtime, now: datetime) -> str:
    """Evaluate each clocked incident at `now`; one failure does not stop the others."""
    ids = clocked_incidents(runtime)
    failed = 0
    for incident_id in ids:
        try:
            evaluate_and_store(runtime, incident_id, now=now)
        except Exception:
            failed += 1
            log.exception("scheduled re-evaluation of incident %s failed", incident_id)
    if failed:
        raise RuntimeError(f"{failed} of {len(ids)} incident(s) could not be re-evaluated")
    return f"re-evaluated {len(ids)} incident(s)"
