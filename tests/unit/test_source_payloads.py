"""Every recorded payload from the sources' documentation (tests/data/payloads) parses right."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.sync.jira_incidents import incident_issue
from app.webhooks import alertmanager, opsgenie, pagerduty
from app.webhooks.event import EventKind

PAYLOADS = Path(__file__).resolve().parents[1] / "data" / "payloads"


def load(source: str, name: str) -> Any:
    return json.loads((PAYLOADS / source / name).read_text())


def files(source: str) -> list[str]:
    return sorted(p.name for p in (PAYLOADS / source).glob("*.json"))


PD_KINDS = {
    "triggered": EventKind.TRIGGERED,
    "acknowledged": EventKind.ACKNOWLEDGED,
    "resolved": EventKind.RESOLVED,
    "escalated": EventKind.ESCALATED,
    "reassigned": EventKind.ESCALATED,
    "delegated": EventKind.ESCALATED,
}


@pytest.mark.parametrize("name", [n for n in files("pagerduty") if n[0].isdigit()])
def test_every_pagerduty_incident_event_names_the_incident_not_its_note(name: str) -> None:
    payload = load("pagerduty", name)
    [event] = pagerduty.parse(payload)
    assert event.external_id == "PGR0VU2"  # data.id of a note or responder is not an incident
    assert event.what == payload["event"]["event_type"]
    assert event.kind == PD_KINDS.get(name[3:-5], EventKind.ANNOTATED)
    assert event.occurred_at == datetime.fromisoformat(payload["event"]["occurred_at"])
    assert pagerduty.delivery_id(payload) == payload["event"]["id"]


def test_pagerduty_note_and_responder_text_reach_the_timeline() -> None:
    [note] = pagerduty.parse(load("pagerduty", "08-annotated.json"))
    assert note.detail == "I sure am glad we are using PagerDuty!"
    assert "glad we are using PagerDuty" in note.describe()
    [asked] = pagerduty.parse(load("pagerduty", "09-responder-added.json"))
    assert asked.detail == "Please help me make the tests pass"
    [update] = pagerduty.parse(load("pagerduty", "11-status_update_published.json"))
    assert update.detail == "A fix for this incident is being developed"


def test_pagerduty_service_events_are_not_incidents() -> None:
    assert pagerduty.parse(load("pagerduty", "service-updated.json")) == []


OG_KINDS = {
    "Create": EventKind.TRIGGERED,
    "Acknowledge": EventKind.ACKNOWLEDGED,
    "Close": EventKind.RESOLVED,
    "Escalate": EventKind.ESCALATED,
}


@pytest.mark.parametrize("name", files("opsgenie"))
def test_every_opsgenie_action_parses_with_nanosecond_update_times(name: str) -> None:
    payload = load("opsgenie", name)
    action = payload["action"]
    events = opsgenie.parse(payload)
    if action in ("Delete", "AddTags"):
        assert events == []  # not part of the incident's story
        return
    [event] = events
    assert event.kind == OG_KINDS.get(action, EventKind.ANNOTATED)
    assert event.external_id == "aliastest"
    # updatedAt is epoch nanoseconds in the documented action data: January 2015, not 500.
    expected = datetime.fromtimestamp(payload["alert"]["updatedAt"] / 1e9, UTC)
    assert abs((event.occurred_at - expected).total_seconds()) < 0.001
    assert event.occurred_at.year == 2015
    assert opsgenie.delivery_id(payload).startswith(payload["alert"]["alertId"])


def test_opsgenie_note_and_owner_are_in_the_detail() -> None:
    [note] = opsgenie.parse(load("opsgenie", "09-AddNote.json"))
    assert note.detail == "test note"
    [owner] = opsgenie.parse(load("opsgenie", "05-AssignOwnership.json"))
    assert owner.detail == "bob@ifountain.com"


def test_alertmanager_firing_then_resolved_group() -> None:
    [firing] = alertmanager.parse(load("alertmanager", "01-firing.json"))
    [resolved] = alertmanager.parse(load("alertmanager", "02-resolved.json"))
    assert firing.external_id == resolved.external_id
    assert (firing.kind, resolved.kind) == (EventKind.TRIGGERED, EventKind.RESOLVED)
    assert firing.occurred_at == datetime(2023, 2, 6, 13, 8, 45, 828000, tzinfo=UTC)
    assert resolved.occurred_at == datetime(2023, 2, 6, 13, 52, 15, 828000, tzinfo=UTC)
    assert firing.title == "BlackBox Probe Failure: https://server.example.org"


def jira(name: str, **kw: Any) -> Any:
    args = {"project": "OPS", "issue_type": "Bug", "label_prefix": "hs-", **kw}
    return incident_issue(load("jira", name), **args)


def test_jira_incident_issue_changelog_and_comment_become_activity() -> None:
    created = jira("01-issue_created.json")
    assert [a.kind for a in created.activities] == ["created"] and not created.done
    moving = jira("02-issue_updated-in-progress.json")
    [status] = moving.activities
    assert (status.kind, status.category) == ("status", "indeterminate")
    assert status.text == "status: To Do -> In Progress"
    [comment] = jira("03-comment_created.json").activities
    assert comment.kind == "comment" and comment.text.startswith("Rolled back the gateway")
    assert comment.at == datetime(2026, 3, 2, 10, 36, tzinfo=UTC)
    done = jira("04-issue_updated-done.json")
    assert done.done and [a.category for a in done.activities] == ["done"]  # resolution folded
    assert done.services == ("checkout",) and done.priority == "High"
    assert done.url == "https://example.atlassian.net/browse/OPS-42"


def test_jira_other_types_projects_and_mirrored_issues_are_not_incidents() -> None:
    assert jira("04-issue_updated-done.json", issue_type="Task") is None
    assert jira("04-issue_updated-done.json", project="SRE") is None
    mirrored = load("jira", "04-issue_updated-done.json")
    mirrored["issue"]["fields"]["labels"] = ["hindsight", "hs-INC-3"]
    assert incident_issue(mirrored, project="OPS", issue_type="Bug", label_prefix="hs-") is None
