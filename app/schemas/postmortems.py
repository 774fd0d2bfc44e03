"""API models for the postmortem document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.domain.vocabulary import PostmortemStatus

from .common import Day, Input, LongText, Name, NotNull, Output, Timestamp

Lines = list[LongText]


class PostmortemUpdate(Input):
    facilitator: Name | None = None
    review_due: Day | None = None
    review_held_at: Timestamp | None = None
    summary: Annotated[LongText | None, NotNull()] = None
    impact: Annotated[LongText | None, NotNull()] = None
    went_well: Lines | None = Field(default=None, max_length=100)
    went_wrong: Lines | None = Field(default=None, max_length=100)
    lucky: Lines | None = Field(default=None, max_length=100)
    lessons: Lines | None = Field(default=None, max_length=100)
    status: Annotated[PostmortemStatus | None, NotNull()] = None


class PostmortemRead(Output):
    incident_key: str
    status: PostmortemStatus
    facilitator: str | None
    review_due: Day | None
    review_held_at: datetime | None
    summary: str
    impact: str
    went_well: list[str]
    went_wrong: list[str]
    lucky: list[str]
    lessons: list[str]
    published_at: datetime | None
    tracker_key: str | None
    created_at: datetime
    updated_at: datetime
