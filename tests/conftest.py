"""Shared fixtures: real PostgreSQL, real Redis, real SQLite files.

Tests that need a service run whenever it is reachable; when CI=true and it
is not, they fail instead of skipping, so a broken CI machine cannot pass
by running nothing.

Every database fixture runs its test once per backend in
HINDSIGHT_TEST_BACKENDS (the `backend` parameter). There are two kinds:

* `app`, `api`, `rt`, `settings`: one app (and runtime) per backend for the
  whole session, on a database migrated once and never committed to. Each
  test runs in one outer transaction on one connection that every session
  of the runtime joins with a SAVEPOINT (SQLAlchemy's "Joining a Session
  into an External Transaction"); the outer transaction is rolled back at
  the end, and the test fails if anything was committed around it.
  Request thread, job thread and any thread a test starts take turns on
  that connection (`ConnectionTurns` checks every statement). Runtime
  state a test changes (`rt.policy`, `rt.settings`, `bootstrap_tokens`, ...)
  is put back afterwards.
* `committed_database_url` (and `committed_settings`, `committed_app`,
  `committed_api`, `committed_rt`): a second database per backend, emptied
  before each test, for tests whose writes must really be committed: other
  connections or processes (the CLI, RQ workers, `hindsight` subprocesses,
  `create_app` with settings of their own) or threads that must really run
  at the same time. `database_url` is its old name (tests/integration/sync
  and tests/e2e use it).
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from app import create_app
from app.db import make_engine, upgrade
from app.queue import BackgroundQueue
from app.runtime import Runtime, activate
from app.settings import Settings

PG_ADMIN_URL = os.environ.get(
    "HINDSIGHT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _redis_url() -> str:
    """The Redis database the tests may empty: one per pytest-xdist worker (gw0 takes the
    configured number, gw1 the one below it, ...), so parallel workers never flush each
    other's queues."""
    url = os.environ.get("HINDSIGHT_TEST_REDIS", "redis://127.0.0.1:6379/15")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, number = url.rpartition("/")
    return f"{base}/{int(number or 0) - int(worker[2:])}"


REDIS_URL = _redis_url()
BACKENDS = os.environ.get("HINDSIGHT_TEST_BACKENDS", "sqlite,postgresql").split(",")

ADMIN_TOKEN = "admin-token-0123456789abcdef"
WRITE_TOKEN = "write-token-0123456789abcdef"
READ_TOKEN = "read-token-0123456789abcdef0"
BOOTSTRAP = f"ci-admin:admin:{ADMIN_TOKEN},ci-write:write:{WRITE_TOKEN},ci-read:read:{READ_TOKEN}"
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
GENESIS = "0" * 64
# Files Hindsight keeps outside the database (signing key, checkpoints, evidence): one fresh
# directory per app and per test under this root, so no test sees another's checkpoints.
DATA_ROOT = Path(tempfile.mkdtemp(prefix="hindsight-test-data-"))
atexit.register(shutil.rmtree, DATA_ROOT, True)
# The CLI run in-process or as a subprocess reads HINDSIGHT_DATA_DIR: never the work tree.
os.environ.setdefault("HINDSIGHT_DATA_DIR", str(DATA_ROOT / "cli"))


def fresh_data_dir() -> Path:
    return Path(tempfile.mkdtemp(dir=DATA_ROOT))


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: services are required)")
    pytest.skip(message)


# --------------------------------------------------------------------------------------------
# Databases: one throwaway database per backend and kind per test session, migrated once
# --------------------------------------------------------------------------------------------


def _postgresql(tag: str, *settings: str) -> Iterator[str]:
    need_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"hindsight_test_{uuid.uuid4().hex[:8]}_{tag}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        for setting in settings:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" SET {setting}'))
    url = (PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}").replace("+psycopg", "")
    upgrade(Settings(database_url=url))
    yield url
    with admin.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _sqlite(factory: pytest.TempPathFactory, tag: str) -> str:
    url = f"sqlite:///{factory.mktemp(tag) / 'hindsight.db'}"
    upgrade(Settings(database_url=url))
    return url


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[str]:
    """The database the shared app runs on: every test's writes are rolled back.

    Only the test's own connection writes here, so nothing ever waits for a lock;
    a second connection that does (a CLI or worker pointed here by mistake, held up
    by the test's uncommitted audit head) fails after 20 s instead of hanging.
    """
    yield from _postgresql("rb", "lock_timeout = '20s'")


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _sqlite(tmp_path_factory, "db")


@pytest.fixture(scope="session")
def postgresql_committed_database() -> Iterator[str]:
    """The database for tests that commit for real; emptied before each of them."""
    yield from _postgresql("c")


@pytest.fixture(scope="session")
def sqlite_committed_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _sqlite(tmp_path_factory, "committed")


def _wipe(url: str) -> None:
    """Empty every table between tests, keeping the migrated schema."""
    engine = sa.create_engine(Settings(database_url=url).sqlalchemy_url)
    tables = [t for t in sa.inspect(engine).get_table_names() if t != "alembic_version"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(sa.text("PRAGMA foreign_keys=OFF"))
            for table in tables:
                conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.execute(
            sa.text("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, :h)"),
            {"h": GENESIS},
        )
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "api_tokens": BOOTSTRAP,
        "config_dir": CONFIG_DIR,
        "redis_url": None,
        "data_dir": fresh_data_dir(),
    }
    values.update(overrides)
    return Settings(**values)


def runtime(application: Flask) -> Runtime:
    rt: Runtime = application.config["HINDSIGHT_RUNTIME"]
    return rt


def settle(application: Flask, timeout: float = 60.0) -> None:
    """Wait until the background queue (embedded default) has run everything it was given."""
    queue = runtime(application).queue
    if isinstance(queue, BackgroundQueue) and not queue.wait_idle(timeout):
        raise AssertionError(f"background jobs still running after {timeout}s")


# --------------------------------------------------------------------------------------------
# Committed: a database of its own, emptied before each test, and an app built for the test
# --------------------------------------------------------------------------------------------


@pytest.fixture
def committed_database_url(backend: str, request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{backend}_committed_database")
    _wipe(url)
    return url


@pytest.fixture
def database_url(committed_database_url: str) -> str:
    """The old name of `committed_database_url`."""
    return committed_database_url


@pytest.fixture
def committed_settings(committed_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Also the CLI's data directory in this test, so both use one key and one set of files."""
    settings = make_settings(committed_database_url)
    monkeypatch.setenv("HINDSIGHT_DATA_DIR", str(settings.data_dir))
    return settings


@pytest.fixture
def committed_app(committed_settings: Settings) -> Iterator[Flask]:
    application = create_app(committed_settings)
    yield application
    runtime(application).close()


@pytest.fixture
def committed_rt(committed_app: Flask) -> Runtime:
    return runtime(committed_app)


# --------------------------------------------------------------------------------------------
# Rolled back: one app per backend per session, each test on one connection rolled back
# --------------------------------------------------------------------------------------------


class ConnectionTurns:
    """Threads take turns on the one connection a test's sessions share.

    A session takes the turn when its transaction begins and gives it back
    when that transaction ends (commit, rollback or close); another thread
    asking meanwhile waits, up to `timeout` seconds, then fails. Every
    statement on the connection checks that its thread holds the turn, so
    "the request thread and the job thread never use the connection at the
    same time" is checked, not assumed. Problems are also kept in
    `problems`, since the job thread logs an exception instead of raising it.
    """

    def __init__(self, timeout: float = 20.0) -> None:
        self.timeout = timeout
        self.problems: list[str] = []
        self.waits = 0  # how often a thread found the connection in use and waited
        self._lock = threading.RLock()
        self._owner: threading.Thread | None = None
        self._depth = 0

    def take(self) -> None:
        me = threading.current_thread()
        waited = False
        if not self._lock.acquire(blocking=False):
            waited = True
            if not self._lock.acquire(timeout=self.timeout):
                self.fail(
                    f"thread {me.name} waited {self.timeout:.0f}s for the test's connection, "
                    f"held by thread {self.holder}"
                )
        self._owner = me
        self._depth += 1
        self.waits += waited

    def give_back(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
        self._lock.release()

    @property
    def depth(self) -> int:
        return self._depth

    @property
    def holder(self) -> str | None:
        owner = self._owner
        return None if owner is None else owner.name

    def check(self) -> None:
        if self._owner is not threading.current_thread():
            self.fail(
                f"thread {threading.current_thread().name} used the test's connection "
                f"without holding it (held by thread {self.holder})"
            )

    def fail(self, message: str) -> NoReturn:
        self.problems.append(message)
        raise AssertionError(message)


def _sqlite_no_driver_begin(dbapi_conn: Any, _record: Any) -> None:
    """pysqlite's legacy transaction control does not BEGIN before a SAVEPOINT (SQLAlchemy's
    SQLite docs, "Serializable isolation / Savepoints / Transactional DDL"): turn it off..."""
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: sa.Connection) -> None:
    """...and emit BEGIN ourselves. Only on the tests' own engine: the app's is untouched."""
    conn.exec_driver_sql("BEGIN")


class SharedApp:
    """One app and runtime for the whole session; `bound()` lends it to one test.

    The runtime's sessions are bound to the test's connection for the test;
    the runtime's own engine stays as production builds it (`/healthz` uses
    it). The connection comes from an engine of the tests' own, built by
    `app.db.make_engine` like the app's, plus the pysqlite BEGIN fix above.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.rt = runtime(self.app)
        self.broken = False
        self.turns: ConnectionTurns | None = None
        self.engine = make_engine(settings)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_no_driver_begin)
            event.listen(self.engine, "begin", _sqlite_begin)
        event.listen(self.engine, "before_cursor_execute", self._check_turn)
        tables = sorted(
            t for t in sa.inspect(self.engine).get_table_names() if t != "alembic_version"
        )
        # What the database holds when nothing was committed: empty tables, the genesis head.
        self._contents = sa.text(
            " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in tables)
            + " UNION ALL SELECT 'audit_head ' || last_hash, last_seq FROM audit_head"
        )
        # PostgreSQL sequences are not rolled back; put them where TRUNCATE ... RESTART
        # IDENTITY does (keys like INC-1 come from row ids). One statement per test.
        self._restart_sequences = sa.text(
            "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false)"
            " FROM pg_sequences WHERE schemaname = current_schema()"
        )
        with self.engine.connect() as conn:
            self._pristine = self._snapshot(conn)
        assert ("audit_head " + GENESIS, 0) in self._pristine, self._pristine

    def _check_turn(self, *_: Any) -> None:
        if self.turns is not None:
            self.turns.check()

    def _snapshot(self, conn: sa.Connection) -> set[tuple[str, int]]:
        return {(str(name), int(n)) for name, n in conn.execute(self._contents)}

    @contextmanager
    def bound(self) -> Iterator[Flask]:
        rt, db, app = self.rt, self.rt.db, self.app
        settle(app)
        saved = dict(vars(rt)), dict(vars(db)), dict(rt.bootstrap_tokens), dict(app.config)
        turns = self.turns = ConnectionTurns()
        turns.take()
        try:
            conn = self.engine.connect()
            outer = conn.begin()
            if conn.dialect.name == "postgresql":
                conn.execute(self._restart_sequences)
        finally:
            turns.give_back()
        sessions = sessionmaker(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        holding: set[int] = set()

        @event.listens_for(sessions, "after_transaction_create")
        def _take(_session: Session, transaction: SessionTransaction) -> None:
            if transaction.parent is None:
                turns.take()
                holding.add(id(transaction))

        @event.listens_for(sessions, "after_transaction_end")
        def _give_back(_session: Session, transaction: SessionTransaction) -> None:
            if id(transaction) in holding:
                holding.discard(id(transaction))
                turns.give_back()

        db.sessions = sessions
        # The files outside the database start empty too: no checkpoint of another test's chain.
        shutil.rmtree(rt.settings.data_dir, ignore_errors=True)
        activate(rt)
        try:
            yield app
        finally:
            self._release(conn, outer, turns)
            rt_vars, db_vars, tokens, config = saved
            vars(rt).clear()
            vars(rt).update(rt_vars)  # settings, policy, catalog, jira_mapping, ...
            rt.bootstrap_tokens.clear()
            rt.bootstrap_tokens.update(tokens)
            vars(db).clear()
            vars(db).update(db_vars)  # the app's own sessionmaker again
            app.config.clear()
            app.config.update(config)
            self.turns = None
            if turns.problems:
                pytest.fail("\n".join(dict.fromkeys(turns.problems)), pytrace=False)

    def _release(
        self, conn: sa.Connection, outer: sa.RootTransaction, turns: ConnectionTurns
    ) -> None:
        queue = self.rt.queue
        if isinstance(queue, BackgroundQueue):
            queue.resume()  # a test that paused the queue: its jobs run now, then roll back
            if not queue.wait_idle(60):
                self.broken = True
                turns.problems.append("background jobs still running 60s after the test")
        try:
            turns.take()
        except AssertionError:
            self.broken = True  # another thread kept a session open: leave its connection be
            return
        try:
            if turns.depth > 1:  # the test's own thread still holds a session
                turns.problems.append("a session was left open at the end of the test")
            outer.rollback()
            left = self._snapshot(conn) - self._pristine
            conn.close()
        finally:
            turns.give_back()
        if left:
            turns.problems.append(
                "the test committed data outside its rolled-back connection (another "
                f"connection or process? use the committed_* fixtures): {sorted(left)}"
            )
            _wipe(self.settings.database_url)

    def close(self) -> None:
        self.rt.close()
        self.engine.dispose()


class SharedApps:
    """The shared apps on one backend's database, one per set of settings overrides."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._apps: dict[tuple[tuple[str, Any], ...], SharedApp] = {}

    @contextmanager
    def bound(self, **overrides: Any) -> Iterator[Flask]:
        key = tuple(sorted(overrides.items()))
        shared = self._apps.get(key)
        if shared is None or shared.broken:
            if shared is not None:
                shared.close()
            shared = self._apps[key] = SharedApp(make_settings(self.database_url, **overrides))
        with shared.bound() as application:
            yield application

    def close(self) -> None:
        for shared in self._apps.values():
            shared.close()


@pytest.fixture(scope="session")
def sqlite_shared(sqlite_database: str) -> Iterator[SharedApps]:
    apps = SharedApps(sqlite_database)
    yield apps
    apps.close()


@pytest.fixture(scope="session")
def postgresql_shared(postgresql_database: str) -> Iterator[SharedApps]:
    apps = SharedApps(postgresql_database)
    yield apps
    apps.close()


@pytest.fixture
def shared_apps(backend: str, request: pytest.FixtureRequest) -> SharedApps:
    """This backend's shared apps; `with shared_apps.bound(**overrides) as app:` lends one."""
    apps: SharedApps = request.getfixturevalue(f"{backend}_shared")
    return apps


@pytest.fixture
def app(shared_apps: SharedApps) -> Iterator[Flask]:
    with shared_apps.bound() as application:
        yield application


@pytest.fixture
def settings(app: Flask) -> Settings:
    return runtime(app).settings


@pytest.fixture
def rt(app: Flask) -> Runtime:
    return runtime(app)


class ApiClient:
    """The Flask test client with a bearer token, so tests read like API calls."""

    def __init__(self, client: FlaskClient, token: str | None = WRITE_TOKEN) -> None:
        self.client = client
        self.token = token

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def _call(self, method: str, path: str, kw: dict[str, Any]) -> Any:
        """The request, then the background jobs it caused (as a reader coming back later sees).

        The response has already arrived when the wait starts: jobs never run inside
        the request (tests/integration/test_background_jobs.py shows it).
        """
        headers = self._headers(kw.pop("headers", None))
        settle(self.client.application)  # what raw-client requests before this one caused
        response = getattr(self.client, method)(path, headers=headers, **kw)
        settle(self.client.application)
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self._call("get", path, kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self._call("post", path, kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self._call("patch", path, kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self._call("delete", path, kw)

    def as_token(self, token: str | None) -> ApiClient:
        return ApiClient(self.client, token)


@pytest.fixture
def api(app: Flask) -> ApiClient:
    return ApiClient(app.test_client())


@pytest.fixture
def committed_api(committed_app: Flask) -> ApiClient:
    return ApiClient(committed_app.test_client())


@pytest.fixture
def redis_url() -> Iterator[str]:
    need_service("Redis", "127.0.0.1", 6379)
    from redis import Redis

    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield REDIS_URL
    conn.flushdb()
    conn.close()
