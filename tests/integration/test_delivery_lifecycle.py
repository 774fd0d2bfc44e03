"""Every stored delivery ends: processed, ignored (with why) or failed (with the error),
with bounded, backed-off retries for what may succeed later and a replay after a fix."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app import create_app
from app.domain.vocabulary import DeliveryStatus
from app.models import Incident, WebhookDelivery
from app.runtime import Runtime
from app.services import deliveries, inbox, intake
from tests.conftest import make_settings, runtime
from tests.unit.test_intake_parsers import pd_payload

PD_SECRET = "pd-secret-0123456789"


@pytest.fixture
def hooks(database_url: str) -> Iterator[Flask]:
    application = create_app(make_settings(database_url, pagerduty_webhook_secret=PD_SECRET))
    yield application
    runtime(application).close()


def _post(app: Flask, payload: dict[str, Any]) -> Any:
    body = json.dumps(payload).encode()
    sig = "v1=" + hmac.new(PD_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return app.test_client().post(
        "/webhooks/pagerduty", data=body, headers={"X-PagerDuty-Signature": sig}
    )


def _rows(rt: Runtime) -> list[WebhookDelivery]:
    with rt.db.sessions() as session:
        return list(session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


@pytest.mark.parametrize(
    "data",
    [
        {"service": {"id": "P1", "summary": "s" * 150, "type": "service_reference"}},
        {"title": "   "},
    ],
)
def test_what_the_job_would_refuse_is_refused_before_202(
    hooks: Flask, data: dict[str, Any]
) -> None:
    resp = _post(hooks, pd_payload("incident.triggered", **data))
    assert resp.status_code == 422, resp.json
    assert resp.json["errors"][0]["loc"][:2] == ["body", "incident"]
    assert _rows(runtime(hooks)) == []


def _stored(rt: Runtime, payload: dict[str, Any], identifier: str = "d-1") -> int:
    delivery_id, _ = deliveries.store_delivery(
        rt, "pagerduty", identifier, payload, intake.intake_job
    )
    return delivery_id


def _settle(rt: Runtime) -> None:
    wait = getattr(rt.queue, "wait_idle", None)
    assert wait is not None and wait(30)


def test_a_refused_payload_ends_failed_with_its_error_and_replays_after_a_fix(
    hooks: Flask,
) -> None:
    rt = runtime(hooks)
    long_service = {"id": "P1", "summary": "s" * 150, "type": "service_reference"}
    bad = pd_payload("incident.triggered", service=long_service)  # stored by an older release
    delivery_id = _stored(rt, bad)
    _settle(rt)
    [row] = _rows(rt)
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1
    assert row.error and "services" in row.error
    with rt.db.sessions() as session, session.begin():
        fixed = session.get(WebhookDelivery, delivery_id)
        assert fixed is not None
        fixed.payload = pd_payload("incident.triggered")
    inbox.replay_delivery(rt, delivery_id)
    _settle(rt)
    [row] = _rows(rt)
    assert row.status == DeliveryStatus.PROCESSED and row.error is None
    with rt.db.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 1


def test_a_transient_failure_backs_off_and_gives_up_after_the_limit(
    hooks: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = runtime(hooks)
    calls: list[int] = []

    def flaky(uow: Any, delivery: WebhookDelivery) -> Any:
        calls.append(delivery.id)
        raise ConnectionError("database went away")

    monkeypatch.setattr(intake, "_handle", flaky)
    rt.queue.pause()  # type: ignore[attr-defined]
    delivery_id = _stored(rt, pd_payload("incident.triggered"))
    delays = []
    for attempt in range(1, deliveries.MAX_ATTEMPTS + 1):
        status = intake.process_delivery(rt, delivery_id)
        [row] = _rows(rt)
        assert row.attempts == attempt
        if attempt < deliveries.MAX_ATTEMPTS:
            assert status == row.status == DeliveryStatus.PENDING
            assert row.next_attempt_at is not None
            delays.append(row.next_attempt_at - datetime.now(UTC))
            # Not due yet: the sweep leaves it alone until its next attempt.
            with rt.db.sessions() as session:
                due = deliveries.pending_deliveries(
                    session, ["pagerduty"], datetime.now(UTC) + timedelta(days=1)
                )
            assert due == []
        else:
            assert status == row.status == DeliveryStatus.FAILED
            assert row.error and "database went away" in row.error
    assert len(calls) == deliveries.MAX_ATTEMPTS
    assert all(b > a for a, b in zip(delays, delays[1:], strict=False)), delays
    rt.queue.resume()  # type: ignore[attr-defined]


def test_concurrent_deliveries_for_one_new_incident_create_it_once_and_apply_all(
    hooks: Flask,
) -> None:
    import threading

    from app.models import TimelineEvent

    rt = runtime(hooks)
    rt.queue.pause()  # type: ignore[attr-defined]  # the test runs the jobs itself, at once
    kinds = ["incident.triggered", "incident.acknowledged", "incident.annotated"]
    ids = []
    for n in range(8):
        payload = pd_payload(kinds[n % 3])
        payload["event"]["id"] = f"evt-{n}"
        payload["event"]["occurred_at"] = f"2026-03-02T10:{n:02d}:00Z"
        ids.append(_stored(rt, payload, identifier=f"evt-{n}"))
    barrier = threading.Barrier(len(ids))
    results: list[str] = []

    def work(delivery_id: int) -> None:
        barrier.wait()
        results.append(intake.process_delivery(rt, delivery_id))

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(results) == ["processed"] * len(ids), results
    with rt.db.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 1
        events = session.scalar(sa.select(sa.func.count()).select_from(TimelineEvent))
    assert events == len(ids)
    rt.queue.resume()  # type: ignore[attr-defined]


def test_failed_deliveries_are_listed_and_replayed_through_the_api_and_cli(
    hooks: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import ADMIN_TOKEN, ApiClient

    rt = runtime(hooks)
    long_service = {"id": "P1", "summary": "s" * 150, "type": "service_reference"}
    delivery_id = _stored(rt, pd_payload("incident.triggered", service=long_service))
    _settle(rt)
    admin = ApiClient(hooks.test_client(), ADMIN_TOKEN)
    listed = admin.get("/api/v1/deliveries?status=failed").json
    assert listed["total"] == 1 and listed["items"][0]["id"] == delivery_id
    assert "services" in listed["items"][0]["error"]
    assert admin.as_token(None).get("/api/v1/deliveries").status_code == 401
    assert admin.get("/api/v1/deliveries?status=bogus").status_code == 422
    with rt.db.sessions() as session, session.begin():
        row = session.get(WebhookDelivery, delivery_id)
        assert row is not None
        row.payload = pd_payload("incident.triggered")
    resp = admin.post(f"/api/v1/deliveries/{delivery_id}/replay")
    assert resp.status_code == 202, resp.json
    assert admin.get("/api/v1/deliveries?status=processed").json["total"] == 1
    again = admin.post(f"/api/v1/deliveries/{delivery_id}/replay")
    assert again.status_code == 409

    from click.testing import CliRunner

    from app.cli import cli

    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", rt.settings.database_url)
    out = CliRunner().invoke(cli, ["deliveries", "--status", "processed"])
    assert out.exit_code == 0, out.output
    assert f"{delivery_id:>6} pagerduty" in out.output and "1 of 1 deliveries" in out.output
