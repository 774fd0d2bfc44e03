"""`hindsight sync check|push|reconcile|status`: Jira sync by hand.

Each command calls one use case in `app.services.tracker_sync` or
`app.services.tracker_reconcile` and prints its report. A Jira that refuses or
cannot be reached (401, 403, 5xx, a timeout, no such host) is one line on
stderr and exit status 3 (`JIRA_FAILED`), never a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

import click

from app import runtime
from app.services import tracker_reconcile, tracker_sync
from app.settings import Settings
from app.sync.tracker import TrackerError

from .common import with_settings

NO_JIRA = 2  # exit status when there is nothing to sync with
JIRA_FAILED = 3  # Jira answered with an error, or did not answer
P = ParamSpec("P")


def jira_errors(command: Callable[P, int]) -> Callable[P, int]:
    """A Jira failure as one line naming the command and Jira's own words."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            return command(*args, **kwargs)
        except TrackerError as exc:
            name = click.get_current_context().command_path
            click.echo(f"{name}: Jira failed: {' '.join(str(exc).split())[:500]}", err=True)
            return JIRA_FAILED

    return run


@click.group()
def sync() -> None:
    """Jira sync: check the mapping, push the outbox, reconcile."""


@sync.command()
@jira_errors
@with_settings
def check(settings: Settings) -> int:
    """Validate config/jira.yaml against the live project.

    Exit 1 naming every field the project would reject.
    """
    if not _jira_configured(settings):
        return NO_JIRA
    report = tracker_sync.check(runtime.build(settings))
    click.echo(report.render())
    return 0 if report.ok else 1


@sync.command()
@click.option(
    "--backfill",
    "queue_all",
    is_flag=True,
    help="first queue every incident, postmortem and action not yet in Jira",
)
@jira_errors
@with_settings
def push(settings: Settings, queue_all: bool) -> int:
    """Push every pending outbox row now.

    Exit 1 if any row went to the dead letter.
    """
    if not _jira_configured(settings):
        return NO_JIRA
    result = tracker_sync.push_now(runtime.build(settings), backfill_first=queue_all)
    if result.backfilled is not None:
        click.echo(f"queued {result.backfilled} entities that have no Jira issue yet")
    report = result.report
    click.echo(report.summary())
    for error in report.errors[:20]:
        click.echo(f"  {error}", err=True)
    return 0 if not report.dead else 1


@sync.command()
@click.option(
    "--full", is_flag=True, help="check every mirrored issue, not just recently updated ones"
)
@jira_errors
@with_settings
def reconcile(settings: Settings, full: bool) -> int:
    """Apply Jira changes that webhooks missed."""
    if not _jira_configured(settings):
        return NO_JIRA
    click.echo(tracker_reconcile.reconcile(runtime.build(settings), full=full).summary())
    return 0


@sync.command()
@with_settings
def status(settings: Settings) -> int:
    """Count outbox rows and webhook deliveries by status; show the tracker's breaker."""
    counts = tracker_sync.status(runtime.build(settings))
    click.echo(
        "outbox:     " + (", ".join(f"{s} {n}" for s, n in counts.outbox.items()) or "empty")
    )
    deliveries = ", ".join(f"{s} {n}" for s, n in counts.deliveries.items())
    click.echo("deliveries: " + (deliveries or "none"))
    missing = ", ".join(f"{t} {n}" for t, n in counts.not_mirrored.items() if n)
    click.echo("not in Jira yet: " + (missing or "nothing"))
    if counts.tracker is not None:
        for line in _tracker_lines(counts.tracker):
            click.echo(line)
    return 0


def _tracker_lines(health: tracker_sync.TrackerHealth) -> list[str]:
    """What /healthz says under checks.tracker, for people."""
    state = "reachable" if health.reachable else "UNREACHABLE"
    lines = [f"tracker:    {state}, breaker {health.breaker}"]
    if health.since:
        lines.append(f"  unreachable since: {health.since}")
    if health.retry_at and not health.reachable:
        lines.append(f"  next probe at:     {health.retry_at}")
    if health.last_error:
        lines.append(f"  last error:        {' '.join(health.last_error.split())}")
    lines.append(f"  outbox waiting {health.waiting}, dead {health.dead}")
    return lines


def _jira_configured(settings: Settings) -> bool:
    if settings.jira_enabled:
        return True
    click.echo(
        "hindsight: no Jira configured (HINDSIGHT_JIRA_URL and HINDSIGHT_JIRA_PROJECT); "
        "actions live in Hindsight only, nothing to sync",
        err=True,
    )
    return False
