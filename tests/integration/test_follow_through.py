"""Follow-through in one process, on a clock the test passes in: the ladder, its stops,
its records (API, audit, escalation_level), and notifications through real receivers."""

from __future__ import annotations

import time as clock
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Action, AuditEntry, Escalation, Notification
from app.runtime import Runtime
from app.services import escalations, notifications
from app.services.evaluation import evaluate_and_store
from tests.conftest import ADMIN_TOKEN, ApiClient, settle
from tests.integration.test_web_security import Role, person, sign_in

from .receivers import SmtpReceiver, WebhookReceiver

TODAY = datetime.now(UTC).date()
pause = clock.sleep


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


@pytest.fixture
def receivers(rt: Runtime) -> Iterator[tuple[WebhookReceiver, SmtpReceiver]]:
    hook, smtp = WebhookReceiver().start(), SmtpReceiver().start()
    rt.settings = rt.settings.model_copy(
        update={
            "notify_webhook_url": hook.url,
            "smtp_url": smtp.url,
            "notify_backoff_base_seconds": 0.05,
            "notify_backoff_cap_seconds": 0.2,
        }
    )
    yield hook, smtp
    hook.stop()
    smtp.stop()


def incident_with_action(api: ApiClient, due: date, **action: Any) -> tuple[str, str]:
    created = api.post(
        "/api/v1/incidents",
        json={"title": "Checkout latency", "severity": "SEV2", "services": ["checkout"]},
    )
    assert created.status_code == 201, created.json
    key = created.json["key"]
    body = {
        "title": "Add a latency SLO alert",
        "type": "detect",
        "owner": "Ravi Menon",
        "due_date": due.isoformat(),
        "success_criteria": "Alert fires in the game day",
        **action,
    }
    made = api.post(f"/api/v1/incidents/{key}/actions", json=body)
    assert made.status_code == 201, made.json
    return key, made.json["key"]


def steps(rt: Runtime, action_key: str) -> list[tuple[str, int, str | None]]:
    with rt.db.sessions() as session:
        rows = session.scalars(
            select(Escalation).where(Escalation.action_key == action_key).order_by(Escalation.id)
        )
        return [(e.step.partition("@")[0], e.level, e.recipient) for e in rows]


def sweep_twice(rt: Runtime, now: datetime) -> None:
    escalations.sweep(rt, now=now)
    escalations.sweep(rt, now=now)


def test_an_action_walks_the_ladder_once_per_step_and_completion_stops_it(
    api: ApiClient, rt: Runtime, app: Flask, receivers: tuple[WebhookReceiver, SmtpReceiver]
) -> None:
    due = TODAY + timedelta(days=10)
    _, action = incident_with_action(api, due)
    settle(app)
    walk = [
        (due - timedelta(days=4), []),
        (due - timedelta(days=3), [("reminder", 0, "Ravi Menon")]),
        (due, []),
        (due + timedelta(days=1), [("L1", 1, "Ravi Menon")]),
        (due + timedelta(days=6), []),
        (due + timedelta(days=7), [("L2", 2, "Maya Okafor")]),
        (due + timedelta(days=21), [("L3", 3, "Daniel Brooks")]),
        (due + timedelta(days=28), [("L3R1", 3, "Daniel Brooks")]),
        (due + timedelta(days=30), []),
        (due + timedelta(days=35), [("L3R2", 3, "Daniel Brooks")]),
    ]
    expected: list[tuple[str, int, str | None]] = []
    for day, new in walk:
        sweep_twice(rt, noon(day))
        expected += new
        assert steps(rt, action) == expected, day
    with rt.db.sessions() as session:
        row = session.scalars(select(Action).where(Action.key == action)).one()
        assert row.escalation_level == 3
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_key == action)
        ).all()
    assert audited.count("action.escalate") == 5 and audited.count("action.remind") == 1

    listed = api.get("/api/v1/escalations?team=storefront&level=2").json
    assert [e["to"] for e in listed["items"]] == ["Maya Okafor"]
    assert "overdue" in listed["items"][0]["why"]
    assert api.get(f"/api/v1/escalations?action={action}&open=true").json["total"] == 6

    assert api.patch(f"/api/v1/actions/{action}", json={"status": "done"}).status_code == 200
    sweep_twice(rt, noon(due + timedelta(days=60)))
    assert len(steps(rt, action)) == 6
    assert api.get(f"/api/v1/escalations?action={action}&open=true").json["total"] == 0


def test_a_waiver_with_a_reason_stops_the_ladder(api: ApiClient, rt: Runtime, app: Flask) -> None:
    due = TODAY + timedelta(days=5)
    key, action = incident_with_action(api, due)
    settle(app)
    later = noon(due + timedelta(days=2))
    sweep_twice(rt, later)
    assert [s[0] for s in steps(rt, action)] == ["L1"]
    with rt.db.sessions() as session:
        incident_id = session.scalar(select(Action.incident_id).where(Action.key == action))
    assert incident_id is not None
    evaluate_and_store(rt, incident_id, now=later)  # the scheduled re-evaluation, at `later`
    findings = api.get(f"/api/v1/incidents/{key}/findings").json
    overdue = [f for f in findings if f["rule"] == "deadlines.overdue"]
    assert overdue and overdue[0]["entity_key"] == action
    waived = api.as_token(ADMIN_TOKEN).post(
        f"/api/v1/incidents/{key}/findings/{overdue[0]['id']}/waive",
        json={"reason": "Superseded by the platform-wide SLO work in ACT-1"},
    )
    assert waived.status_code in (200, 201), waived.json
    sweep_twice(rt, noon(due + timedelta(days=40)))
    assert [s[0] for s in steps(rt, action)] == ["L1"]


def test_a_new_due_date_starts_a_new_ladder_and_bumps_follow_policy(
    api: ApiClient, rt: Runtime, app: Flask
) -> None:
    rt.policy = rt.policy.model_copy(
        update={
            "follow_through": rt.policy.follow_through.model_copy(update={"bump_priority_at": (2,)})
        }
    )
    due = TODAY + timedelta(days=3)
    _, action = incident_with_action(api, due, priority="P2")
    settle(app)
    sweep_twice(rt, noon(due + timedelta(days=8)))
    assert [s[0] for s in steps(rt, action)] == ["L2"]
    assert api.get(f"/api/v1/actions/{action}").json["priority"] == "P1"
    moved = due + timedelta(days=30)
    assert (
        api.patch(f"/api/v1/actions/{action}", json={"due_date": moved.isoformat()}).status_code
        == 200
    )
    settle(app)
    sweep_twice(rt, noon(due + timedelta(days=9)))
    with rt.db.sessions() as session:
        assert session.scalar(select(Action.escalation_level).where(Action.key == action)) == 0
    sweep_twice(rt, noon(moved - timedelta(days=2)))
    assert [s[0] for s in steps(rt, action)] == ["L2", "reminder"]


def test_notifications_reach_webhook_and_smtp_and_survive_a_receiver_outage(
    api: ApiClient, rt: Runtime, app: Flask, receivers: tuple[WebhookReceiver, SmtpReceiver]
) -> None:
    hook, smtp = receivers
    due = TODAY + timedelta(days=2)
    _, action = incident_with_action(api, due)
    settle(app)
    hook.stop()
    smtp.stop()  # both channels down: the sweep must neither fail nor lose the messages
    report = escalations.sweep(rt, now=noon(due + timedelta(days=7)))
    assert report.escalations == 1
    settle(app)
    with rt.db.sessions() as session:
        rows = session.scalars(select(Notification).where(Notification.action_key == action)).all()
        assert {(r.channel, r.status) for r in rows} == {
            ("webhook", "pending"),
            ("email", "pending"),
        }
        assert all(r.attempts >= 1 and r.last_error for r in rows)
        assert {r.recipient for r in rows if r.channel == "email"} == {
            "maya@example.com",
            "ravi@example.com",
        }
    hook.start()
    smtp.start()
    for _ in range(50):
        notifications.deliver(rt)
        with rt.db.sessions() as session:
            left = session.scalars(
                select(Notification.status).where(Notification.action_key == action)
            ).all()
        if set(left) == {"sent"}:
            break
        pause(0.1)
    assert set(left) == {"sent"}
    assert len(hook.bodies) == 1
    body = hook.bodies[0]
    assert action in body["text"] and "Escalation level 2" in body["text"]
    assert body["channel"] == "#storefront-eng"
    (mail,) = smtp.to("maya@example.com")
    assert action in mail["Subject"]
    parts = {p.get_content_type() for p in mail.walk()}
    assert {"text/plain", "text/html"} <= parts
    assert smtp.to("ravi@example.com")
    notifications.deliver(rt)
    assert len(hook.bodies) == 1  # sent once, not again


def test_notify_contract_is_idempotent_and_attaches_files(
    rt: Runtime, app: Flask, receivers: tuple[WebhookReceiver, SmtpReceiver]
) -> None:
    hook, smtp = receivers
    invite = ("review.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    for _ in range(2):
        with rt.uow() as uow:
            notifications.notify(
                uow,
                kind="review_invitation",
                subject="Postmortem review for INC-9",
                text="You are invited.",
                team="sre",
                people=["Noor Haddad"],
                emails=["guest@example.org"],
                attachments=[invite],
                dedupe_key="invite:INC-9:1",
            )
            uow.commit()
    settle(app)
    with rt.db.sessions() as session:
        rows = session.scalars(
            select(Notification).where(Notification.dedupe_key == "invite:INC-9:1")
        ).all()
    assert sorted((r.channel, r.recipient) for r in rows) == [
        ("email", "guest@example.org"),
        ("email", "noor@example.com"),
        ("webhook", "team:sre"),
    ]
    for _ in range(50):
        if len(smtp.messages) >= 2:
            break
        notifications.deliver(rt)
        pause(0.05)
    (mail,) = smtp.to("guest@example.org")
    attached = [p for p in mail.walk() if p.get_filename() == "review.ics"]
    assert attached and attached[0].get_content_type() == "text/calendar"
    assert attached[0].get_payload(decode=True) == invite[2]


def test_the_escalations_page_lists_the_steps_with_the_api_filters(
    api: ApiClient, rt: Runtime, app: Flask
) -> None:
    """The web list reads the same service as GET /api/v1/escalations; a bad filter is words."""
    due = date(2027, 3, 1)
    _, action_key = incident_with_action(api, due)
    escalations.sweep(rt, now=noon(due + timedelta(days=1)))
    assert [s[:2] for s in steps(rt, action_key)] == [("L1", 1)]
    person(rt, "vera", Role.VIEWER)
    client = app.test_client()
    sign_in(client, "vera")
    page = client.get("/escalations?level=1&open=true").get_data(as_text=True)
    assert action_key in page and "1 step(s)" in page
    assert action_key not in client.get("/escalations?level=2").get_data(as_text=True)
    bad = client.get("/escalations?level=high")
    assert bad.status_code == 200 and "level:" in bad.get_data(as_text=True)
