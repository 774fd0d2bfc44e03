"""API models for the reports: the query each takes and the shape each answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .common import Input, Output, Tag, Timestamp

ReportFormat = Literal["json", "csv", "md", "html"]


class CompletionQuery(Input):
    team: Tag | None = None
    service: Tag | None = None
    since: Timestamp | None = Field(default=None, description="actions created at or after")
    until: Timestamp | None = Field(
        default=None, description="actions created before (must be after since)"
    )
    format: ReportFormat = "json"
    refresh: bool = Field(default=False, description="ask for a recompute: 202, poll Location")


class CompletionFigures(Output):
    key: str | None
    total: int
    open: int
    in_progress: int
    blocked: int
    done: int
    verified: int
    wont_do: int
    overdue: int
    on_time: int
    completed_with_due: int
    on_time_rate: float | None
    median_days_to_complete: float | None
    p90_days_to_complete: float | None


class CompletionFilters(Output):
    team: str | None = None
    service: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class CompletionReport(Output):
    computed_at: datetime
    filters: CompletionFilters
    totals: CompletionFigures
    by: dict[str, list[CompletionFigures]]


class LearningQuery(Input):
    service: Tag | None = None
    since: Timestamp | None = Field(default=None, description="incidents started at or after")
    until: Timestamp | None = Field(
        default=None, description="incidents started before (must be after since)"
    )
    format: ReportFormat = "json"
    refresh: bool = Field(default=False, description="ask for a recompute: 202, poll Location")


class Stat(Output):
    count: int
    mean_minutes: float | None
    median_minutes: float | None


class LearningPeriod(Output):
    month: str | None
    incidents: int
    metrics: dict[str, Stat]


class LearningFilters(Output):
    service: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class LearningReport(Output):
    computed_at: datetime
    filters: LearningFilters
    incidents: int
    metrics: dict[str, Stat]
    actions_total: int
    actions_completed: int
    actions_wont_do: int
    action_completion_rate: float | None
    repeat_rate: float | None = Field(
        description="incidents selected that repeat an earlier one / incidents selected"
    )
    months: list[LearningPeriod]


class CompletionChartQuery(Input):
    chart: Literal["by_team", "by_service"] = "by_team"
    team: Tag | None = None
    service: Tag | None = None
    since: Timestamp | None = Field(default=None, description="actions created at or after")
    until: Timestamp | None = Field(default=None, description="actions created before")


class LearningChartQuery(Input):
    chart: Literal["trends"] = "trends"
    service: Tag | None = None
    since: Timestamp | None = Field(default=None, description="incidents started at or after")
    until: Timestamp | None = Field(default=None, description="incidents started before")


class RecurrenceChartQuery(Input):
    chart: Literal["by_category", "by_service"] = "by_category"
