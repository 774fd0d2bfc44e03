"""Signed webhook requests for every incident source, as each source sends them.

Shared by the end-to-end replay and `bench/intake.py`: the secrets below go into the
service's environment, and `signed` builds the exact bytes and headers the source sends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).resolve().parents[1] / "data" / "payloads"
PD_SECRET = "pd-secret-0123456789abcdef"
BEARER = "bearer-token-0123456789abcdef"
GENERIC_SECRET = "generic-secret-0123456789ab"
JIRA_SECRET = "jira-secret-0123456789abcdef"

ENV = {
    "HINDSIGHT_PAGERDUTY_WEBHOOK_SECRET": PD_SECRET,
    "HINDSIGHT_OPSGENIE_WEBHOOK_TOKEN": BEARER,
    "HINDSIGHT_ALERTMANAGER_WEBHOOK_TOKEN": BEARER,
    "HINDSIGHT_GENERIC_WEBHOOK_SECRET": GENERIC_SECRET,
}


def recorded(source: str) -> list[dict[str, Any]]:
    """A source's documented payloads, in the order they happen."""
    files = sorted((PAYLOADS / source).glob("[0-9]*.json"))
    return [json.loads(p.read_text()) for p in files]


def signed(source: str, payload: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
    """(path, raw body, headers) of one delivery, signed the way the source signs it."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if source == "pagerduty":
        digest = hmac.new(PD_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers["X-PagerDuty-Signature"] = f"v1={digest}"
    elif source in ("opsgenie", "alertmanager"):
        headers["Authorization"] = f"Bearer {BEARER}"
    elif source == "generic":
        digest = hmac.new(GENERIC_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hindsight-Signature"] = f"sha256={digest}"
    return f"/webhooks/{source}", body, headers


def generic_incident(incident_id: str) -> list[dict[str, Any]]:
    """The generic hook's documented shape: triggered, acknowledged, resolved."""
    base = {
        "incident_id": incident_id,
        "title": "Orders database replica lag above 5 minutes",
        "severity": "SEV2",
        "services": ["orders-db"],
        "summary": "Replica lag grew during the nightly batch.",
        "url": "https://status.example.com/incidents/ext-7",
    }
    steps = [
        ("triggered", "2026-11-30T08:00:00Z", None),
        ("acknowledged", "2026-11-30T08:06:00Z", "Priya Raman"),
        ("resolved", "2026-11-30T09:30:00Z", "Priya Raman"),
    ]
    return [
        {**base, "delivery_id": f"{incident_id}-{n}", "event": e, "occurred_at": at, "actor": who}
        for n, (e, at, who) in enumerate(steps)
    ]
