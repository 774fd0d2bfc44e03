"""`hindsight sync check|push|reconcile|status`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.settings import Settings


def _runtime(settings: Settings) -> Any:
    from app import runtime

    return runtime.build(settings)


def _need_jira(settings: Settings) -> bool:
    if settings.jira_enabled:
        return True
    print("hindsight: no Jira configured (HINDSIGHT_JIRA_URL and HINDSIGHT_JIRA_PROJECT); "
          "actions live in Hindsight only, nothing to sync", file=sys.stderr)
    return False


def check(args: argparse.Namespace, settings: Settings) -> int:
    from .check import check_mapping
    from .connect import open_context

    if not _need_jira(settings):
        return 2
    ctx = open_context(_runtime(settings), refresh=True)
    try:
        report = check_mapping(ctx)
    finally:
        ctx.close()
    print(report.render())
    return 0 if report.ok else 1


def push(args: argparse.Namespace, settings: Settings) -> int:
    from .service import backfill, drain

    if not _need_jira(settings):
        return 2
    rt = _runtime(settings)
    if args.backfill:
        print(f"queued {backfill(rt)} entities that have no Jira issue yet")
    report = drain(rt, wait=True)
    print(report.summary())
    for error in report.errors[:20]:
        print(f"  {error}", file=sys.stderr)
    return 0 if not report.dead else 1


def reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from .reconcile import reconcile as run

    if not _need_jira(settings):
        return 2
    report = run(_runtime(settings), full=args.full)
    print(report.summary())
    return 0


def status(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import func, select

    from app.models import OutboxItem, WebhookDelivery

    rt = _runtime(settings)
    with rt.db.sessions() as session:
        rows = session.execute(
            select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all()
        deliveries = session.execute(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)).all()
    print("outbox:     " + (", ".join(f"{s} {n}" for s, n in rows) or "empty"))
    print("deliveries: " + (", ".join(f"{s} {n}" for s, n in deliveries) or "none"))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("sync", help="Jira sync: check the mapping, push the outbox, reconcile")
    ssub = p.add_subparsers(dest="sync_command", required=True)
    c = ssub.add_parser("check", help="validate config/jira.yaml against the live project")
    c.set_defaults(handler=check)
    pu = ssub.add_parser("push", help="push every pending outbox row now")
    pu.add_argument("--backfill", action="store_true",
                    help="first queue every incident, postmortem and action not yet in Jira")
    pu.set_defaults(handler=push)
    r = ssub.add_parser("reconcile", help="apply Jira changes that webhooks missed")
    r.add_argument("--full", action="store_true",
                   help="check every mirrored issue, not just recently updated ones")
    r.set_defaults(handler=reconcile)
    st = ssub.add_parser("status", help="count outbox rows and webhook deliveries by status")
    st.set_defaults(handler=status)
