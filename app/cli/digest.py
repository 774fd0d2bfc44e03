"""`hindsight digest`: the learning digest of a period, printed (or sent with --send)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from app import runtime
from app.services.digest import build_digest, render_digest, send_digest
from app.settings import Settings

from .common import with_settings

DATE = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"])


@click.command()
@click.option("--since", type=DATE, help="start of the period, UTC (default: 7 days ago)")
@click.option("--until", type=DATE, help="end of the period, UTC, exclusive (default: now)")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--send", is_flag=True, help="send the last 7 days' digest to every team now")
@with_settings
def digest(
    settings: Settings, since: datetime | None, until: datetime | None, fmt: str, send: bool
) -> int:
    """Published postmortems, recurring categories, ineffective and overdue actions."""
    now = datetime.now(UTC)
    rt = runtime.build(settings)
    if send:
        click.echo(send_digest(rt, now))
        return 0
    end = until.replace(tzinfo=UTC) if until else now
    start = since.replace(tzinfo=UTC) if since else end - timedelta(days=7)
    if start >= end:
        raise click.UsageError("--since must be before --until")
    click.echo(render_digest(build_digest(rt, since=start, until=end, now=now), fmt), nl=False)
    return 0
