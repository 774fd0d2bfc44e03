"""Fixtures for Jira sync: the Jira test server, Hindsight served on a real socket.

`env` wires one test: a started `JiraTestServer` (Cloud or Data Center) whose
users are the catalog's people, Hindsight built with that Jira configured,
Hindsight's own HTTP server on 127.0.0.1 so Jira's webhooks arrive over a
real socket, and the subscription between them (signed with the secret).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from app.models import OutboxItem, WebhookDelivery
from app.queue import BackgroundQueue
from app.runtime import Runtime
from app.settings import Settings
from tests.conftest import ApiClient, make_settings, runtime
from tests.jira_server import JiraTestServer

from .seed import catalog_users

SECRET = "whsec-test-0123456789"


def start_jira(mode: str, **kwargs: Any) -> JiraTestServer:
    # "sync": Jira posts each webhook before it answers the REST call that caused it. With
    # the in-process queue this keeps job dispatch on one thread at a time: app.queue's
    # InProcessQueue shares its pending list across threads, so a job dispatched on one
    # request thread while another thread is draining can be stranded (reported to the lead).
    kwargs.setdefault("webhook_mode", "sync")
    return JiraTestServer(mode, users=catalog_users(), **kwargs).start()  # type: ignore[arg-type]


def jira_settings(database_url: str, srv: JiraTestServer, **overrides: Any) -> Settings:
    user, token = srv.credentials()
    values: dict[str, Any] = {
        "jira_url": srv.url,
        "jira_project": "OPS",
        "jira_user": user,
        "jira_token": token,
        "jira_webhook_secret": SECRET,
        "jira_timeout_seconds": 5,
        "sync_backoff_base_seconds": 0.2,
        "sync_inline_retry_seconds": 2.0,
        "sync_create_settle_seconds": 0.5,
        "sync_reconcile_margin_seconds": 120,
    }
    values.update(overrides)
    return make_settings(database_url, **values)


class LiveServer:
    """Hindsight's Flask app on a real port, so webhooks travel over HTTP."""

    def __init__(self, app: Flask) -> None:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass
class SyncEnv:
    srv: JiraTestServer
    app: Flask
    rt: Runtime
    api: ApiClient
    live: LiveServer

    @property
    def mode(self) -> str:
        return self.srv.mode

    @property
    def hook_url(self) -> str:
        return self.live.url + "/webhooks/jira"

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until Hindsight's background jobs and Jira's webhooks are both done.

        Each can start the other (a push makes Jira send a webhook, a webhook
        queues a job), so wait for both, again, until neither has anything left.
        """
        deadline = time.monotonic() + max(timeout, 30.0)
        queue = self.rt.queue
        while time.monotonic() < deadline:
            if isinstance(queue, BackgroundQueue):
                queue.wait_idle(max(0.0, deadline - time.monotonic()))
            self.srv.webhooks.wait_idle(max(0.0, deadline - time.monotonic()))
            if not isinstance(queue, BackgroundQueue) or queue.pending == 0:
                return

    def issues(self) -> dict[str, Any]:
        with self.srv.state.lock:
            return dict(self.srv.state.issues_by_key)

    def issue_by_label(self, label: str) -> Any:
        found = [i for i in self.issues().values() if label in (i.values.get("labels") or [])]
        assert len(found) == 1, f"{len(found)} issues labelled {label}"
        return found[0]

    def status_of(self, issue: Any) -> tuple[str, str | None]:
        with self.srv.state.lock:
            status = self.srv.state.status(issue.status_id)
            res = (
                self.srv.state.resolution(issue.resolution_id).name if issue.resolution_id else None
            )
        return status.name, res

    def outbox_counts(self) -> dict[str, int]:
        with self.rt.db.sessions() as session:
            return dict(
                session.execute(  # type: ignore[arg-type]
                    select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
                ).all()
            )

    def deliveries(self) -> list[WebhookDelivery]:
        with self.rt.db.sessions() as session:
            return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))

    def user_ref(self, name: str) -> str:
        """How the flavour identifies a catalog person (accountId vs user name)."""
        u = self.srv.user(name)
        return u.account_id if self.mode == "cloud" else u.name


def build_env(
    database_url: str, mode: str, request: pytest.FixtureRequest, **overrides: Any
) -> SyncEnv:
    jira_kw = overrides.pop("jira_kwargs", {})
    srv = start_jira(mode, **jira_kw)
    request.addfinalizer(srv.stop)
    app = create_app(jira_settings(database_url, srv, **overrides))
    rt = runtime(app)
    request.addfinalizer(rt.close)
    live = LiveServer(app)
    request.addfinalizer(live.stop)
    srv.subscribe(live.url + "/webhooks/jira", SECRET)
    return SyncEnv(srv, app, rt, ApiClient(app.test_client()), live)


@pytest.fixture(params=["cloud", "dc"])
def env(database_url: str, request: pytest.FixtureRequest) -> Iterator[SyncEnv]:
    """Both flavours: for the tests that pin Cloud vs Data Center behaviour."""
    e = build_env(database_url, request.param, request)
    yield e
    assert not e.srv.server_errors, e.srv.server_errors


@pytest.fixture
def cloud_env(database_url: str, request: pytest.FixtureRequest) -> Iterator[SyncEnv]:
    e = build_env(database_url, "cloud", request)
    yield e
    assert not e.srv.server_errors, e.srv.server_errors


@pytest.fixture
def dc_env(database_url: str, request: pytest.FixtureRequest) -> Iterator[SyncEnv]:
    e = build_env(database_url, "dc", request)
    yield e
    assert not e.srv.server_errors, e.srv.server_errors


def wait_for(check: Callable[[], bool], timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def complete_incident(api: ApiClient, *, actions: int = 2) -> tuple[str, list[str]]:
    """An incident the rules let publish: causes, timeline, people, owned actions."""
    r = api.post(
        "/api/v1/incidents",
        json={
            "title": "Checkout down",
            "severity": "SEV2",
            "services": ["checkout"],
            "status": "resolved",
            "summary": "Payments failed",
            "started_at": "2024-01-01T10:00:00Z",
            "detected_at": "2024-01-01T10:05:00Z",
            "resolved_at": "2024-01-01T11:00:00Z",
        },
    )
    assert r.status_code == 201, r.json
    key = r.json["key"]
    cause = api.post(
        f"/api/v1/incidents/{key}/causes",
        json={
            "kind": "root_cause",
            "category": "config",
            "statement": "A config flag disabled the payment retry path.",
        },
    ).json["id"]
    for event in (
        {"at": "2024-01-01T10:05:00Z", "kind": "detection", "text": "Alert fired"},
        {"at": "2024-01-01T11:00:00Z", "kind": "resolution", "text": "Reverted"},
    ):
        assert api.post(f"/api/v1/incidents/{key}/timeline", json=event).status_code == 201
    for person in (
        {"role": "incident_commander", "name": "Noor Haddad", "team": "sre"},
        {"role": "facilitator", "name": "Ines Duarte", "team": "sre"},
        {"role": "subject_matter_expert", "name": "Maya Okafor", "team": "storefront"},
        {"role": "communications", "name": "Grace Adeyemi", "team": "compliance"},
    ):
        assert api.post(f"/api/v1/incidents/{key}/participants", json=person).status_code == 201
    keys = []
    for n in range(actions):
        r = api.post(
            f"/api/v1/incidents/{key}/actions",
            json={
                "title": f"Alert on payment error rate {n}",
                "type": "detect",
                "owner": "Maya Okafor",
                "due_date": f"2030-01-{n + 1:02d}",
                "priority": "P1",
                "success_criteria": "Alert within 5 min",
                "cause_ids": [cause],
            },
        )
        assert r.status_code == 201, r.json
        keys.append(r.json["key"])
    return key, keys


def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Point `hindsight ...` (which reads the environment) at this test's settings."""
    for name in (
        "database_url",
        "config_dir",
        "jira_url",
        "jira_user",
        "jira_token",
        "jira_project",
        "jira_webhook_secret",
        "redis_url",
    ):
        value = getattr(settings, name)
        if value is None:
            monkeypatch.delenv(f"HINDSIGHT_{name.upper()}", raising=False)
        else:
            monkeypatch.setenv(f"HINDSIGHT_{name.upper()}", str(value))
