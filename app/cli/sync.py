"""`hindsight sync check|push|reconcile|status`: Jira sync by hand.

The functions these commands call (kept in one module so they can be
repointed in one place): `app.sync.connect.open_context`,
`app.sync.check.check_mapping`, `app.sync.service.backfill`,
`app.sync.service.drain`, `app.sync.reconcile.reconcile`; `status` counts
`OutboxItem` and `WebhookDelivery` rows by status itself.
"""

from __future__ import annotations

import click
from sqlalchemy import func, select

from app import runtime
from app.models import OutboxItem, WebhookDelivery
from app.settings import Settings
from app.sync.check import check_mapping
from app.sync.connect import open_context
from app.sync.reconcile import reconcile as reconcile_issues
from app.sync.service import backfill, drain

from .common import with_settings

NO_JIRA = 2  # exit status when there is nothing to sync with


@click.group()
def sync() -> None:
    """Jira sync: check the mapping, push the outbox, reconcile."""


@sync.command()
@with_settings
def check(settings: Settings) -> int:
    """Validate config/jira.yaml against the live project.

    Exit 1 naming every field the project would reject.
    """
    if not _jira_configured(settings):
        return NO_JIRA
    ctx = open_context(runtime.build(settings), refresh=True)
    try:
        report = check_mapping(ctx)
    finally:
        ctx.close()
    click.echo(report.render())
    return 0 if report.ok else 1


@sync.command()
@click.option(
    "--backfill",
    "queue_all",
    is_flag=True,
    help="first queue every incident, postmortem and action not yet in Jira",
)
@with_settings
def push(settings: Settings, queue_all: bool) -> int:
    """Push every pending outbox row now.

    Exit 1 if any row went to the dead letter.
    """
    if not _jira_configured(settings):
        return NO_JIRA
    rt = runtime.build(settings)
    if queue_all:
        click.echo(f"queued {backfill(rt)} entities that have no Jira issue yet")
    report = drain(rt, wait=True)
    click.echo(report.summary())
    for error in report.errors[:20]:
        click.echo(f"  {error}", err=True)
    return 0 if not report.dead else 1


@sync.command()
@click.option(
    "--full", is_flag=True, help="check every mirrored issue, not just recently updated ones"
)
@with_settings
def reconcile(settings: Settings, full: bool) -> int:
    """Apply Jira changes that webhooks missed."""
    if not _jira_configured(settings):
        return NO_JIRA
    click.echo(reconcile_issues(runtime.build(settings), full=full).summary())
    return 0


@sync.command()
@with_settings
def status(settings: Settings) -> int:
    """Count outbox rows and webhook deliveries by status."""
    with runtime.build(settings).db.sessions() as session:
        rows = session.execute(
            select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
        ).all()
        deliveries = session.execute(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        ).all()
    click.echo("outbox:     " + (", ".join(f"{s} {n}" for s, n in rows) or "empty"))
    click.echo("deliveries: " + (", ".join(f"{s} {n}" for s, n in deliveries) or "none"))
    return 0


def _jira_configured(settings: Settings) -> bool:
    if settings.jira_enabled:
        return True
    click.echo(
        "hindsight: no Jira configured (HINDSIGHT_JIRA_URL and HINDSIGHT_JIRA_PROJECT); "
        "actions live in Hindsight only, nothing to sync",
        err=True,
    )
    return False
