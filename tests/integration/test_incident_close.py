"""Closing an incident prepares its review once: facilitator, due date, invitation, announcement."""

from __future__ import annotations

import icalendar
from flask import Flask
from sqlalchemy import func, select

from app.models import AuditEntry
from tests.conftest import ApiClient, runtime
from tests.integration.test_webhook_sources import hooks, pd_event, post_pd

__all__ = ["hooks"]


def _announced(app: Flask, key: str) -> int:
    with runtime(app).db.sessions() as session:
        return (
            session.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.action == "postmortem.announced", AuditEntry.entity_key == key
                )
            )
            or 0
        )


def _incident(app: Flask, pd_id: str, resolved_at: str = "2026-03-06T16:40:00Z") -> str:
    client = app.test_client()
    for n, (kind, at) in enumerate(
        [("incident.triggered", "2026-03-06T16:00:00Z"), ("incident.resolved", resolved_at)]
    ):
        event = pd_event(kind, f"{pd_id}-{n}", at)
        event["event"]["data"]["id"] = pd_id
        assert post_pd(client, event).status_code == 202
    items = ApiClient(client).get("/api/v1/incidents").json["items"]
    return str(items[-1]["key"])  # the newest: each call is a new PagerDuty incident


def test_a_second_close_changes_nothing(hooks: Flask) -> None:
    api = ApiClient(hooks.test_client())
    key = _incident(hooks, "PD1")
    review = api.get(f"/api/v1/incidents/{key}/postmortem/review").json
    ics = api.get(f"/api/v1/incidents/{key}/postmortem/invitation.ics").data
    later = pd_event("incident.resolved", "PD1-again", "2026-03-06T17:10:00Z")
    later["event"]["data"]["id"] = "PD1"
    assert post_pd(hooks.test_client(), later).status_code == 202
    assert api.get(f"/api/v1/incidents/{key}/postmortem/review").json == review
    assert api.get(f"/api/v1/incidents/{key}/postmortem/invitation.ics").data == ics
    assert _announced(hooks, key) == 1
    # Friday 6 March + 5 business days is Friday 13 March, the review at 15:00 UTC.
    assert review["due"] == "2026-03-13" and review["starts_at"] == "2026-03-13T15:00:00Z"


def test_the_invitation_is_a_calendar_request_with_the_agenda(hooks: Flask) -> None:
    api = ApiClient(hooks.test_client())
    missing = api.get("/api/v1/incidents/INC-999999/postmortem/invitation.ics")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    key = _incident(hooks, "PD2")
    resp = api.get(f"/api/v1/incidents/{key}/postmortem/invitation.ics")
    assert resp.status_code == 200 and resp.mimetype == "text/calendar"
    assert f'filename="{key}-review.ics"' in resp.headers["Content-Disposition"]
    cal = icalendar.Calendar.from_ical(resp.data)
    assert str(cal["METHOD"]) == "REQUEST"
    [event] = cal.walk("VEVENT")
    review = api.get(f"/api/v1/incidents/{key}/postmortem/review").json
    emails = {p["email"] for p in review["participants"] if p["email"]}
    attendees = event.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert {str(a).removeprefix("mailto:") for a in attendees} == emails
    assert event.decoded("DTSTART").isoformat() == "2026-03-13T15:00:00+00:00"
    description = str(event["DESCRIPTION"])
    assert "to resolve: 40 min" in description and "Checkout 5xx above SLO" in description
    assert "Contributing factors" in description


def test_the_rotation_moves_on_with_each_postmortem(hooks: Flask) -> None:
    api = ApiClient(hooks.test_client())
    first, second = _incident(hooks, "PD3"), _incident(hooks, "PD4")
    pms = [api.get(f"/api/v1/incidents/{k}/postmortem").json["postmortem"] for k in (first, second)]
    assert pms[0]["facilitator"] != pms[1]["facilitator"]
    assert {pm["facilitator"] for pm in pms} <= {"Maya Okafor", "Daniel Brooks", "Ravi Menon"}


def test_an_incident_resolved_through_the_api_gets_its_review(hooks: Flask) -> None:
    api = ApiClient(hooks.test_client())
    created = api.post(
        "/api/v1/incidents",
        json={
            "title": "Tenant API latency",
            "severity": "SEV3",
            "services": ["tenant-api"],
            "started_at": "2026-12-03T09:00:00Z",
            "detected_at": "2026-12-03T09:10:00Z",
        },
    ).json
    key = created["key"]
    assert api.get(f"/api/v1/incidents/{key}/postmortem/review").status_code == 404
    api.patch(
        f"/api/v1/incidents/{key}",
        json={"status": "resolved", "resolved_at": "2026-12-03T10:00:00Z"},
    )
    review = api.get(f"/api/v1/incidents/{key}/postmortem/review").json
    assert review["timings"] == {"detect": 10, "acknowledge": None, "mitigate": None, "resolve": 60}
    # Thursday 3 December + 5 business days: Thursday 10 December; SEV3 invites no stakeholder.
    assert review["due"] == "2026-12-10"
    assert "business stakeholder" not in {p["why"] for p in review["participants"]}
    assert _announced(hooks, key) == 1
