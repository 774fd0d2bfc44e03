"""What follows a write: rules re-evaluation and the tracker outbox.

Services call these inside their transaction; the jobs run after commit.
"""

from __future__ import annotations

from app.db import UnitOfWork
from app.models import Action, Incident, Postmortem
from app.runtime import current

from .evaluation import request_evaluation
from .tracker_sync import record_change, record_tree


def evaluate_later(uow: UnitOfWork, incident_id: int) -> None:
    """Re-run the rules after commit; one job id per incident, so a burst evaluates once."""
    request_evaluation(uow, incident_id)


def incident_changed(uow: UnitOfWork, incident: Incident) -> None:
    """Rules again, and the tracker: the incident, and whatever of it is not mirrored yet."""
    evaluate_later(uow, incident.id)
    record_tree(uow, current(), incident)


def action_changed(uow: UnitOfWork, action: Action) -> None:
    incident_changed(uow, action.incident)
    record_change(uow, current().settings, "action", action.id, action.key or "")


def postmortem_changed(uow: UnitOfWork, postmortem: Postmortem) -> None:
    incident_changed(uow, postmortem.incident)
    record_change(
        uow, current().settings, "postmortem", postmortem.id, postmortem.incident.key or ""
    )
