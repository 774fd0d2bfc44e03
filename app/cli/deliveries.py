"""`hindsight deliveries [--status S] [--source S]` and `hindsight deliveries replay ID`."""

from __future__ import annotations

import click

from app import runtime
from app.domain.vocabulary import DeliveryStatus
from app.schemas.deliveries import DeliveryQuery
from app.services import deliveries, inbox
from app.settings import Settings

from .common import with_settings


@click.group(invoke_without_command=True)
@click.option("--status", type=click.Choice([s.value for s in DeliveryStatus]))
@click.option("--source", help="jira, pagerduty, opsgenie, alertmanager or generic")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.pass_context
def deliveries_group(ctx: click.Context, status: str | None, source: str | None, limit: int) -> int:
    """Stored webhook deliveries, newest first, and how each one ended."""
    if ctx.invoked_subcommand is not None:
        return 0
    return _list(status, source, limit)


@with_settings
def _list(settings: Settings, status: str | None, source: str | None, limit: int) -> int:
    page = deliveries.list_deliveries(
        runtime.build(settings),
        DeliveryQuery(status=status, source=source, limit=limit),
    )
    for d in page.items:
        note = f"  {d.error}" if d.error else ""
        click.echo(
            f"{d.id:>6} {d.source:<12} {d.status:<10} tries={d.attempts} {d.delivery_id}{note}"
        )
    click.echo(f"{len(page.items)} of {page.total} deliveries")
    return 0


@deliveries_group.command()
@click.argument("delivery_id", type=click.IntRange(1, 2**31 - 1))
@with_settings
def replay(settings: Settings, delivery_id: int) -> int:
    """Run a failed or ignored delivery again, after a fix."""
    rt = runtime.build(settings)
    inbox.replay_delivery(rt, delivery_id)
    wait = getattr(rt.queue, "wait_idle", None)
    if wait is not None:
        wait(60)  # in-process jobs: let the replay run before the process ends
    click.echo(f"delivery {delivery_id} replayed")
    return 0
