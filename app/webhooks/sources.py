"""POST /webhooks/pagerduty|opsgenie|alertmanager|generic: verify, parse, store, 202.

Each source authenticates the way it documents: PagerDuty and the generic
hook sign the raw body (HMAC-SHA256); Opsgenie and Alertmanager send a
configured bearer token. A source with no secret configured is refused, so a
fresh install never accepts unauthenticated incidents.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.errors import BadRequest, NotFound, Unauthorized, Unprocessable
from app.runtime import current
from app.schemas.common import has_nul
from app.services import intake
from app.settings import Settings

from . import alertmanager, generic, opsgenie, pagerduty
from .event import PayloadError

bp = Blueprint("webhooks_sources", __name__)


def _hmac_ok(body: bytes, header: str | None, secret: str) -> bool:
    if not header:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.strip(), expected)


def _bearer_ok(_body: bytes, header: str | None, secret: str) -> bool:
    kind, _, token = (header or "").partition(" ")
    return kind.lower() == "bearer" and hmac.compare_digest(token.strip(), secret)


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
    "generic": ("generic_webhook_secret", "X-Hindsight-Signature", _hmac_ok, generic.delivery_id),
}


def _secret(settings: Settings, field: str, source: str) -> str:
    secret: str | None = getattr(settings, field)
    if not secret:
        raise Unauthorized(f"{source} webhooks are refused until HINDSIGHT_{field.upper()} is set")
    return secret


@bp.post("/webhooks/<source>")
def receive(source: str) -> tuple[Response, int]:
    if source not in SOURCES:
        raise NotFound(f"no webhook source {source!r}; known: {', '.join(sorted(SOURCES))}, jira")
    field, header, check, identify = SOURCES[source]
    raw = request.get_data(cache=True)
    if not check(raw, request.headers.get(header), _secret(current().settings, field, source)):
        raise Unauthorized(f"missing or wrong {header}")
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise BadRequest("the webhook body must be a JSON object")
    if has_nul(payload):
        raise BadRequest("NUL (\\u0000) characters are not supported")
    try:
        delivery, duplicate = intake.receive(current(), source, identify(payload)[:200], payload)
    except PayloadError as exc:
        raise Unprocessable(
            str(exc), errors=[{"loc": ["body", *exc.loc], "msg": exc.msg}]
        ) from None
    status = "duplicate" if duplicate else "accepted"
    return jsonify(status=status, delivery=delivery), 200 if duplicate else 202
