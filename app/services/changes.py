"""What follows a write: rules re-evaluation and the tracker outbox.

Services call these inside their transaction; the jobs run after commit.
"""

from __future__ import annotations

from app.db import UnitOfWork
from app.models import Action, Incident, Postmortem
from app.runtime import current
from app.search.index import reindex_incident
from app.sync import outbox

from .evaluation import request_evaluation


def evaluate_later(uow: UnitOfWork, incident_id: int) -> None:
    """Re-run the rules after commit; one job id per incident, so a burst evaluates once."""
    request_evaluation(uow, incident_id)


def incident_changed(uow: UnitOfWork, incident: Incident) -> None:
    evaluate_later(uow, incident.id)
    reindex_incident(uow.session, incident.id)  # the knowledge base, in the same transaction
    outbox.record_change(uow, current().settings, "incident", incident.id, incident.key or "")


def action_changed(uow: UnitOfWork, action: Action) -> None:
    incident_changed(uow, action.incident)
    outbox.record_change(uow, current().settings, "action", action.id, action.key or "")


def postmortem_changed(uow: UnitOfWork, postmortem: Postmortem) -> None:
    incident_changed(uow, postmortem.incident)
    outbox.record_change(
        uow, current().settings, "postmortem", postmortem.id, postmortem.incident.key or ""
    )
