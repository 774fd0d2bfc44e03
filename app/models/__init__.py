"""SQLAlchemy 2 typed models; import from here, not from the submodules."""

from . import follow_up as _follow_up  # noqa: F401  (listeners that keep follow_up_at honest)
from .action import Action, ActionStatusChange, ActionValidation, action_causes
from .base import Base, utcnow
from .follow import Escalation, Notification, ScheduleRun
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
from .review import PostmortemReview
from .search import SearchDocument
from .user import User, WebSession

__all__ = [
    "Action",
    "ActionStatusChange",
    "ActionValidation",
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Cause",
    "Escalation",
    "Evidence",
    "Finding",
    "Incident",
    "Notification",
    "OutboxItem",
    "Participant",
    "PendingEvaluation",
    "ReportCache",
    "Postmortem",
    "ScheduleRun",
    "PostmortemReview",
    "SearchDocument",
    "SyncState",
    "TimelineEvent",
    "User",
    "Waiver",
    "WebSession",
    "WebhookDelivery",
    "action_causes",
    "utcnow",
]
