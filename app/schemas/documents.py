"""The incident document: what `hindsight import` reads and export writes back.

Causes and evidence carry a local `ref` so the document can link them
without database ids; export generates the same refs, so a document
round-trips. Refs are checked by the import service, which can name the
field path of every dangling one.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

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


class ActionDoc(ActionFields):
    status: ActionStatus = ActionStatus.OPEN
    status_reason: LongText | None = None
    addresses: list[Ref] = Field(default_factory=list)


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


class IncidentDocument(Input):
    incident: IncidentCreate
    timeline: list[TimelineEventCreate] = Field(default_factory=list)
    evidence: list[EvidenceDoc] = Field(default_factory=list)
    participants: list[ParticipantCreate] = Field(default_factory=list)
    causes: list[CauseDoc] = Field(default_factory=list)
    actions: list[ActionDoc] = Field(default_factory=list)
    postmortem: PostmortemDoc | None = None
