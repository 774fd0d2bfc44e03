"""POST /webhooks/<source>: verify, store, commit, answer 202; a job does the work.

Every source is checked over the raw bytes (re-serialised JSON would not
match) with a constant-time compare. Nothing is applied in the request: the
delivery is stored unique on its identifier and committed, and its job runs
after the commit (on RQ, or the background thread), so retries and replays
are answered without effect and the sender never waits for the work.

- Jira: `X-Hub-Signature` (HMAC-SHA256), unique on `X-Atlassian-Webhook-Identifier`.
- PagerDuty v3, Opsgenie, Alertmanager, generic: see `SOURCES`; the payload is
  parsed before it is stored, so a payload no job could use is refused now.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.domain.errors import Invalid, Malformed, NotFound, Unauthenticated
from app.runtime import current
from app.schemas.common import has_nul, load_json
from app.services import intake, tracker_inbound
from app.settings import Settings
from app.webhooks import alertmanager, generic, opsgenie, pagerduty
from app.webhooks.event import PayloadError

bp = Blueprint("webhooks", __name__)
SIGNATURE = "X-Hub-Signature"
IDENTIFIER = "X-Atlassian-Webhook-Identifier"


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        payload: Any = load_json(raw)
    except ValueError as exc:
        raise Malformed(f"malformed JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise Malformed("the webhook body must be a JSON object")
    if has_nul(payload):
        raise Malformed("NUL (\\u0000) characters are not supported")
    return payload


def signature_ok(body: bytes, header: str | None, secret: str) -> bool:
    """WebSub style `sha256=<hex HMAC-SHA256 of the raw body>` (Jira and the generic hook)."""
    if not header:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.strip().encode(), expected.encode())


@bp.post("/webhooks/jira")
def receive_jira() -> tuple[Response, int]:
    secret = current().settings.jira_webhook_secret
    raw = request.get_data(cache=True)
    if not secret:
        raise Unauthenticated(
            "Jira webhooks are refused until HINDSIGHT_JIRA_WEBHOOK_SECRET is set"
        )
    if not signature_ok(raw, request.headers.get(SIGNATURE), secret):
        raise Unauthenticated(f"missing or wrong {SIGNATURE} (expected sha256=<HMAC of the body>)")
    identifier = (request.headers.get(IDENTIFIER) or "").strip()
    if not identifier or len(identifier) > 200:
        raise Malformed(f"{IDENTIFIER} header is required (at most 200 characters)")
    payload = _json_object(raw)
    delivery_id, duplicate = tracker_inbound.receive(current(), identifier, payload)
    if duplicate:
        return jsonify(status="duplicate", delivery=delivery_id), 200
    return jsonify(status="accepted", delivery=delivery_id), 202


def _bearer_ok(_body: bytes, header: str | None, secret: str) -> bool:
    kind, _, token = (header or "").partition(" ")
    return kind.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), secret.encode())


Check = Callable[[bytes, str | None, str], bool]
SOURCES: dict[str, tuple[str, str, Check, Callable[[Any], str]]] = {
    # source: (settings field, header, check, delivery id)
    "pagerduty": (
        "pagerduty_webhook_secret",
        "X-PagerDuty-Signature",
        pagerduty.signature_ok,
        pagerduty.delivery_id,
    ),
    "opsgenie": ("opsgenie_webhook_token", "Authorization", _bearer_ok, opsgenie.delivery_id),
    "alertmanager": (
        "alertmanager_webhook_token",
        "Authorization",
        _bearer_ok,
        alertmanager.delivery_id,
    ),
    "generic": (
        "generic_webhook_secret",
        "X-Hindsight-Signature",
        signature_ok,
        generic.delivery_id,
    ),
}


def _secret(settings: Settings, field: str, source: str) -> str:
    secret: str | None = getattr(settings, field)
    if not secret:
        raise Unauthenticated(
            f"{source} webhooks are refused until HINDSIGHT_{field.upper()} is set"
        )
    return secret


@bp.post("/webhooks/<source>")
def receive(source: str) -> tuple[Response, int]:
    if source not in SOURCES:
        raise NotFound(f"no webhook source {source!r}; known: {', '.join(sorted(SOURCES))}, jira")
    field, header, check, identify = SOURCES[source]
    raw = request.get_data(cache=True)
    if not check(raw, request.headers.get(header), _secret(current().settings, field, source)):
        raise Unauthenticated(f"missing or wrong {header}")
    payload = _json_object(raw)
    try:
        delivery, duplicate = intake.receive(current(), source, identify(payload)[:200], payload)
    except PayloadError as exc:
        raise Invalid(str(exc), errors=[{"loc": ["body", *exc.loc], "msg": exc.msg}]) from None
    status = "duplicate" if duplicate else "accepted"
    return jsonify(status=status, delivery=delivery), 200 if duplicate else 202
