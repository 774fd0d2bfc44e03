"""`hindsight init-db`, `serve`, `worker` and `demo`: the database and the processes."""

from __future__ import annotations

import click

from app.db import upgrade
from app.demo import load_demo
from app.maintenance import start_sweeper
from app.settings import Settings
from app.worker import run_worker

from .common import host_option, port_option, with_settings


@click.command("init-db")
@with_settings
def init_db(settings: Settings) -> int:
    """Create or upgrade the database schema.

    Applies the Alembic migrations (SQLite or PostgreSQL).
    """
    upgrade(settings)
    click.echo(f"database ready: {settings.database_url}")
    return 0


@click.command()
@host_option
@port_option
@with_settings
def serve(settings: Settings, host: str | None, port: int | None) -> int:
    """Serve the API.

    The development server: use gunicorn in production.
    """
    return _serve(settings, host or settings.host, port or settings.port)


@click.command()
@click.argument("queues", nargs=-1, metavar="[QUEUE]...")
@click.option("--burst", is_flag=True, help="exit when the queues are empty")
@click.option("--fork", is_flag=True, help="run each job in a forked work horse (RQ's default)")
@with_settings
def worker(settings: Settings, queues: tuple[str, ...], burst: bool, fork: bool) -> int:
    """Run an RQ worker (needs HINDSIGHT_REDIS_URL).

    Listens on the QUEUEs named (default: sync, rules, reports, escalations
    and default) and sweeps stranded sync work. Jobs run in the worker's own
    process unless --fork is given (see app/worker.py for why).
    """
    return run_worker(settings, list(queues) or None, burst=burst, fork=fork)


@click.command()
@host_option
@port_option
@click.option("--no-serve", is_flag=True, help="stop after loading")
@with_settings
def demo(settings: Settings, host: str | None, port: int | None, no_serve: bool) -> int:
    """Load the six demo incidents (one per domain, plus a repeat), print a token, serve."""
    host, port = host or settings.host, port or settings.port
    click.echo(load_demo(settings).render(host, port))
    if no_serve:
        return 0
    return _serve(settings, host, port)


def _serve(settings: Settings, host: str, port: int) -> int:
    # Flask and werkzeug load here, not at the top: `init-db`, `worker` and
    # `demo --no-serve` never need them.
    from werkzeug.serving import run_simple

    from app.factory import create_app  # Flask, as above

    app = create_app(settings)
    stop_sweeper = None
    if not settings.redis_url:  # no worker to sweep: do it here
        stop_sweeper = start_sweeper(app.config["HINDSIGHT_RUNTIME"], settings.sync_sweep_seconds)
    click.echo(f"Hindsight API on http://{host}:{port}  (Ctrl-C to stop)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if stop_sweeper:
            stop_sweeper()
    return 0
