"""/api/v1/reports: what the organisation learned, as JSON, CSV, Markdown or HTML, and charts.

`GET /api/v1/reports/{report}/chart.svg|.png?chart=NAME` draws one chart of a
report from the same filters the report takes (see app/reports/charts.py for
the names); the Markdown and HTML forms embed every chart of their report.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from flask import Response

from app.runtime import current
from app.schemas.recurrence import RecurrenceQuery, RecurrenceReport
from app.schemas.reports import (
    CompletionChartQuery,
    CompletionQuery,
    CompletionReport,
    LearningChartQuery,
    LearningQuery,
    LearningReport,
    RecurrenceChartQuery,
)
from app.services import recurrence as recurrence_service
from app.services import report_charts as chart_service
from app.services import reports as report_service

from .framework import ApiBlueprint

ChartFormat = Literal["svg", "png"]

bp = ApiBlueprint("reports", __name__, url_prefix="/api/v1/reports")

MIMETYPES = {"csv": "text/csv", "md": "text/markdown", "html": "text/html"}


@bp.op(
    "GET",
    "/completion",
    summary="Action completion: totals by status, on-time rate, days to complete, breakdowns",
    query=CompletionQuery,
    response=CompletionReport,
    produces=("application/json", "text/csv", "text/markdown", "text/html"),
)
def completion(query: CompletionQuery) -> object:
    report = report_service.completion_report(current(), query, now=datetime.now(UTC))
    if query.format == "json":
        return report
    text = report_service.render_completion(report, query.format)
    return Response(text, mimetype=MIMETYPES[query.format])


@bp.op(
    "GET",
    "/learning",
    summary="Learning metrics: MTTD, MTTA, MTTM, MTTR, time to postmortem, monthly trends",
    query=LearningQuery,
    response=LearningReport,
    produces=("application/json", "text/csv", "text/markdown", "text/html"),
)
def learning(query: LearningQuery) -> object:
    report = report_service.learning_report(current(), query, now=datetime.now(UTC))
    if query.format == "json":
        return report
    return Response(
        report_service.render_learning(report, query.format), mimetype=MIMETYPES[query.format]
    )


@bp.op(
    "GET",
    "/recurrence",
    summary="Incidents that repeat an earlier one, and what the earlier actions did",
    query=RecurrenceQuery,
    response=RecurrenceReport,
    produces=("application/json", "text/csv", "text/markdown", "text/html"),
)
def recurrence(query: RecurrenceQuery) -> object:
    report = recurrence_service.recurrence_report(current(), now=datetime.now(UTC))
    if query.format == "json":
        return report
    text = recurrence_service.render_recurrence(report, query.format)
    return Response(text, mimetype=MIMETYPES[query.format])


def _chart_route(name: str, fmt: ChartFormat, query: type, draw: Callable[..., bytes]) -> None:
    def view(query: Any) -> Response:
        body = draw(current(), query, fmt, now=datetime.now(UTC))
        return Response(body, mimetype=chart_service.MIMETYPES[fmt])

    view.__name__ = f"{name}_chart_{fmt}"
    bp.op(
        "GET",
        f"/{name}/chart.{fmt}",
        summary=f"A chart of the {name} report as {fmt.upper()} "
        f"(chart: {', '.join(chart_service.CHARTS[name])})",
        query=query,
        response=bytes,
        produces=(chart_service.MIMETYPES[fmt],),
    )(view)


FORMATS: tuple[ChartFormat, ...] = ("svg", "png")
for _fmt in FORMATS:
    _chart_route("completion", _fmt, CompletionChartQuery, chart_service.completion)
    _chart_route("learning", _fmt, LearningChartQuery, chart_service.learning)
    _chart_route("recurrence", _fmt, RecurrenceChartQuery, chart_service.recurrence)
