"""SQLAlchemy 2 typed models; import from here, not from the submodules."""

from .action import Action, ActionStatusChange, action_causes
from .base import Base, utcnow
from .incident import Cause, Evidence, Incident, Participant, Postmortem, TimelineEvent
from .ops import (
    ApiToken,
    AuditEntry,
    AuditHead,
    Finding,
    OutboxItem,
    PendingEvaluation,
    SyncState,
    Waiver,
    WebhookDelivery,
)
from .reports import ReportCache
from .search import SearchDocument

__all__ = [
    "Action",
    "ActionStatusChange",
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Cause",
    "Evidence",
    "Finding",
    "Incident",
    "OutboxItem",
    "Participant",
    "PendingEvaluation",
    "ReportCache",
    "Postmortem",
    "SearchDocument",
    "SyncState",
    "TimelineEvent",
    "Waiver",
    "WebhookDelivery",
    "action_causes",
    "utcnow",
]
