"""/api/v1/reports: what the organisation learned, as JSON, CSV, Markdown or HTML, and charts.

`GET /api/v1/reports/{report}/chart.svg|.png?chart=NAME` draws one chart of a
report from the same filters the report takes (see app/reports/charts.py for
the names); the Markdown and HTML forms embed every chart of their report.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from flask import Response, request
from werkzeug.http import http_date

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
from app.services import report_cache as cache_service
from app.services import report_charts as chart_service
from app.services import reports as report_service

from .framework import ApiBlueprint

ChartFormat = Literal["svg", "png"]

bp = ApiBlueprint("reports", __name__, url_prefix="/api/v1/reports")

MIMETYPES = {"csv": "text/csv", "md": "text/markdown", "html": "text/html"}


ACCEPTED = {
    202: "refresh=true: a recompute is queued; the body is the cached report, poll Location"
}
PRODUCES = ("application/json", "text/csv", "text/markdown", "text/html")


def _answer(name: str, query: Any, render: Callable[[Any, str], str]) -> Response:
    """The cached report in the asked format, with how fresh it is (Age, Last-Modified)."""
    now = datetime.now(UTC)
    params = query.model_dump(mode="json", exclude={"format", "refresh"})
    cached = cache_service.get_report(current(), name, params, now=now, refresh=query.refresh)
    if query.format == "json":
        response = Response(cached.report.model_dump_json(), mimetype="application/json")
    else:
        response = Response(render(cached.report, query.format), mimetype=MIMETYPES[query.format])
    response.headers["Age"] = str(cached.age_seconds(now))
    response.headers["Last-Modified"] = http_date(cached.computed_at)
    if query.refresh:
        response.status_code = 202
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "refresh"]
        response.headers["Location"] = request.path + ("?" + urlencode(args) if args else "")
    return response


@bp.op(
    "GET",
    "/completion",
    summary="Action completion: totals by status, on-time rate, days to complete, breakdowns",
    query=CompletionQuery,
    response=CompletionReport,
    produces=PRODUCES,
    also=ACCEPTED,
)
def completion(query: CompletionQuery) -> object:
    return _answer("completion", query, report_service.render_completion)


@bp.op(
    "GET",
    "/learning",
    summary="Learning metrics: MTTD, MTTA, MTTM, MTTR, time to postmortem, monthly trends",
    query=LearningQuery,
    response=LearningReport,
    produces=PRODUCES,
    also=ACCEPTED,
)
def learning(query: LearningQuery) -> object:
    return _answer("learning", query, report_service.render_learning)


@bp.op(
    "GET",
    "/recurrence",
    summary="Incidents that repeat an earlier one, and what the earlier actions did",
    query=RecurrenceQuery,
    response=RecurrenceReport,
    produces=PRODUCES,
    also=ACCEPTED,
)
def recurrence(query: RecurrenceQuery) -> object:
    return _answer("recurrence", query, recurrence_service.render_recurrence)


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
