"""The incident document: what `hindsight import` reads and export writes back.

Causes and evidence carry a local `ref` so the document can link them
without database ids; export generates the same refs, so a document
round-trips. Refs are checked by the import service, which can name the
field path of every dangling one.

History travels with the record: an action's `created_at`, `completed_at`,
`verified_at`, status `history` and `validations` (every check, the failed
ones too), the postmortem's `published_at`, the incident's `created_at` and
times. `incident.key` (an incident of this database) or `incident.source` +
`incident.external_id` name the incident an import updates instead of
creating one; `actions[].key` names the action.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.domain.vocabulary import (
    ActionStatus,
    CauseCategory,
    CauseKind,
    PostmortemStatus,
)

from .actions import ActionFields
from .analysis import EvidenceCreate, ParticipantCreate, TimelineEventCreate
from .common import Input, LongText, Name, Timestamp
from .incidents import IncidentCreate
from .postmortems import Lines

Ref = str
IncidentKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]+-[0-9]{1,10}$", max_length=32)]
SourceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
HistorySource = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)
]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class IncidentDoc(IncidentCreate):
    key: IncidentKey | None = Field(default=None, description="update this incident")
    source: SourceName | None = Field(default=None, description="where it came from")
    external_id: ExternalId | None = Field(default=None, description="its id at the source")
    created_at: Timestamp | None = None


class StatusChangeDoc(Input):
    from_status: ActionStatus | None = None
    to_status: ActionStatus
    reason: LongText | None = None
    actor: Name = "import"
    source: HistorySource = "import"
    at: Timestamp


class EvidenceDoc(EvidenceCreate):
    ref: Ref = Field(min_length=1, max_length=40)


class CauseDoc(Input):
    ref: Ref = Field(min_length=1, max_length=40)
    parent: Ref | None = None
    kind: CauseKind
    category: CauseCategory
    statement: LongText = Field(min_length=1)
    why: LongText | None = None
    evidence: list[Ref] = Field(default_factory=list)


class ValidationDoc(Input):
    """One validation record, as `POST /actions/{key}/validations` stored it: the evidence
    `verified` rests on travels with the action, failed checks too."""

    checked: LongText = Field(min_length=1, description="what was checked, and how")
    result: Literal["pass", "fail"]
    evidence: str = Field(min_length=1, max_length=2000, description="a link to the evidence")
    checked_at: Timestamp
    checked_by: Name
    note: LongText | None = None
    recorded_at: Timestamp | None = Field(default=None, description="when it was recorded")


class ActionDoc(ActionFields):
    key: IncidentKey | None = Field(default=None, description="update this action")
    status: ActionStatus = ActionStatus.OPEN
    status_reason: LongText | None = None
    addresses: list[Ref] = Field(default_factory=list)
    created_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    verified_at: Timestamp | None = None
    history: list[StatusChangeDoc] = Field(default_factory=list, max_length=1000)
    validations: list[ValidationDoc] = Field(
        default_factory=list, max_length=1000, description="every validation record, oldest first"
    )


class PostmortemDoc(Input):
    status: PostmortemStatus = PostmortemStatus.DRAFT
    facilitator: Name | None = None
    review_due: date | None = None
    review_held_at: Timestamp | None = None
    summary: LongText = ""
    impact: LongText = ""
    went_well: Lines = Field(default_factory=list)
    went_wrong: Lines = Field(default_factory=list)
    lucky: Lines = Field(default_factory=list)
    lessons: Lines = Field(default_factory=list)
    published_at: Timestamp | None = None


class IncidentDocument(Input):
    incident: IncidentDoc
    timeline: list[TimelineEventCreate] = Field(default_factory=list)
    evidence: list[EvidenceDoc] = Field(default_factory=list)
    participants: list[ParticipantCreate] = Field(default_factory=list)
    causes: list[CauseDoc] = Field(default_factory=list)
    actions: list[ActionDoc] = Field(default_factory=list)
    postmortem: PostmortemDoc | None = None
