"""Engine, sessions and the unit of work.

Services own transactions through `UnitOfWork`; jobs requested during a
transaction are dispatched only after it commits (RQ's rule: never enqueue
work that refers to rows another process cannot see yet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from .settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


@dataclass(frozen=True)
class JobRequest:
    """A job function and ids: what RQ (or the background thread) executes.

    `func` is a module-level function (RQ stores it as `module.qualname` and
    imports it in the worker); `args` are ids and plain values, never rows.
    """

    func: Callable[..., Any]
    args: tuple[Any, ...]
    job_id: str
    queue: str = "default"


def make_engine(settings: Settings) -> Engine:
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Foreign keys are off by default in SQLite; WAL lets the API read while a job writes."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    if ":memory:" not in str(dbapi_conn):
        cur.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a crashed or
        # killed process loses nothing committed (only a power cut can lose the last
        # commits), and the database is never corrupted. SQLite's own recommendation.
        cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class Database:
    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass
class UnitOfWork:
    """One transaction; `commit()` then hands queued jobs to `dispatch`."""

    db: Database
    dispatch: Callable[[list[JobRequest]], None]
    session: Session = field(init=False)
    _jobs: dict[str, JobRequest] = field(default_factory=dict, init=False)

    def __enter__(self) -> UnitOfWork:
        self.session = self.db.sessions()
        self._jobs = {}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.session.in_transaction():
            self.session.rollback()
        self.session.close()

    def after_commit(self, job: JobRequest) -> None:
        """Same job id twice in one transaction runs once (deterministic ids)."""
        self._jobs.setdefault(job.job_id, job)

    def commit(self) -> None:
        self.session.commit()
        jobs, self._jobs = list(self._jobs.values()), {}
        if jobs:
            self.dispatch(jobs)

    def rollback(self) -> None:
        self.session.rollback()
        self._jobs = {}


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Apply Alembic migrations; `hindsight init-db` and the tests both call this."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", settings.sqlalchemy_url.replace("%", "%%"))
    command.upgrade(cfg, revision)
