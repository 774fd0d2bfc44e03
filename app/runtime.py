"""The process-wide wiring built from one Settings object.

`create_app` and the worker each build a Runtime at start; job functions
(which RQ imports by name and calls with ids only) reach it via `current()`.
Nothing here runs at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .db import Database, UnitOfWork
from .queue import InProcessQueue, JobQueue, RQQueue
from .settings import Settings


@dataclass
class Runtime:
    settings: Settings
    db: Database
    queue: JobQueue
    extras: dict[str, object] = field(default_factory=dict)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.queue.dispatch)

    def close(self) -> None:
        self.db.dispose()


_current: Runtime | None = None


def build(settings: Settings) -> Runtime:
    queue: JobQueue = RQQueue(settings.redis_url) if settings.redis_url else InProcessQueue()
    runtime = Runtime(settings=settings, db=Database(settings), queue=queue)
    activate(runtime)
    return runtime


def activate(runtime: Runtime) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no Hindsight runtime: call create_app() or start the worker first")
    return _current
