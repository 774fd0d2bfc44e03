"""Where jobs run: RQ when a Redis URL is set, in-process right after commit otherwise."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from .db import JobRequest

log = logging.getLogger(__name__)

QUEUES = ("sync", "rules", "reports", "escalations", "default")


def resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    func: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return func


class JobQueue(Protocol):
    def dispatch(self, jobs: list[JobRequest]) -> None: ...

    def healthy(self) -> bool: ...

    @property
    def kind(self) -> str: ...


class InProcessQueue:
    """The embedded default: the job runs now, in this process, after the commit.

    A failing job is logged, not raised: the request that caused it has
    already committed, and the outbox / re-evaluation picks the work up again.
    State is per thread, because the development server and the tests serve
    requests from several threads at once.
    """

    kind = "in-process"

    def __init__(self) -> None:
        self._local = threading.local()

    def dispatch(self, jobs: list[JobRequest]) -> None:
        local = self._local
        pending: list[JobRequest] = local.__dict__.setdefault("pending", [])
        pending.extend(jobs)
        if local.__dict__.get("running"):
            return  # a job enqueued from inside a job runs when the outer one returns
        local.running = True
        try:
            while pending:
                job = pending.pop(0)
                try:
                    resolve(job.func)(*job.args)
                except Exception:
                    log.exception("in-process job %s failed", job.job_id)
        finally:
            local.running = False

    def healthy(self) -> bool:
        return True


class RQQueue:
    kind = "rq"

    def __init__(self, redis_url: str) -> None:
        from redis import Redis

        self.redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)

    def dispatch(self, jobs: list[JobRequest]) -> None:
        """Enqueue failures are logged: the outbox sweep re-enqueues what was lost."""
        from rq import Queue, Retry

        for job in jobs:
            try:
                Queue(job.queue, connection=self.redis).enqueue(
                    job.func,
                    *job.args,
                    job_id=job.job_id,
                    retry=Retry(max=3, interval=[5, 30, 120]),
                    failure_ttl=7 * 24 * 3600,
                )
            except Exception:
                log.exception("could not enqueue %s; the sweep will retry", job.job_id)

    def healthy(self) -> bool:
        try:
            return bool(self.redis.ping())
        except Exception:
            return False
