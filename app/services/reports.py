"""Reports: the use cases behind /api/v1/reports/* and `hindsight report`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from app.domain.errors import field_error
from app.reports import render
from app.reports.completion import CompletionFilter, completion
from app.runtime import Runtime
from app.schemas.reports import CompletionQuery, CompletionReport

COMPLETION_COLUMNS = [
    "total",
    "open",
    "in_progress",
    "blocked",
    "done",
    "verified",
    "wont_do",
    "overdue",
    "on_time_rate",
    "median_days_to_complete",
    "p90_days_to_complete",
]


def _check_period(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since >= until:
        raise field_error(["query", "until"], "must be after since")


def completion_report(
    runtime: Runtime, query: CompletionQuery, *, now: datetime
) -> CompletionReport:
    """The completion report for the actions the query selects, as of `now`."""
    _check_period(query.since, query.until)
    filters = CompletionFilter(
        team=query.team, service=query.service, since=query.since, until=query.until
    )
    with runtime.db.sessions() as session:
        report = completion(session, now, filters)
    return CompletionReport.model_validate(asdict(report))


def render_completion(report: CompletionReport, fmt: str) -> str:
    """CSV or Markdown of the report: one row for all actions, then one per group."""
    data = report.model_dump()
    rows = render.table_rows(data["totals"], data["by"], COMPLETION_COLUMNS)
    header = ["breakdown", "key", *COMPLETION_COLUMNS]
    if fmt == "csv":
        return render.to_csv(header, rows)
    f = report.filters
    lines = [
        f"Computed at {report.computed_at.isoformat()}.",
        f"Filters: team={f.team or 'any'}, service={f.service or 'any'}, "
        f"since={f.since.isoformat() if f.since else 'any'}, "
        f"until={f.until.isoformat() if f.until else 'any'}.",
    ]
    return render.to_markdown("Action completion report", lines, header, rows)
