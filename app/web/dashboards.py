"""Dashboards: completion, recurrence and learning reports, filtered by team, service, period;
and the escalations list (reminders and ladder steps with each channel's result)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import render_template, request
from werkzeug.datastructures import MultiDict

from app.domain.errors import DomainError
from app.runtime import current
from app.schemas.followthrough import EscalationQuery
from app.schemas.reports import CompletionQuery, LearningQuery
from app.services.escalation_reads import list_escalations
from app.services.recurrence import recurrence_report
from app.services.reports import completion_report, learning_report

from . import bp
from .charts import bars
from .forms import FormErrors, from_domain, read
from .incidents import day

STATUSES = ("open", "in_progress", "blocked", "done", "verified", "wont_do", "overdue")


def _filters(names: tuple[str, ...]) -> MultiDict[str, str]:
    args = request.args
    out: dict[str, str] = {n: args[n] for n in names if args.get(n) and n not in ("since", "until")}
    for n in ("since", "until"):
        if n in names and args.get(n):
            out[n] = day(args[n]) or ""
    return MultiDict(out)


def _reports(now: datetime) -> dict[str, Any]:
    rt = current()
    completion = completion_report(
        rt, read(CompletionQuery, _filters(("team", "service", "since", "until"))), now=now
    )
    learning = learning_report(
        rt, read(LearningQuery, _filters(("service", "since", "until"))), now=now
    )
    recurrence = recurrence_report(rt, now=now)
    totals = completion.totals
    return {
        "completion": completion,
        "learning": learning,
        "recurrence": recurrence,
        "status_chart": bars(
            "Actions by status", [(s.replace("_", " "), getattr(totals, s)) for s in STATUSES]
        ),
        "mttx_chart": bars(
            "Mean minutes per metric",
            [(name, stat.mean_minutes) for name, stat in learning.metrics.items()],
            " min",
        ),
    }


@bp.route("/dashboards")
def dashboards() -> str:
    errors: dict[str, str] = {}
    reports: dict[str, Any] = {}
    try:
        reports = _reports(datetime.now(UTC))
    except FormErrors as exc:
        errors = exc.errors
    except DomainError as exc:
        errors = from_domain(exc).errors
    catalog = current().catalog
    return render_template(
        "web/dashboards.html.j2",
        errors=errors,
        args=request.args,
        teams=[t.name for t in catalog.teams],
        services=sorted({s.name for s in catalog.services}),
        **reports,
    )


@bp.route("/escalations")
def escalations() -> str:
    """Every reminder and escalation step, newest first, with what each channel answered.

    The same service and query model as `GET /api/v1/escalations`, so a filter refused
    there is refused here, in words beside the form."""
    errors: dict[str, str] = {}
    rows: list[Any] = []
    total = 0
    args = request.args
    wanted = {n: args[n] for n in ("team", "level", "open") if args.get(n)}
    try:
        query = read(EscalationQuery, MultiDict(wanted))
        rows, total = list_escalations(current(), query)
    except FormErrors as exc:
        errors = exc.errors
    except DomainError as exc:
        errors = from_domain(exc).errors
    return render_template(
        "web/escalations.html.j2",
        errors=errors,
        args=args,
        rows=rows,
        total=total,
        teams=[t.name for t in current().catalog.teams],
    )
