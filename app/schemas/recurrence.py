"""API models for repeats, similar incidents and suggested actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import Field

from .common import Input, Output
from .earlier_actions import EarlierAction as EarlierAction  # re-exported: the API model
from .earlier_actions import EarlierActions
from .reports import ReportFormat


class RecurrenceQuery(Input):
    format: ReportFormat = "json"
    refresh: bool = Field(default=False, description="ask for a recompute: 202, poll Location")


# A slotted dataclass, not a model: a large report holds 100,000 repeats, and pydantic
# validates and serialises a dataclass field as it does a model (same JSON and schema).
@dataclass(slots=True)
class Repeat:
    """An incident that repeats an earlier one, with the earlier incident's actions."""

    incident: str
    repeat_of: str
    score: float
    reasons: list[str]
    earlier_actions: EarlierActions


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
