"""Report charts: the report the query selects (from the report cache), one chart as bytes."""

from __future__ import annotations

from datetime import datetime

from app.reports import charts
from app.reports.charts import CHARTS, MIMETYPES, ChartFormat
from app.runtime import Runtime
from app.schemas.reports import CompletionChartQuery, LearningChartQuery, RecurrenceChartQuery

from .report_cache import get_report

__all__ = ["CHARTS", "MIMETYPES", "completion", "learning", "recurrence"]


def completion(
    runtime: Runtime, query: CompletionChartQuery, fmt: ChartFormat, *, now: datetime
) -> bytes:
    params = query.model_dump(mode="json", exclude={"chart"})
    report = get_report(runtime, "completion", params, now=now).report
    return charts.render(charts.completion_chart(report, query.chart), fmt)


def learning(
    runtime: Runtime, query: LearningChartQuery, fmt: ChartFormat, *, now: datetime
) -> bytes:
    params = query.model_dump(mode="json", exclude={"chart"})
    report = get_report(runtime, "learning", params, now=now).report
    return charts.render(charts.learning_chart(report, query.chart), fmt)


def recurrence(
    runtime: Runtime, query: RecurrenceChartQuery, fmt: ChartFormat, *, now: datetime
) -> bytes:
    report = get_report(runtime, "recurrence", {}, now=now).report
    return charts.render(charts.recurrence_chart(report, query.chart), fmt)
