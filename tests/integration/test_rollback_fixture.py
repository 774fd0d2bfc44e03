"""The rolled-back `app` fixture keeps its promises (tests/conftest.py): each test starts
from the migrated database with ids from 1, runtime state is put back, threads take turns
on the shared connection, and anything committed around the connection fails the test."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from app.models import ApiToken
from app.rules.policy import Policy
from tests.conftest import ApiClient, SharedApps, runtime
from tests.integration.test_api_incidents import create


def test_each_loan_starts_from_the_migrated_database_with_ids_from_one(
    shared_apps: SharedApps,
) -> None:
    for _ in range(2):
        with shared_apps.bound() as app:
            api = ApiClient(app.test_client())
            assert api.get("/api/v1/incidents").json["total"] == 0
            assert [create(api)["key"], create(api)["key"]] == ["INC-1", "INC-2"]


def test_runtime_state_is_put_back(shared_apps: SharedApps) -> None:
    with shared_apps.bound() as app:
        rt = runtime(app)
        policy, settings, tokens = rt.policy, rt.settings, dict(rt.bootstrap_tokens)
        sessions = rt.db.sessions
        rt.policy = Policy.model_validate({"ownership": {"assign_default_owner": True}})
        rt.settings = settings.model_copy(update={"max_body_bytes": 1})
        rt.bootstrap_tokens.clear()
    with shared_apps.bound() as app:
        rt = runtime(app)
        assert rt.policy is policy and rt.settings is settings
        assert rt.bootstrap_tokens == tokens and tokens
        assert rt.db.sessions is not sessions  # each loan binds a fresh sessionmaker


def test_a_thread_waits_for_its_turn_on_the_connection(shared_apps: SharedApps) -> None:
    with shared_apps.bound() as app:
        rt = runtime(app)
        seen: list[float] = []

        def other() -> None:
            with rt.db.sessions() as s:
                s.execute(sa.select(sa.func.count(ApiToken.id)))
                seen.append(time.monotonic())

        with rt.db.sessions() as s:
            s.execute(sa.select(sa.func.count(ApiToken.id)))
            thread = threading.Thread(target=other)
            thread.start()
            time.sleep(0.3)
            releasing = time.monotonic()
        thread.join(10)
        assert seen and seen[0] > releasing


def test_a_thread_using_the_connection_out_of_turn_fails_the_test(
    shared_apps: SharedApps,
) -> None:
    failed = pytest.raises(pytest.fail.Exception, match="without holding it")
    with failed, shared_apps.bound() as app, runtime(app).db.sessions() as s:
        conn = s.connection()
        thread = threading.Thread(
            target=lambda: pytest.raises(AssertionError, conn.exec_driver_sql, "SELECT 1")
        )
        thread.start()
        thread.join(10)


def test_data_committed_around_the_connection_fails_the_test_and_is_wiped(
    shared_apps: SharedApps,
) -> None:
    failed = pytest.raises(pytest.fail.Exception, match="committed data outside")
    with failed, shared_apps.bound() as app:
        engine = sa.create_engine(runtime(app).settings.sqlalchemy_url)
        with engine.begin() as conn:  # another connection, as the CLI or a worker has
            conn.execute(sa.text("UPDATE audit_head SET last_seq = 7"))
        engine.dispose()
    with shared_apps.bound() as app:
        api = ApiClient(app.test_client())
        assert create(api)["key"] == "INC-1"
        with runtime(app).db.sessions() as s:
            assert s.execute(sa.text("SELECT last_seq FROM audit_head")).scalar_one() == 1
