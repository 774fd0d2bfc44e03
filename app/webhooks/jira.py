"""POST /webhooks/jira: verify, store, commit, enqueue, answer 202.

The signature is checked over the raw bytes (re-serialised JSON would not
match) with a constant-time compare. Nothing is applied in the request: the
delivery is stored unique on X-Atlassian-Webhook-Identifier and a job does
the work, so Jira's retries and replays are answered 200 without effect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.errors import BadRequest, Unauthorized
from app.runtime import current
from app.schemas.common import has_nul
from app.sync.inbound import store_delivery

bp = Blueprint("webhooks_jira", __name__)
SIGNATURE = "X-Hub-Signature"
IDENTIFIER = "X-Atlassian-Webhook-Identifier"


def signature_ok(body: bytes, header: str | None, secret: str) -> bool:
    """WebSub style `sha256=<hex HMAC-SHA256 of the raw body>`."""
    if not header:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.strip().encode(), expected.encode())


@bp.post("/webhooks/jira")
def receive() -> tuple[Response, int]:
    secret = current().settings.jira_webhook_secret
    raw = request.get_data(cache=True)
    if not secret:
        raise Unauthorized("Jira webhooks are refused until HINDSIGHT_JIRA_WEBHOOK_SECRET is set")
    if not signature_ok(raw, request.headers.get(SIGNATURE), secret):
        raise Unauthorized(f"missing or wrong {SIGNATURE} (expected sha256=<HMAC of the body>)")
    identifier = (request.headers.get(IDENTIFIER) or "").strip()
    if not identifier or len(identifier) > 200:
        raise BadRequest(f"{IDENTIFIER} header is required (at most 200 characters)")
    try:
        payload: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise BadRequest("the webhook body must be a JSON object")
    if has_nul(payload):
        raise BadRequest("NUL (\\u0000) characters are not supported")
    delivery_id, duplicate = store_delivery(current(), identifier, payload)
    if duplicate:
        return jsonify(status="duplicate", delivery=delivery_id), 200
    return jsonify(status="accepted", delivery=delivery_id), 202
