"""Report charts: compute the report the query selects, draw one of its charts as bytes."""

from __future__ import annotations

from datetime import datetime

from app.reports import charts
from app.reports.charts import CHARTS, MIMETYPES, ChartFormat
from app.runtime import Runtime
from app.schemas.reports import (
    CompletionChartQuery,
    CompletionQuery,
    LearningChartQuery,
    LearningQuery,
    RecurrenceChartQuery,
)

from . import recurrence as recurrence_service
from . import reports as report_service

__all__ = ["CHARTS", "MIMETYPES", "completion", "learning", "recurrence"]


def completion(
    runtime: Runtime, query: CompletionChartQuery, fmt: ChartFormat, *, now: datetime
) -> bytes:
    report_query = CompletionQuery(**query.model_dump(exclude={"chart"}))
    report = report_service.completion_report(runtime, report_query, now=now)
    return charts.render(charts.completion_chart(report, query.chart), fmt)


def learning(
    runtime: Runtime, query: LearningChartQuery, fmt: ChartFormat, *, now: datetime
) -> bytes:
    report_query = LearningQuery(**query.model_dump(exclude={"chart"}))
    report = report_service.learning_report(runtime, report_query, now=now)
    return charts.render(charts.learning_chart(report, query.chart), fmt)


def recurrence(
    runtime: Runtime, query: RecurrenceChartQuery, fmt: ChartFormat, *, now: datetime
) -> bytes:
    report = recurrence_service.recurrence_report(runtime, now=now)
    return charts.render(charts.recurrence_chart(report, query.chart), fmt)
