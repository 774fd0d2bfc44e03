"""The RQ worker: every queue in app.queue.QUEUES (sync, rules, escalations, notify, reports,
default).

Jobs run in the worker's own process by default (RQ's `SimpleWorker`), on the
runtime and connection pool built once at start. RQ's default forks a work horse
per job, and that fork, a fresh database connection in every horse and the
rules engine re-registering its rulesets after each fork cost far more than an
evaluation itself: with one worker, one minute of writes left five minutes of
queued evaluations. In-process is safe here because no job keeps state between
runs beyond the runtime's parsed configuration (which the fork inherited
anyway), every job opens and closes its own sessions, and a job's timeout still
holds (RQ's death penalty is a SIGALRM in the worker's main thread). What a fork
bought is isolation from a job that crashes the interpreter; such a crash now
stops the worker, whose supervisor restarts it, and the work is still in its rows
(pending evaluations, outbox, deliveries) for the sweep. `hindsight worker --fork`
keeps RQ's forking worker for whoever prefers that isolation.
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


def run_worker(
    settings: Settings,
    queues: list[str] | None = None,
    *,
    burst: bool = False,
    fork: bool = False,
) -> int:
    from redis import Redis  # redis and rq are needed only when a worker runs

    if not settings.redis_url:
        log.error("HINDSIGHT_REDIS_URL is not set: jobs run in-process, no worker needed")
        return 2
    rt = runtime.build(settings)
    warm_up(rt)  # a bad policy.yaml or catalog stops the worker before it takes a job
    schedule.check(rt)
    connection = Redis.from_url(settings.redis_url)
    sweep_every = settings.sync_sweep_seconds
    worker = worker_class(rt, fork=fork)(
        queues or list(QUEUES),
        connection=connection,
        maintenance_interval=sweep_every,
        worker_ttl=sweep_every + 15,  # an idle worker wakes every `sweep_every` s to sweep
    )
    logging.basicConfig(level=logging.INFO)
    worker.work(burst=burst, with_scheduler=True)
    return 0


def worker_class(rt: runtime.Runtime, *, fork: bool) -> type[Any]:
    """RQ's in-process worker (the default) or its forking one, both sweeping on RQ's timer."""
    from rq import SimpleWorker, Worker

    class InProcessWorker(_PromptStop, SimpleWorker):
        def run_maintenance_tasks(self) -> None:
            """RQ's periodic hook (also run at start): re-enqueue stranded work."""
            super().run_maintenance_tasks()
            _sync_sweep(rt)

    class ForkingWorker(_PromptStop, Worker):
        """Each job in a forked horse, which must not reuse the parent's connections."""

        def main_work_horse(self, *args: Any, **kwargs: Any) -> None:
            rt.db.engine.dispose(close=False)
            runtime.activate(rt)
            super().main_work_horse(*args, **kwargs)

        def run_maintenance_tasks(self) -> None:
            super().run_maintenance_tasks()
            _sync_sweep(rt)

    return ForkingWorker if fork else InProcessWorker


class _PromptStop:
    """A warm shutdown that ends within about a second of the last job, not a minute.

    RQ listens for commands on a pub/sub thread that polls every 60 s, and at shutdown it
    unsubscribes, then stops that thread; since redis-py 8.2 `stop()` waits for the thread,
    which, once unsubscribed, sleeps out its poll: a SIGTERM took up to 60 s to end an idle
    worker, past a supervisor's grace period (and the two-worker test's 30 s). The same
    subscription with a 1 s poll; the commands it carries (stop a job, shut down) are rare,
    so the extra wake-ups cost nothing measurable.
    """

    connection: Any
    pubsub: Any
    pubsub_thread: Any
    pubsub_channel_name: str
    log: logging.Logger

    def subscribe(self) -> None:
        self.log.info("Worker subscribing to channel %s", self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})  # type: ignore[attr-defined]
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,  # type: ignore[attr-defined]  # RQ's own
        )


def _sync_sweep(rt: runtime.Runtime) -> None:
    """Never let a database hiccup in the sweep stop the worker loop."""
    try:
        sweep(rt)
    except Exception:
        log.exception("sync sweep failed; trying again at the next interval")
