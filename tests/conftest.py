"""Shared fixtures: real PostgreSQL, real Redis, real SQLite files.

Tests that need a service run whenever it is reachable; when CI=true and it
is not, they fail instead of skipping, so a broken CI machine cannot pass
by running nothing.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.db import upgrade
from app.queue import BackgroundQueue
from app.runtime import Runtime
from app.settings import Settings

PG_ADMIN_URL = os.environ.get(
    "HINDSIGHT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("HINDSIGHT_TEST_REDIS", "redis://127.0.0.1:6379/15")
BACKENDS = os.environ.get("HINDSIGHT_TEST_BACKENDS", "sqlite,postgresql").split(",")

ADMIN_TOKEN = "admin-token-0123456789abcdef"
WRITE_TOKEN = "write-token-0123456789abcdef"
READ_TOKEN = "read-token-0123456789abcdef0"
BOOTSTRAP = f"ci-admin:admin:{ADMIN_TOKEN},ci-write:write:{WRITE_TOKEN},ci-read:read:{READ_TOKEN}"
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


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


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[str]:
    """One throwaway database per test session, migrated once."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"hindsight_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(Settings(database_url=url.replace("+psycopg", "")))
    yield url.replace("+psycopg", "")
    with admin.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'hindsight.db'}"
    upgrade(Settings(database_url=url))
    return url


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
            {"h": "0" * 64},
        )
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_database")
    _wipe(url)
    return url


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "api_tokens": BOOTSTRAP,
        "config_dir": CONFIG_DIR,
        "redis_url": None,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    yield application
    runtime(application).close()


def runtime(application: Flask) -> Runtime:
    rt: Runtime = application.config["HINDSIGHT_RUNTIME"]
    return rt


def settle(application: Flask, timeout: float = 60.0) -> None:
    """Wait until the background queue (embedded default) has run everything it was given."""
    queue = runtime(application).queue
    if isinstance(queue, BackgroundQueue) and not queue.wait_idle(timeout):
        raise AssertionError(f"background jobs still running after {timeout}s")


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
def redis_url() -> Iterator[str]:
    need_service("Redis", "127.0.0.1", 6379)
    from redis import Redis

    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield REDIS_URL
    conn.flushdb()
    conn.close()
