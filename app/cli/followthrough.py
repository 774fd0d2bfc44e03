"""`hindsight schedule`, `hindsight escalations`, `hindsight notifications [retry ID]`."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from app import runtime
from app.models import ScheduleRun
from app.schemas.followthrough import EscalationQuery
from app.services import escalation_reads, notifications
from app.services import schedule as scheduled
from app.settings import Settings

from .common import with_settings


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else "-"


def _every(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s" if seconds else "off"


def _run_line(run: ScheduleRun) -> str:
    note = run.error or run.summary or ""
    return f"{run.job:<16} slot {_when(run.slot)}  {run.outcome:<8} {note}"


@click.command()
@click.option("--failures", type=click.IntRange(0, 500), default=10, show_default=True)
@with_settings
def schedule(settings: Settings, failures: int) -> int:
    """What runs when, when each job last ran, and the latest failed runs.

    Exit 1 when the latest run of any job failed or was lost.
    """
    rt = runtime.build(settings)
    rows = scheduled.status(rt)
    bad = False
    click.echo(f"{'job':<16} {'every':<6} {'queue':<12} last run (UTC)       outcome")
    for s in rows:
        last = s.last
        every = _every(s.every_seconds) if s.enabled else "off"
        outcome = last.outcome if last else "never run"
        bad |= outcome in ("failed", "lost")
        finished = _when(last.finished_at or last.started_at) if last else "-"
        click.echo(f"{s.name:<16} {every:<6} {s.queue:<12} {finished:<20} {outcome}")
    failed = scheduled.runs(rt, failed_only=True, limit=failures) if failures else []
    if failed:
        click.echo("failed runs:")
        for run in failed:
            click.echo(f"  {_run_line(run)}")
    click.echo(f"now {_when(datetime.now(UTC))} UTC")
    return 1 if bad else 0


@click.command()
@click.option("--team")
@click.option("--level", type=click.IntRange(0, 100), help="0 is the reminder")
@click.option("--open/--closed", "is_open", default=None, help="only actions still open (or not)")
@click.option("--action", help="one action's steps, by key")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@with_settings
def escalations(
    settings: Settings,
    team: str | None,
    level: int | None,
    is_open: bool | None,
    action: str | None,
    limit: int,
) -> int:
    """Reminders and escalation steps, newest first, with each channel's result."""
    query = EscalationQuery(team=team, level=level, open=is_open, action=action, limit=limit)
    items, total = escalation_reads.list_escalations(runtime.build(settings), query)
    for e in items:
        channels = ", ".join(f"{c.channel}:{c.status}" for c in e.channels) or "no channel"
        click.echo(
            f"{_when(e.at)} {e.action:<10} L{e.level} {e.rung:<9} to {e.to or '-'} "
            f"[{e.team or '-'}] {e.why} ({channels})"
        )
    click.echo(f"{len(items)} of {total} escalation step(s)")
    return 0


@click.group(invoke_without_command=True)
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "dead"]))
@click.option("--dead", is_flag=True, help="the dead letter (same as --status dead)")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.pass_context
def notifications_group(ctx: click.Context, status: str | None, dead: bool, limit: int) -> int:
    """The notification outbox, newest first; --dead shows what could not be delivered."""
    if ctx.invoked_subcommand is not None:
        return 0
    return _list("dead" if dead else status, limit)


@with_settings
def _list(settings: Settings, status: str | None, limit: int) -> int:
    rows, total = notifications.list_notifications(
        runtime.build(settings), status=status, limit=limit
    )
    for n in rows:
        note = f"  {n.last_error}" if n.last_error and n.status != "sent" else ""
        click.echo(
            f"{n.id:>6} {n.status:<8} {n.channel:<12} {n.recipient:<28} tries={n.attempts} "
            f"{n.subject}{note}"
        )
    click.echo(f"{len(rows)} of {total} notification(s)")
    return 0


@notifications_group.command()
@click.argument("notification_id", type=click.IntRange(1, 2**31 - 1))
@with_settings
def retry(settings: Settings, notification_id: int) -> int:
    """Send a dead-lettered notification again (after fixing the channel)."""
    rt = runtime.build(settings)
    notifications.retry(rt, notification_id)
    wait = getattr(rt.queue, "wait_idle", None)
    if wait is not None:
        wait(60)  # in-process jobs: let the delivery run before the process ends
    click.echo(f"notification {notification_id} queued again")
    return 0
