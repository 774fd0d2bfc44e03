"""/api/v1/reports: what the organisation learned, as JSON, CSV or Markdown."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response

from app.runtime import current
from app.schemas.recurrence import RecurrenceQuery, RecurrenceReport
from app.schemas.reports import CompletionQuery, CompletionReport, LearningQuery, LearningReport
from app.services import recurrence as recurrence_service
from app.services import reports as report_service

from .framework import ApiBlueprint

bp = ApiBlueprint("reports", __name__, url_prefix="/api/v1/reports")

MIMETYPES = {"csv": "text/csv", "md": "text/markdown"}


@bp.op(
    "GET",
    "/completion",
    summary="Action completion: totals by status, on-time rate, days to complete, breakdowns",
    query=CompletionQuery,
    response=CompletionReport,
    produces=("application/json", "text/csv", "text/markdown"),
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
    produces=("application/json", "text/csv", "text/markdown"),
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
    produces=("application/json", "text/csv", "text/markdown"),
)
def recurrence(query: RecurrenceQuery) -> object:
    report = recurrence_service.recurrence_report(current(), now=datetime.now(UTC))
    if query.format == "json":
        return report
    text = recurrence_service.render_recurrence(report, query.format)
    return Response(text, mimetype=MIMETYPES[query.format])
