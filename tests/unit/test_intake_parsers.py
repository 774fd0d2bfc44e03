"""Each incident source's documented payload becomes the same IncidentEvent."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import pytest

from app.domain.vocabulary import Severity
from app.webhooks import alertmanager, generic, opsgenie, pagerduty
from app.webhooks.event import EventKind, PayloadError


def pd_payload(event_type: str = "incident.resolved", **data: Any) -> dict[str, Any]:
    """Shaped like PagerDuty's v3 webhook documentation."""
    return {
        "event": {
            "id": "01DEN4HPBQAAAG05V5QQYBRZMF",
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": "2026-03-02T10:15:00.000Z",
            "agent": {"id": "PLH1HKV", "summary": "Noor Haddad", "type": "user_reference"},
            "data": {
                "id": "PGR0VU2",
                "type": "incident",
                "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
                "number": 2,
                "status": "resolved",
                "title": "Checkout 5xx above SLO",
                "service": {"id": "PF9KMXH", "summary": "Checkout", "type": "service_reference"},
                "priority": {"id": "PSO75BM", "summary": "P1", "type": "priority"},
                "urgency": "high",
                **data,
            },
        }
    }


def test_pagerduty_resolved() -> None:
    [event] = pagerduty.parse(pd_payload())
    assert event.kind == EventKind.RESOLVED and event.external_id == "PGR0VU2"
    assert event.severity == Severity.SEV1 and event.services == ("checkout",)
    assert event.occurred_at == datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    assert event.actor == "Noor Haddad"
    assert pagerduty.delivery_id(pd_payload()) == "01DEN4HPBQAAAG05V5QQYBRZMF"


def test_pagerduty_priority_fallbacks_and_other_events() -> None:
    [high] = pagerduty.parse(pd_payload("incident.triggered", priority=None, urgency="high"))
    assert high.severity == Severity.SEV2 and high.kind == EventKind.TRIGGERED
    [low] = pagerduty.parse(pd_payload("incident.triggered", priority={"summary": "P4"}))
    assert low.severity == Severity.SEV4
    [note] = pagerduty.parse(pd_payload("incident.priority_updated"))
    assert note.kind == EventKind.ANNOTATED and note.what == "incident.priority_updated"
    other = pd_payload("service.updated")
    other["event"]["resource_type"] = "service"
    assert pagerduty.parse(other) == []


def test_pagerduty_signature_accepts_any_rotated_secret() -> None:
    body = b'{"event": {}}'
    good = "v1=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert pagerduty.signature_ok(body, f"v1=deadbeef,{good}", "s3cret")
    assert not pagerduty.signature_ok(body, "v1=deadbeef", "s3cret")
    assert not pagerduty.signature_ok(body, None, "s3cret")


def test_pagerduty_missing_field_names_its_path() -> None:
    payload = pd_payload()
    del payload["event"]["occurred_at"]
    with pytest.raises(PayloadError) as err:
        pagerduty.parse(payload)
    assert err.value.loc == ["event", "occurred_at"]


def og_payload(action: str = "Close") -> dict[str, Any]:
    """Shaped like Opsgenie's outgoing webhook integration."""
    return {
        "action": action,
        "alert": {
            "alertId": "70413a06-38d6-4c85-92b8-5ebc900d42e2",
            "message": "EHR database unreachable",
            "tags": ["service:ehr-db", "hospital"],
            "tinyId": "1791",
            "alias": "ehr-db-down",
            "createdAt": 1772445600000,
            "updatedAt": 1772449200000,
            "username": "amara@example.com",
            "priority": "P1",
            "entity": "ehr",
        },
        "source": {"name": "web", "type": "web"},
        "integrationName": "Hindsight",
    }


def test_opsgenie_close_is_resolution_with_epoch_millis() -> None:
    [event] = opsgenie.parse(og_payload())
    assert event.kind == EventKind.RESOLVED and event.external_id == "ehr-db-down"
    assert event.services == ("ehr-db",) and event.severity == Severity.SEV1
    assert event.occurred_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert opsgenie.delivery_id(og_payload()) != opsgenie.delivery_id(og_payload("Acknowledge"))
    assert opsgenie.parse(og_payload("UnknownAction")) == []


def am_payload(status: str = "firing") -> dict[str, Any]:
    """Alertmanager's webhook_config payload, version 4."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="TenantApiLatency"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "hindsight",
        "groupLabels": {"alertname": "TenantApiLatency"},
        "commonLabels": {
            "alertname": "TenantApiLatency",
            "service": "tenant-api",
            "severity": "critical",
        },
        "commonAnnotations": {"summary": "tenant-api p99 above 2s"},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"instance": "a"},
                "annotations": {},
                "startsAt": "2026-05-01T08:00:00Z",
                "endsAt": "2026-05-01T09:10:00Z",
                "generatorURL": "http://prometheus/graph",
                "fingerprint": "a1",
            },
            {
                "status": status,
                "labels": {"instance": "b"},
                "annotations": {},
                "startsAt": "2026-05-01T07:58:00Z",
                "endsAt": "2026-05-01T09:12:00Z",
                "generatorURL": "http://prometheus/graph",
                "fingerprint": "b2",
            },
        ],
    }


def test_alertmanager_group_is_the_incident() -> None:
    [firing] = alertmanager.parse(am_payload())
    [resolved] = alertmanager.parse(am_payload("resolved"))
    assert firing.external_id == resolved.external_id
    assert firing.occurred_at == datetime(2026, 5, 1, 7, 58, tzinfo=UTC)
    assert resolved.occurred_at == datetime(2026, 5, 1, 9, 12, tzinfo=UTC)
    assert firing.severity == Severity.SEV2 and firing.services == ("tenant-api",)
    assert alertmanager.delivery_id(am_payload()) == alertmanager.delivery_id(am_payload())
    assert alertmanager.delivery_id(am_payload()) != alertmanager.delivery_id(
        am_payload("resolved")
    )


def test_alertmanager_rejects_other_versions_and_empty_groups() -> None:
    with pytest.raises(PayloadError) as err:
        alertmanager.parse({**am_payload(), "version": "3"})
    assert err.value.loc == ["version"]
    with pytest.raises(PayloadError) as err:
        alertmanager.parse({**am_payload(), "alerts": []})
    assert err.value.loc == ["alerts"]


def test_generic_validates_with_field_paths() -> None:
    good = {
        "delivery_id": "d1",
        "incident_id": "i1",
        "event": "resolved",
        "occurred_at": "2026-01-01T00:00:00+01:00",
        "title": "t",
        "severity": "SEV2",
    }
    [event] = generic.parse(good)
    assert event.occurred_at == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    with pytest.raises(PayloadError) as err:
        generic.parse({**good, "occurred_at": "2026-01-01T00:00:00"})
    assert err.value.loc == ["occurred_at"]
