"""The process-wide wiring built from one Settings object.

`create_app` and the worker each build a Runtime at start; job functions
(which RQ imports by reference and calls with ids only) reach it via
`current()`. Parsed configuration (policy, catalog, Jira mapping) is read
once per runtime and kept in typed fields, so a webhook does not parse the
same YAML three times. Nothing here runs at import time.

The runtime sits with the services: services take it as their first
argument; the layers below (rules, sync, webhooks parsers) are handed the
plain values they need instead, so they never reach back up for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from .catalog import Catalog, load_catalog
from .db import Database, UnitOfWork
from .queue import BackgroundQueue, JobQueue, RQQueue
from .rules.policy import Policy, load_policy
from .settings import Settings
from .sync.mapping import JiraMapping, load_mapping

if TYPE_CHECKING:
    from .domain.people import Principal


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class Runtime:
    settings: Settings
    db: Database
    queue: JobQueue
    bootstrap_tokens: dict[str, Principal] = field(default_factory=dict)
    # What time it is for token expiry and waiver lapse; tests pass a clock instead of waiting.
    clock: Callable[[], datetime] = _utcnow

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.settings.config_dir)

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.settings.config_dir)

    @cached_property
    def jira_mapping(self) -> JiraMapping:
        return load_mapping(self.settings.config_dir, self.settings.jira_project)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.queue.dispatch)

    def close(self) -> None:
        self.queue.close()
        self.db.dispose()


_current: Runtime | None = None


def build(settings: Settings) -> Runtime:
    """The runtime for this process; with no Redis, jobs run on a background thread."""
    queue: JobQueue = RQQueue(settings.redis_url) if settings.redis_url else BackgroundQueue()
    runtime = Runtime(settings=settings, db=Database(settings), queue=queue)
    queue.bind(lambda: activate(runtime))
    activate(runtime)
    return runtime


def activate(runtime: Runtime) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no Hindsight runtime: call create_app() or start the worker first")
    return _current
