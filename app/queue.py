"""Where jobs run: RQ when a Redis URL is set, a background thread otherwise.

Either way a job runs after the transaction that asked for it has
committed, and never inside the request that caused it: a webhook or an API
write answers as soon as its own transaction commits. Work that must
survive a crash or a restart is never only in a queue: it is a row (an
outbox entry, a stored webhook delivery, a pending evaluation) that the
periodic sweep finds and dispatches again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus

from .db import JobRequest

log = logging.getLogger(__name__)

QUEUES = ("sync", "rules", "escalations", "notify", "reports", "default")  # every JobRequest.queue
_WAITING = {JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


class JobQueue(Protocol):
    def dispatch(self, jobs: list[JobRequest]) -> None: ...

    def dispatch_soon(self, jobs: list[JobRequest]) -> None: ...

    def healthy(self) -> bool: ...

    def bind(self, activate: Callable[[], None]) -> None: ...

    def close(self) -> None: ...

    @property
    def kind(self) -> str: ...


class BackgroundQueue:
    """The embedded default: one daemon thread runs jobs in order, after commit.

    Jobs coalesce by id: a job already waiting is not queued twice (a burst of
    writes to one incident evaluates it once), while a job that is running
    when it is asked for again runs once more afterwards, since it may have
    read the state before the latest write. A failing job is logged, not
    raised: the rows it was working from are still there for the sweep.
    `pause()` holds jobs (tests use it to show a request answers first);
    `wait_idle()` blocks until nothing is waiting or running.

    Background work yields to requests: the web app reports each request's start
    and end, and a job waits for a quiet moment (no request in flight for
    `quiet` seconds) before it starts, for at most `max_delay` seconds after it was
    asked for. Python threads share one interpreter lock, so an evaluation running
    beside a request would otherwise slow that request down; the bound keeps
    findings fresh under sustained load.
    """

    kind = "in-process"

    def __init__(self, *, quiet: float = 0.02, max_delay: float = 2.0) -> None:
        self._cv = threading.Condition()
        self._pending: dict[str, JobRequest] = {}
        self._asked: dict[str, float] = {}
        self._quiet, self._max_delay = quiet, max_delay
        self._in_flight = 0
        self._last_request = 0.0
        self._busy = False
        self._paused = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._activate: Callable[[], None] = lambda: None

    def bind(self, activate: Callable[[], None]) -> None:
        """Called before each job, so job functions find their runtime through `current()`."""
        self._activate = activate

    def dispatch(self, jobs: list[JobRequest]) -> None:
        with self._cv:
            if self._closed:
                log.warning("queue closed; %d job(s) left for the sweep", len(jobs))
                return
            for job in jobs:
                if job.job_id not in self._pending:
                    self._pending[job.job_id] = job
                    self._asked[job.job_id] = time.monotonic()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="hindsight-jobs", daemon=True
                )
                self._thread.start()
            if not self._paused:  # a paused thread would only wake to wait again
                self._cv.notify_all()

    def dispatch_soon(self, jobs: list[JobRequest]) -> None:
        """Queueing here is already a dictionary insert: the same as `dispatch`."""
        self.dispatch(jobs)

    def _next(self) -> JobRequest | None:
        with self._cv:
            while not self._closed and (self._paused or not self._pending):
                self._cv.wait()
            if self._closed:
                return None
            job_id = next(iter(self._pending))
            self._busy = True
            return self._pending.pop(job_id)

    def request_started(self) -> None:
        with self._cv:
            self._in_flight += 1

    def request_finished(self) -> None:
        with self._cv:
            self._in_flight -= 1
            self._last_request = time.monotonic()

    def _yield_to_requests(self, asked: float) -> None:
        while True:
            now = time.monotonic()
            with self._cv:
                quiet = self._in_flight == 0 and now - self._last_request >= self._quiet
            if quiet or now - asked >= self._max_delay or self._closed:
                return
            time.sleep(self._quiet / 2)

    def _run(self) -> None:
        while (job := self._next()) is not None:
            self._yield_to_requests(self._asked.pop(job.job_id, 0.0))
            try:
                self._activate()
                job.func(*job.args)
            except Exception:
                log.exception("background job %s failed; the sweep will pick it up", job.job_id)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()

    def pause(self) -> None:
        with self._cv:
            self._paused = True

    def resume(self) -> None:
        with self._cv:
            self._paused = False
            self._cv.notify_all()

    @property
    def pending(self) -> int:
        with self._cv:
            return len(self._pending) + (1 if self._busy else 0)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """True once no job is waiting or running (False on timeout, or while paused)."""
        with self._cv:
            return self._cv.wait_for(
                lambda: self._closed or (not self._pending and not self._busy), timeout
            )

    def healthy(self) -> bool:
        return not self._closed

    def close(self, timeout: float = 10.0) -> None:
        """Let the running job finish; what is still waiting stays in its rows for the sweep."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)


class RQQueue:
    """Redis and RQ: a job is enqueued by function reference with a deterministic id.

    Retrying is not RQ's job here: each job's work lives in rows with their
    own attempt counts and back-off (outbox, deliveries, pending
    evaluations), and the sweep re-dispatches what is due. One retry layer
    per concern, so a Jira outage is not retried three ways at once.
    """

    kind = "rq"

    def __init__(self, redis_url: str) -> None:
        self.redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self._soon: list[JobRequest] = []
        self._soon_cv = threading.Condition()
        self._soon_thread: threading.Thread | None = None
        self._closed = False

    def dispatch_soon(self, jobs: list[JobRequest]) -> None:
        """Enqueue from this process's dispatcher thread: the caller does not wait on Redis.

        For work whose rows are committed and found again by the sweep when a job is
        lost (a stored webhook delivery): the webhook answers once its row is stored,
        and the two or three Redis round trips of an enqueue leave its path. A process
        that dies with jobs still here loses only the jobs, never the rows.
        """
        with self._soon_cv:
            if self._closed:
                log.warning("queue closed; %d job(s) left for the sweep", len(jobs))
                return
            self._soon.extend(jobs)
            if self._soon_thread is None or not self._soon_thread.is_alive():
                self._soon_thread = threading.Thread(
                    target=self._dispatch_loop, name="hindsight-enqueue", daemon=True
                )
                self._soon_thread.start()
            self._soon_cv.notify()

    def _dispatch_loop(self) -> None:
        while True:
            with self._soon_cv:
                self._soon_cv.wait_for(lambda: self._soon or self._closed)
                batch, self._soon = self._soon, []
                if not batch and self._closed:
                    return
            self.dispatch(batch)

    def bind(self, activate: Callable[[], None]) -> None:
        """The worker activates its runtime in each work horse; nothing to do here."""

    def dispatch(self, jobs: list[JobRequest]) -> None:
        """Enqueue, coalescing by job id; failures are logged: the sweep re-enqueues.

        Two round trips for the whole batch, however many jobs: one pipeline reads
        every candidate id's status, one enqueues them all (`Queue.enqueue_many`).
        """
        wanted = list({job.job_id: job for job in jobs}.values())
        if not wanted:
            return
        try:
            chosen = self._coalesced_ids([job.job_id for job in wanted])
            with self.redis.pipeline() as pipe:
                for name in dict.fromkeys(job.queue for job in wanted):
                    data = [
                        Queue.prepare_data(
                            job.func, job.args, job_id=job_id, failure_ttl=7 * 24 * 3600
                        )
                        for job, job_id in zip(wanted, chosen, strict=True)
                        if job.queue == name and job_id is not None
                    ]
                    if data:
                        Queue(name, connection=self.redis).enqueue_many(data, pipeline=pipe)
                pipe.execute()
        except Exception:
            ids = ", ".join(job.job_id for job in wanted[:5])
            log.exception("could not enqueue %s; the sweep will retry", ids)

    def _coalesced_ids(self, job_ids: list[str]) -> list[str | None]:
        """The id to enqueue each job under, or None when the same job is already waiting.

        One waiting copy per id is enough (it will read the latest rows when it
        runs); a job that is running now may have read them too early, so it gets
        one follow-up copy under a second id, itself coalesced. The stored status
        field is all that is read (`Job.fetch(...).get_status()` reads the whole job
        and then its status again).
        """
        with self.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hget(Job.key_for(job_id), "status")
                pipe.hget(Job.key_for(f"{job_id}-again"), "status")
            stored = pipe.execute()
        return [
            _choose(job_id, stored[2 * i], stored[2 * i + 1]) for i, job_id in enumerate(job_ids)
        ]

    def healthy(self) -> bool:
        try:
            return bool(self.redis.ping())
        except Exception:
            return False

    def close(self) -> None:
        """Hand what the dispatcher thread still holds to Redis, then disconnect."""
        with self._soon_cv:
            self._closed = True
            self._soon_cv.notify()
            thread = self._soon_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)
        with self._soon_cv:
            left, self._soon = self._soon, []
        if left:
            self.dispatch(left)
        self.redis.close()


def _status(stored: object) -> JobStatus | None:
    if not stored:
        return None
    return JobStatus(stored.decode() if isinstance(stored, bytes) else str(stored))


def _choose(job_id: str, first: object, again: object) -> str | None:
    """The first of (id, id-again) that is free or finished; None while a copy waits."""
    for candidate, stored in ((job_id, first), (f"{job_id}-again", again)):
        status = _status(stored)
        if status is None:
            return candidate
        if status in _WAITING:
            return None
        if status != JobStatus.STARTED:
            return candidate
    return None
