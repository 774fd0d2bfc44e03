"""The RQ worker: every queue in app.queue.QUEUES (sync, rules, escalations, notify, reports,
default).

RQ forks a work horse per job; the forked child must not reuse the parent's
database connections, so the pool is reset in the child before the job runs.
"""

from __future__ import annotations

import logging
from typing import Any

from . import runtime
from .queue import QUEUES
from .services import schedule
from .services.evaluation import warm_up
from .services.sweep import sweep
from .settings import Settings

log = logging.getLogger(__name__)


def run_worker(settings: Settings, queues: list[str] | None = None, *, burst: bool = False) -> int:
    from redis import Redis  # redis and rq are needed only when a worker runs
    from rq import Worker

    if not settings.redis_url:
        log.error("HINDSIGHT_REDIS_URL is not set: jobs run in-process, no worker needed")
        return 2
    rt = runtime.build(settings)
    warm_up(rt)  # a bad policy.yaml or catalog stops the worker before it takes a job
    schedule.check(rt)
    connection = Redis.from_url(settings.redis_url)

    class HindsightWorker(Worker):
        def main_work_horse(self, *args: Any, **kwargs: Any) -> None:
            rt.db.engine.dispose(close=False)
            runtime.activate(rt)
            super().main_work_horse(*args, **kwargs)

        def run_maintenance_tasks(self) -> None:
            """RQ's periodic hook (also run at start): re-enqueue stranded sync work."""
            super().run_maintenance_tasks()
            _sync_sweep(rt)

    sweep_every = settings.sync_sweep_seconds
    worker = HindsightWorker(
        queues or list(QUEUES),
        connection=connection,
        maintenance_interval=sweep_every,
        worker_ttl=sweep_every + 15,  # an idle worker wakes every `sweep_every` s to sweep
    )
    logging.basicConfig(level=logging.INFO)
    worker.work(burst=burst, with_scheduler=True)
    return 0


def _sync_sweep(rt: runtime.Runtime) -> None:
    """Never let a database hiccup in the sweep stop the worker loop."""
    try:
        sweep(rt)
    except Exception:
        log.exception("sync sweep failed; trying again at the next interval")
