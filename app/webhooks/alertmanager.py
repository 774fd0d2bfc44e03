"""Prometheus Alertmanager webhook receiver (payload version 4).

One notification is a group of alerts; the group (`groupKey`) is the
incident. Alertmanager repeats identical notifications on its
repeat_interval, so the delivery id is a hash of the body: repeats are
duplicates, a change in the group is a new delivery.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from app.domain.vocabulary import Severity

from .event import EventKind, IncidentEvent, PayloadError, as_object, as_text, dig, parse_time, slug

_SEVERITY = {
    "critical": Severity.SEV2,
    "page": Severity.SEV2,
    "error": Severity.SEV3,
    "warning": Severity.SEV3,
    "info": Severity.SEV4,
}


def delivery_id(payload: Any) -> str:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _severity(labels: dict[str, str]) -> Severity:
    explicit = str(labels.get("incident_severity", "")).upper()
    if explicit in Severity.__members__:
        return Severity(explicit)
    return _SEVERITY.get(str(labels.get("severity", "")).lower(), Severity.SEV3)


def parse(payload: Any) -> list[IncidentEvent]:
    if str(dig(payload, "version")) != "4":
        raise PayloadError(["version"], "only Alertmanager webhook version 4 is understood")
    alerts = dig(payload, "alerts")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadError(["alerts"], "expected a non-empty list")
    status = dig(payload, "status")
    if status not in ("firing", "resolved"):
        raise PayloadError(["status"], "expected 'firing' or 'resolved'")
    labels = {
        **as_object(payload.get("groupLabels"), ["groupLabels"]),
        **as_object(payload.get("commonLabels"), ["commonLabels"]),
    }
    annotations = as_object(payload.get("commonAnnotations"), ["commonAnnotations"])
    firing = status == "firing"
    times = [
        parse_time(
            dig(a, "startsAt" if firing else "endsAt"),
            ["alerts", i, "startsAt" if firing else "endsAt"],
        )
        for i, a in enumerate(alerts)
    ]
    service = labels.get("service") or labels.get("job")
    return [
        IncidentEvent(
            source="alertmanager",
            external_id=str(dig(payload, "groupKey")),
            kind=EventKind.TRIGGERED if firing else EventKind.RESOLVED,
            occurred_at=min(times) if firing else max(times),
            title=str(
                annotations.get("summary") or labels.get("alertname") or "Alertmanager alert"
            ),
            severity=_severity(labels),
            services=(slug(str(service)),) if service else (),
            summary=str(annotations.get("description") or ""),
            url=as_text(payload.get("externalURL"), ["externalURL"]),
        )
    ]
