"""`hindsight report completion|learning|recurrence`: as JSON, CSV, Markdown or HTML."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from app import runtime
from app.schemas.reports import CompletionQuery, LearningQuery
from app.services import recurrence as recurrence_service
from app.services import reports as report_service
from app.settings import Settings

from .common import with_settings

DATE = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"])
FORMAT = click.Choice(["json", "csv", "md", "html"])


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


@click.group()
def report() -> None:
    """Reports on what the organisation learned (dates are UTC)."""


@report.command("completion")
@click.option("--team")
@click.option("--service")
@click.option("--since", type=DATE, help="actions created on or after (YYYY-MM-DD)")
@click.option("--until", type=DATE, help="actions created before (YYYY-MM-DD)")
@click.option("--format", "fmt", type=FORMAT, default="md", show_default=True)
@with_settings
def completion(
    settings: Settings,
    team: str | None,
    service: str | None,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
) -> int:
    """Action completion: status totals, on-time rate, days to complete, by group."""
    query = CompletionQuery(team=team, service=service, since=_utc(since), until=_utc(until))
    result = report_service.completion_report(runtime.build(settings), query, now=datetime.now(UTC))
    if fmt == "json":
        click.echo(result.model_dump_json(indent=2))
    else:
        click.echo(report_service.render_completion(result, fmt), nl=False)
    return 0


@report.command("learning")
@click.option("--service")
@click.option("--since", type=DATE, help="incidents started on or after (YYYY-MM-DD)")
@click.option("--until", type=DATE, help="incidents started before (YYYY-MM-DD)")
@click.option("--format", "fmt", type=FORMAT, default="md", show_default=True)
@with_settings
def learning(
    settings: Settings,
    service: str | None,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
) -> int:
    """MTTD/MTTA/MTTM/MTTR (minutes), time to postmortem, action completion, by month."""
    query = LearningQuery(service=service, since=_utc(since), until=_utc(until))
    result = report_service.learning_report(runtime.build(settings), query, now=datetime.now(UTC))
    if fmt == "json":
        click.echo(result.model_dump_json(indent=2))
    else:
        click.echo(report_service.render_learning(result, fmt), nl=False)
    return 0


@report.command("recurrence")
@click.option("--format", "fmt", type=FORMAT, default="md", show_default=True)
@with_settings
def recurrence(settings: Settings, fmt: str) -> int:
    """Incidents that repeat an earlier one, and the verdict on each earlier action."""
    result = recurrence_service.recurrence_report(runtime.build(settings), now=datetime.now(UTC))
    if fmt == "json":
        click.echo(result.model_dump_json(indent=2))
    else:
        click.echo(recurrence_service.render_recurrence(result, fmt), nl=False)
    return 0
