"""X-Hub-Signature: HMAC-SHA256 of the raw body, WebSub style, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

from app.api.webhooks import signature_ok

SECRET = "It's a Secret to Everybody"
BODY = b'{"webhookEvent":"jira:issue_updated","timestamp":1}'


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_correct_signature_passes() -> None:
    assert signature_ok(BODY, sign(BODY), SECRET)


def test_missing_wrong_secret_wrong_body_or_wrong_scheme_fail() -> None:
    assert not signature_ok(BODY, None, SECRET)
    assert not signature_ok(BODY, "", SECRET)
    assert not signature_ok(BODY, sign(BODY, "other"), SECRET)
    assert not signature_ok(BODY + b" ", sign(BODY), SECRET)
    assert not signature_ok(BODY, sign(BODY).removeprefix("sha256="), SECRET)
    assert not signature_ok(BODY, "sha1=" + hashlib.sha1(BODY).hexdigest(), SECRET)
    assert not signature_ok(BODY, sign(BODY).upper(), SECRET)


def test_non_ascii_header_is_a_failure_not_a_crash() -> None:
    assert not signature_ok(BODY, "sha256=ünïcode", SECRET)
