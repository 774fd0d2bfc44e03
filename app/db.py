"""Engine, sessions and the unit of work.

Services own transactions through `UnitOfWork`; jobs requested during a
transaction are dispatched only after it commits (RQ's rule: never enqueue
work that refers to rows another process cannot see yet).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from .settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def conflict_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's `insert` that offers ON CONFLICT (PostgreSQL and SQLite both do).

    Writers that must not collide on a key (deliveries, notifications, sync state) use one
    INSERT ... ON CONFLICT statement instead of read-then-insert, which two workers can race.
    """
    return sqlite_insert if dialect == "sqlite" else pg_insert


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
    engine = create_engine(url, pool_size=5, max_overflow=10)
    event.listen(engine, "checkin", _note_idle)
    event.listen(engine, "checkout", _ping_if_idle(engine))
    return engine


# A connection handed back less than this long ago is used without a ping. `pool_pre_ping`
# pings on every checkout: one more round trip for every request and job, the largest
# single cost of a stored webhook delivery. A connection that sat in the pool longer (where
# a database restart or an idle timeout would have killed it) is pinged, and a dead one is
# replaced before anyone uses it, as with pre-ping; one used moments ago is alive unless the
# server went away in those moments, and then the error invalidates the pool's connections.
PING_AFTER_IDLE_SECONDS = 5.0


def _note_idle(_dbapi_conn: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Callable[[Any, Any, Any], None]:
    def ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool retries the checkout on a fresh connection
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc

    return ping


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

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection whose every statement commits on its own, for a one-statement write.

        BEGIN and COMMIT are each a round trip on PostgreSQL; a single INSERT in autocommit
        is as atomic and as durable in one. When the sessions are bound to a connection
        rather than to the engine (a caller holding an outer transaction, as the tests'
        rolled-back fixture does), the statement runs in a transaction of a session from
        them instead, so it lands where every other write does.
        """
        bind = self.sessions.kw.get("bind")
        if isinstance(bind, Engine):
            with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                yield conn
            return
        with self.sessions() as session, session.begin():
            yield session.connection()


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


def upgrade(settings: Settings, revision: str = "head", *, down: bool = False) -> None:
    """Apply Alembic migrations; `hindsight init-db` and the tests both call this.

    `down=True` goes back down to `revision` instead (the migration tests check that
    each revision can be undone).
    """
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", settings.sqlalchemy_url.replace("%", "%%"))
    (command.downgrade if down else command.upgrade)(cfg, revision)
