"""API models for the analysis: timeline, evidence, participants, causes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.domain.vocabulary import (
    CauseCategory,
    CauseKind,
    EvidenceKind,
    ParticipantRole,
    TimelineKind,
)

from .common import Id, Input, LongText, Name, NotNull, Output, Tag, Timestamp

Url = str
Obligation = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$", max_length=80)
]
_OBLIGATION = (
    "kind notification only: the compliance obligation (policy.yaml id, e.g. "
    "sec_reg_sci.immediate_notice) this notification meets"
)


class TimelineEventCreate(Input):
    at: Timestamp
    kind: TimelineKind
    text: LongText = Field(min_length=1)
    source: Tag = "manual"
    actor_role: ParticipantRole | None = None
    is_decision: bool = False
    rationale: LongText | None = None
    alternatives: list[LongText] = Field(default_factory=list, max_length=20)
    evidence_links: list[Url] = Field(default_factory=list, max_length=50)
    obligation: Obligation | None = Field(default=None, description=_OBLIGATION)


class TimelineEventUpdate(Input):
    at: Annotated[Timestamp | None, NotNull()] = None
    kind: Annotated[TimelineKind | None, NotNull()] = None
    text: Annotated[LongText | None, NotNull()] = Field(default=None, min_length=1)
    source: Annotated[Tag | None, NotNull()] = None
    actor_role: ParticipantRole | None = None
    is_decision: Annotated[bool | None, NotNull()] = None
    rationale: LongText | None = None
    alternatives: Annotated[list[LongText] | None, NotNull()] = None
    evidence_links: Annotated[list[Url] | None, NotNull()] = None
    obligation: Obligation | None = Field(default=None, description=_OBLIGATION)


class TimelineEventRead(Output):
    id: int
    at: datetime
    kind: TimelineKind
    text: str
    source: str
    actor_role: ParticipantRole | None
    is_decision: bool
    rationale: str | None
    alternatives: list[str]
    evidence_links: list[str]
    obligation: str | None = None


class EvidenceCreate(Input):
    kind: EvidenceKind
    uri: str = Field(min_length=1, max_length=2000)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    note: LongText | None = None


class EvidenceRead(Output):
    id: int
    kind: EvidenceKind
    uri: str
    sha256: str | None = Field(
        description="For an uploaded file (file_size set) the SHA-256 Hindsight computed; "
        "for a link, what the caller said about it"
    )
    note: str | None
    file_name: str | None = None
    file_size: int | None = None
    media_type: str | None = None


class EvidenceUpload(Input):
    """Query (or multipart form fields) of an evidence file upload; the body is the file."""

    kind: EvidenceKind = EvidenceKind.DOCUMENT
    name: str | None = Field(default=None, min_length=1, max_length=255)
    sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F]{64}$",
        description="optional: the SHA-256 you computed; refused if the file's differs",
    )
    note: LongText | None = None


class ParticipantCreate(Input):
    role: ParticipantRole
    team: Tag | None = None
    name: Name | None = None


class ParticipantRead(Output):
    id: int
    role: ParticipantRole
    team: str | None
    name: str | None


class CauseCreate(Input):
    kind: CauseKind
    category: CauseCategory
    statement: LongText = Field(min_length=1)
    why: LongText | None = Field(default=None, description="the 'why?' this cause answers")
    parent_id: Id | None = Field(default=None, description="the cause this one explains")
    evidence_ids: list[Id] = Field(default_factory=list)


class CauseUpdate(Input):
    kind: Annotated[CauseKind | None, NotNull()] = None
    category: Annotated[CauseCategory | None, NotNull()] = None
    statement: Annotated[LongText | None, NotNull()] = Field(default=None, min_length=1)
    why: LongText | None = None
    parent_id: Id | None = None
    evidence_ids: Annotated[list[Id] | None, NotNull()] = None


class CauseRead(Output):
    id: int
    kind: CauseKind
    category: CauseCategory
    statement: str
    why: str | None
    parent_id: int | None
    evidence_ids: list[int]
