"""The postmortem review prepared at an incident's close (GET .../postmortem/review)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class Timings(BaseModel):
    """Minutes: detect, mitigate and resolve from the start; acknowledge from detection."""

    detect: int | None = None
    acknowledge: int | None = None
    mitigate: int | None = None
    resolve: int | None = None


class SuggestedParticipant(BaseModel):
    name: str
    why: str
    email: str | None = None


class ReviewRead(BaseModel):
    incident: str
    facilitator: str | None
    due: date
    starts_at: datetime
    ends_at: datetime
    timings: Timings
    participants: list[SuggestedParticipant]
    invitation_uid: str
    announced_at: datetime | None
