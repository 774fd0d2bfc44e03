"""Reports: the use cases behind /api/v1/reports/* and `hindsight report`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from app.domain.errors import field_error
from app.reports import charts, render
from app.reports.completion import CompletionFilter, completion
from app.reports.learning import METRICS, LearningFilter, learning
from app.runtime import Runtime
from app.schemas.reports import CompletionQuery, CompletionReport, LearningQuery, LearningReport

from .repeats import matched

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
    """CSV, Markdown or HTML of the report: one row for all actions, then one per group."""
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
    drawn = [charts.completion_chart(report, c) for c in charts.CHARTS["completion"]]
    return render.to_document(fmt, "Action completion report", lines, header, rows, drawn)


def learning_report(runtime: Runtime, query: LearningQuery, *, now: datetime) -> LearningReport:
    """MTTD/MTTA/MTTM/MTTR, time to postmortem, action completion, monthly trends."""
    _check_period(query.since, query.until)
    filters = LearningFilter(service=query.service, since=query.since, until=query.until)
    with runtime.db.sessions() as session:
        report = learning(session, now, filters)
    # the recurrence report's own matcher answer, shared (computed once while nothing changes)
    found = matched(runtime)
    repeated = [
        started
        for started, services in zip(found.started, found.services, strict=True)
        if (query.service is None or query.service in services)
        and (query.since is None or started >= query.since)
        and (query.until is None or started < query.until)
    ]
    # the incidents selected are the ones the learning metrics counted (same filters)
    chosen = report.incidents
    report.repeat_rate = round(len(repeated) / chosen, 4) if chosen else None
    return LearningReport.model_validate(asdict(report))


def render_learning(report: LearningReport, fmt: str) -> str:
    """CSV, Markdown or HTML: one row per period (all, then each month) and metric."""
    header = ["period", "incidents", "metric", "count", "mean_minutes", "median_minutes"]
    periods = [("all", report.incidents, report.metrics)] + [
        (p.month or "", p.incidents, p.metrics) for p in report.months
    ]
    rows = [
        [label, str(n), name, *(render.cell(v) for v in metrics[name].model_dump().values())]
        for label, n, metrics in periods
        for name in METRICS
    ]
    if fmt == "csv":
        return render.to_csv(header, rows)
    rate = report.action_completion_rate
    lines = [
        f"Computed at {report.computed_at.isoformat()}; {report.incidents} incidents.",
        f"Actions: {report.actions_completed} of {report.actions_total} done or verified "
        f"({report.actions_wont_do} won't do); completion rate "
        f"{'n/a' if rate is None else f'{rate:.1%}'}. Repeat rate: "
        f"{'n/a' if report.repeat_rate is None else f'{report.repeat_rate:.1%}'}.",
    ]
    drawn = [charts.learning_chart(report)]
    return render.to_document(fmt, "Learning metrics", lines, header, rows, drawn)
