"""Enumerations shared by the models, the API schemas and the policies.

They are `StrEnum`s so that the database stores readable text and the API
accepts exactly the words the README documents.
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    @property
    def rank(self) -> int:
        """1 is the worst; scoring and policy compare ranks, not strings."""
        return int(self.value[-1])


class IncidentStatus(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"


class RegulatoryFlag(StrEnum):
    HIPAA = "hipaa"
    GDPR = "gdpr"
    SEC_REG_SCI = "sec_reg_sci"
    SLA = "sla"


class TimelineKind(StrEnum):
    ALERT = "alert"
    DETECTION = "detection"
    ACKNOWLEDGEMENT = "acknowledgement"
    ESCALATION = "escalation"
    INVESTIGATION = "investigation"
    ACTION = "action"
    DECISION = "decision"
    COMMUNICATION = "communication"
    NOTIFICATION = "notification"  # a regulator or customer notified; `obligation` names which
    MITIGATION = "mitigation"
    RESOLUTION = "resolution"
    STATUS_CHANGE = "status_change"
    NOTE = "note"


class EvidenceKind(StrEnum):
    LOG = "log"
    METRIC = "metric"
    LINK = "link"
    SCREENSHOT = "screenshot"
    DOCUMENT = "document"
    CHAT = "chat"
    TRACE = "trace"


class ParticipantRole(StrEnum):
    INCIDENT_COMMANDER = "incident_commander"
    FACILITATOR = "facilitator"
    SUBJECT_MATTER_EXPERT = "subject_matter_expert"
    BUSINESS_STAKEHOLDER = "business_stakeholder"
    COMMUNICATIONS = "communications"
    CUSTOMER_SUPPORT = "customer_support"
    RESPONDER = "responder"

    @property
    def is_technical(self) -> bool:
        return self in {
            ParticipantRole.INCIDENT_COMMANDER,
            ParticipantRole.SUBJECT_MATTER_EXPERT,
            ParticipantRole.RESPONDER,
        }

    @property
    def is_business(self) -> bool:
        return self in {
            ParticipantRole.BUSINESS_STAKEHOLDER,
            ParticipantRole.COMMUNICATIONS,
            ParticipantRole.CUSTOMER_SUPPORT,
        }


class CauseKind(StrEnum):
    TRIGGER = "trigger"
    ROOT_CAUSE = "root_cause"
    CONTRIBUTING_FACTOR = "contributing_factor"


class CauseCategory(StrEnum):
    CHANGE = "change"
    CONFIG = "config"
    CAPACITY = "capacity"
    DEPENDENCY = "dependency"
    MONITORING = "monitoring"
    TESTING = "testing"
    PROCESS = "process"
    COMMUNICATION = "communication"
    ARCHITECTURE = "architecture"
    HARDWARE = "hardware"
    SECURITY = "security"
    ORGANIZATIONAL = "organizational"


class ActionType(StrEnum):
    PREVENT = "prevent"
    DETECT = "detect"
    MITIGATE = "mitigate"
    PROCESS = "process"
    DOCUMENTATION = "documentation"


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    VERIFIED = "verified"
    WONT_DO = "wont_do"

    @property
    def is_closed(self) -> bool:
        return self in {ActionStatus.DONE, ActionStatus.VERIFIED, ActionStatus.WONT_DO}


class Priority(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class Effort(StrEnum):
    SMALL = "S"
    MEDIUM = "M"
    LARGE = "L"


class PostmortemStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"


class FindingSeverity(StrEnum):
    BLOCKER = "blocker"
    WARNING = "warning"
    INFO = "info"


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    def grants(self, needed: Scope) -> bool:
        """admin ⊃ write ⊃ read, so a token never needs to list all three."""
        order = [Scope.READ, Scope.WRITE, Scope.ADMIN]
        return order.index(self) >= order.index(needed)


class DeliveryStatus(StrEnum):
    """One lifecycle for every stored webhook delivery, whatever its source.

    pending -> processing (claimed by exactly one job) -> processed | ignored
    (with why) | failed (with the error; re-playable). A delivery whose job
    died while processing is found by the sweep and handed back.
    """

    PENDING = "pending"
    PROCESSING = "processing"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in {DeliveryStatus.PROCESSED, DeliveryStatus.IGNORED, DeliveryStatus.FAILED}
