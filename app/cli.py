"""The `hindsight` command. Each subcommand parses, calls one service, prints the result."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from .domain.errors import DomainError
from .settings import Settings, SettingsError, load_settings

Handler = Callable[[argparse.Namespace, Settings], int]
_COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _COMMANDS[name] = fn
        return fn

    return register


def _runtime(settings: Settings) -> Any:
    from . import runtime

    return runtime.build(settings)


@command("init-db")
def init_db(args: argparse.Namespace, settings: Settings) -> int:
    from .db import upgrade

    upgrade(settings)
    print(f"database ready: {settings.database_url}")
    return 0


@command("serve")
def serve(args: argparse.Namespace, settings: Settings) -> int:
    from werkzeug.serving import run_simple

    from .factory import create_app

    app = create_app(settings)
    stop_sweeper = None
    if not settings.redis_url:  # no worker to sweep: do it here
        from .maintenance import start_sweeper

        stop_sweeper = start_sweeper(app.config["HINDSIGHT_RUNTIME"], settings.sync_sweep_seconds)
    print(f"Hindsight API on http://{args.host}:{args.port}  (Ctrl-C to stop)")
    try:
        run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    finally:
        if stop_sweeper:
            stop_sweeper()
    return 0


@command("worker")
def worker(args: argparse.Namespace, settings: Settings) -> int:
    from .worker import run_worker

    return run_worker(settings, args.queues or None, burst=args.burst)


@command("demo")
def demo(args: argparse.Namespace, settings: Settings) -> int:
    from .demo import load_demo

    summary = load_demo(settings)
    print(summary.render(args.host, args.port))
    if args.no_serve:
        return 0
    return serve(args, settings)


@command("import")
def import_file(args: argparse.Namespace, settings: Settings) -> int:
    from .services.documents import import_document, parse_file

    key = import_document(_runtime(settings), parse_file(Path(args.file)), actor="cli")
    print(f"imported {args.file} as {key}")
    return 0


@command("export")
def export(args: argparse.Namespace, settings: Settings) -> int:
    """A document (for import elsewhere) or, with --archive or a period, a compliance zip."""
    from datetime import date

    rt = _runtime(settings)
    if args.archive is not None or args.start or args.end:
        from .services.exports import ExportScope, build_archive

        scope = ExportScope(
            key=args.key,
            start=date.fromisoformat(args.start) if args.start else None,
            end=date.fromisoformat(args.end) if args.end else None,
        )
        path = Path(args.archive or f"hindsight-{scope.describe().replace('..', '_')}.zip")
        path.write_bytes(build_archive(rt, scope, settings.export_signing_key))
        print(f"wrote {path}")
        return 0
    if not args.key:
        print("hindsight: export needs KEY, or --from and --to", file=sys.stderr)
        return 2
    from .services.documents import export_document

    doc = export_document(rt, args.key).model_dump(mode="json", exclude_none=True)
    text = (
        json.dumps(doc, indent=2) if args.format == "json" else yaml.safe_dump(doc, sort_keys=False)
    )
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


@command("verify")
def verify(args: argparse.Namespace, settings: Settings) -> int:
    from .services.exports import verify_archive

    check = verify_archive(Path(args.archive).read_bytes(), args.key or settings.export_signing_key)
    if check.ok:
        signed = ", signature checked" if check.signed else ""
        print(f"{args.archive}: intact ({check.files} files{signed})")
        return 0
    print(f"{args.archive}: NOT intact")
    for problem in check.problems:
        print(f"  {problem}")
    return 1


@command("verify-audit")
def verify_audit(args: argparse.Namespace, settings: Settings) -> int:
    from . import audit

    with _runtime(settings).db.sessions() as session:
        result = audit.verify(session)
    if result.ok:
        print(f"audit log intact: {result.checked} entries")
        return 0
    print(
        f"audit log BROKEN at entry {result.first_broken_seq}: {result.reason} "
        f"({result.checked} entries verified before it)"
    )
    return 1


@command("token")
def token(args: argparse.Namespace, settings: Settings) -> int:
    from .domain.vocabulary import Scope
    from .services.tokens import create_token

    secret = create_token(_runtime(settings), args.name, [Scope(s) for s in args.scope])
    print(secret)
    print("(shown once; store it now)", file=sys.stderr)
    return 0


def _need_jira(settings: Settings) -> bool:
    if settings.jira_enabled:
        return True
    print(
        "hindsight: no Jira configured (HINDSIGHT_JIRA_URL and HINDSIGHT_JIRA_PROJECT); "
        "actions live in Hindsight only, nothing to sync",
        file=sys.stderr,
    )
    return False


def sync_check(args: argparse.Namespace, settings: Settings) -> int:
    # Loaded per command, like every handler here: `hindsight lint` needs no database.
    from .services.tracker_sync import check

    if not _need_jira(settings):
        return 2
    report = check(_runtime(settings))
    print(report.render())
    return 0 if report.ok else 1


def sync_push(args: argparse.Namespace, settings: Settings) -> int:
    # Loaded per command, like every handler here: `hindsight lint` needs no database.
    from .services.tracker_sync import push_now

    if not _need_jira(settings):
        return 2
    result = push_now(_runtime(settings), backfill_first=args.backfill)
    if result.backfilled is not None:
        print(f"queued {result.backfilled} entities that have no Jira issue yet")
    print(result.report.summary())
    for error in result.report.errors[:20]:
        print(f"  {error}", file=sys.stderr)
    return 0 if not result.report.dead else 1


def sync_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    # Loaded per command, like every handler here: `hindsight lint` needs no database.
    from .services.tracker_reconcile import reconcile

    if not _need_jira(settings):
        return 2
    print(reconcile(_runtime(settings), full=args.full).summary())
    return 0


def sync_status(args: argparse.Namespace, settings: Settings) -> int:
    # Loaded per command, like every handler here: `hindsight lint` needs no database.
    from .services.tracker_sync import status

    counts = status(_runtime(settings))
    print("outbox:     " + (", ".join(f"{s} {n}" for s, n in counts.outbox.items()) or "empty"))
    print("deliveries: " + (", ".join(f"{s} {n}" for s, n in counts.deliveries.items()) or "none"))
    return 0


def _sync_commands(sub: Any) -> None:
    """`hindsight sync check|push|reconcile|status`."""
    p = sub.add_parser("sync", help="Jira sync: check the mapping, push the outbox, reconcile")
    ssub = p.add_subparsers(dest="sync_command", required=True)
    c = ssub.add_parser("check", help="validate config/jira.yaml against the live project")
    c.set_defaults(handler=sync_check)
    pu = ssub.add_parser("push", help="push every pending outbox row now")
    pu.add_argument(
        "--backfill",
        action="store_true",
        help="first queue every incident, postmortem and action not yet in Jira",
    )
    pu.set_defaults(handler=sync_push)
    r = ssub.add_parser("reconcile", help="apply Jira changes that webhooks missed")
    r.add_argument(
        "--full",
        action="store_true",
        help="check every mirrored issue, not just recently updated ones",
    )
    r.set_defaults(handler=sync_reconcile)
    st = ssub.add_parser("status", help="count outbox rows and webhook deliveries by status")
    st.set_defaults(handler=sync_status)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hindsight", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create or upgrade the database schema")
    for name in ("serve", "demo"):
        p = sub.add_parser(
            name,
            help="serve the API"
            if name == "serve"
            else "load the five demo incidents, print a token, serve the API",
        )
        p.add_argument("--host", default=None)
        p.add_argument("--port", type=int, default=None)
        if name == "demo":
            p.add_argument("--no-serve", action="store_true", help="stop after loading")
    w = sub.add_parser("worker", help="run an RQ worker (needs HINDSIGHT_REDIS_URL)")
    w.add_argument("queues", nargs="*")
    w.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    i = sub.add_parser("import", help="import an incident document (JSON or YAML)")
    i.add_argument("file")
    e = sub.add_parser("export", help="export an incident document, or a compliance archive")
    e.add_argument("key", nargs="?")
    e.add_argument(
        "--archive",
        nargs="?",
        const="",
        default=None,
        help="write a compliance zip (optionally to this path)",
    )
    e.add_argument("--from", dest="start", help="period start (YYYY-MM-DD), implies --archive")
    e.add_argument("--to", dest="end", help="period end (YYYY-MM-DD), implies --archive")
    e.add_argument("--format", choices=["yaml", "json"], default="yaml")
    e.add_argument("-o", "--output")
    sub.add_parser("verify-audit", help="check the audit log's hash chain")
    v = sub.add_parser("verify", help="check a compliance archive's manifest and files")
    v.add_argument("archive")
    v.add_argument("--key", help="signing key (default HINDSIGHT_EXPORT_SIGNING_KEY)")
    t = sub.add_parser("token", help="API tokens")
    tsub = t.add_subparsers(dest="token_command", required=True)
    tc = tsub.add_parser("create", help="create a token and print it once")
    tc.add_argument("--name", required=True)
    tc.add_argument("--scope", action="append", choices=["read", "write", "admin"], required=True)
    for extension in _extensions():
        extension(sub)
    return parser


def _extensions() -> list[Callable[[Any], None]]:
    """Subcommands added with `set_defaults(handler=fn)`, where `fn(args, settings) -> int`:
    the rules package's, and `sync` (here: the sync package sits below the services it
    would need to call)."""
    from .rules.cli import add_commands as rules_commands

    return [rules_commands, _sync_commands]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        if getattr(args, "host", "unset") is None:
            args.host = settings.host
        if getattr(args, "port", "unset") is None:
            args.port = settings.port
        handler: Handler = getattr(args, "handler", None) or _COMMANDS[args.command]
        return handler(args, settings)
    except SettingsError as exc:
        print(f"hindsight: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"hindsight: {exc.title}: {exc.detail}", file=sys.stderr)
        for err in exc.errors or []:
            print(f"  {'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
