"""gunicorn settings for the Docker image (gunicorn reads ./gunicorn.conf.py by itself).

Prometheus multiprocess mode: each worker writes its counters to files in
PROMETHEUS_MULTIPROC_DIR and every scrape sums them, so /metrics answers the
same totals whichever worker takes the request. The directory is emptied at
start (stale files from a previous run would be summed too) and a dead
worker's live gauges are dropped.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# Threads per worker (gunicorn runs the gthread worker when this is above 1): a webhook
# or API request mostly waits on the database's commit, so a worker serves others while
# one waits, instead of one request per process. The app is thread-safe (a session per
# request, the runtime shared read-only), as it already is under `hindsight serve`.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
accesslog = "-"


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    """With no Redis there is no `hindsight worker`: each gunicorn worker sweeps itself.

    Stored deliveries whose job was lost, due outbox rows and requested evaluations
    resume on their own, as they do under `hindsight serve`; claims are atomic, so
    several workers sweeping at once never apply anything twice.
    """
    app = getattr(worker, "wsgi", None)
    runtime = getattr(app, "config", {}).get("HINDSIGHT_RUNTIME")
    if runtime is None or runtime.settings.redis_url:
        return
    from app.maintenance import start_sweeper

    start_sweeper(runtime, runtime.settings.sync_sweep_seconds)
