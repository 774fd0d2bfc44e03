"""API models for repeats, similar incidents and suggested actions."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import Input, Output
from .reports import ReportFormat


class RecurrenceQuery(Input):
    format: ReportFormat = "json"
    refresh: bool = Field(default=False, description="ask for a recompute: 202, poll Location")


class EarlierAction(Output):
    key: str
    status_at_repeat: str
    verdict: str = Field(description="ineffective, too_late or open")


class Repeat(Output):
    incident: str
    repeat_of: str
    score: float
    reasons: list[str]
    earlier_actions: list[EarlierAction]


class Rate(Output):
    key: str
    incidents: int
    repeats: int
    rate: float | None


class Rates(Output):
    by_service: list[Rate]
    by_category: list[Rate]
    repeats: int = Field(description="incidents that repeat an earlier one")
    after_actions_done: int = Field(description="...whose earlier actions were all done first")
    with_actions_not_done: int


class RecurrenceReport(Output):
    computed_at: datetime
    repeats: list[Repeat]
    rates: Rates


class Similar(Output):
    incident: str
    score: float
    reasons: list[str]


class SimilarIncidents(Output):
    similar: list[Similar]


class Suggestion(Output):
    title: str
    type: str
    action: str
    from_incident: str
    similarity: float
    verdict: str = Field(description="worked, did_not_work or unproven")
    evidence: str


class SuggestedActions(Output):
    incident: str
    suggestions: list[Suggestion]
