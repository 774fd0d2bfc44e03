"""Every route, webhooks too, driven with hostile input (hypothesis): no answer is a 5xx.

The routes come from the app's URL map, so a new endpoint is covered without touching
this file. Each example is one request: a path whose variables are real keys or hostile
text (NUL, non-ASCII, 300 characters, ids out of range), a query string, headers (good and
bad tokens, non-ASCII and malformed signatures, valid signatures over hostile bodies) and
a body (deep nesting, 5,000-digit integers, NaN and Infinity, datetimes whose UTC value does
not exist, NUL, invalid UTF-8, payloads shaped like a source's but with hostile fields).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ADMIN_TOKEN, READ_TOKEN, WRITE_TOKEN, ApiClient, SharedApps, settle

pytestmark = pytest.mark.slow

SECRETS = {
    "pagerduty_webhook_secret": "pd-secret-0123456789",
    "generic_webhook_secret": "generic-secret-012345",
    "opsgenie_webhook_token": "og-token-0123456789",
    "alertmanager_webhook_token": "am-token-0123456789",
    "jira_webhook_secret": "jira-secret-0123456789",
}
EXAMPLES = 400

EXTREME_TIMES = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2026-02-30T10:00:00Z",
    "2026-03-01T10:00:00",
    "2026-03-01T10:00:00+25:00",
    "1e999",
    "-0",
]
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.just(10**300),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(EXTREME_TIMES),
    st.text(max_size=20),
    st.sampled_from(["\x00", "é€😀", "SEV1", "resolved", "INC-1", "x" * 400, " "]),
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "title",
    "severity",
    "status",
    "services",
    "impact",
    "started_at",
    "resolved_at",
    "kind",
    "text",
    "at",
    "statement",
    "type",
    "due_date",
    "cause_ids",
    "owner",
    "q",
    "reason",
    "event",
    "messages",
    "alerts",
    "alert",
    "action",
    "delivery_id",
    "incident_id",
    "occurred_at",
    "status_reason",
    "from",
    "to",
    "incident",
    "name",
    "scope",
    "customers",
]
SHAPED = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=6)
RAW_BODIES = st.sampled_from(
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b'{"title": NaN}',
        b'{"title": Infinity, "severity": -Infinity}',
        b'{"impact": {"customers": ' + b"9" * 5000 + b"}}",
        b'{"event": {"id": 1e999}}',
        b"\xff\xfe\x00{",
        b'{"title": "\\ud800"}',
        b"",
        b"null",
        b"[]",
    ]
)


def _generic(extra: dict[str, Any]) -> dict[str, Any]:
    base = {
        "delivery_id": "d-1",
        "incident_id": "i-1",
        "event": "resolved",
        "occurred_at": "2026-03-01T10:00:00Z",
        "title": "Checkout down",
        "severity": "SEV2",
        "services": ["checkout"],
    }
    return {**base, **extra}


BODIES = st.one_of(
    RAW_BODIES,
    SHAPED.map(lambda d: json.dumps(d).encode()),
    SHAPED.map(lambda d: json.dumps(_generic(d)).encode()),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
)
PATH_TEXT = st.one_of(
    st.sampled_from(["INC-%00", "%00", "ИНЦ-1", "A" * 300, "INC-99999999999", "ACT-0", "..", "%"]),
    st.text(min_size=1, max_size=30).map(lambda t: quote(t, safe="")),
)
PATH_IDS = st.sampled_from(["1", "0", "-1", "2147483648", str(2**63), "abc", "1.5", "%00"])
QUERY = st.dictionaries(
    st.sampled_from(
        [
            "limit",
            "offset",
            "since",
            "until",
            "q",
            "format",
            "status",
            "severity",
            "service",
            "team",
            "category",
            "incident",
            "owner",
            "x",
        ]
    ),
    st.one_of(
        st.sampled_from(
            EXTREME_TIMES + ["NaN", "Infinity", "false", "0.5", "\x00", "é", "9" * 400]
        ),
        st.text(max_size=15),
    ),
    max_size=4,
)
BAD_AUTH = ["Bearer é€", "Bearer \x00", "Basic abc", "Bearer " + "x" * 5000, "Bearer", ""]


def _signed(path: str, body: bytes, good: bool) -> dict[str, str]:
    """The source's own credential over this very body (or a broken one)."""
    source = path.rsplit("/", 1)[-1]
    secret = next((v for k, v in SECRETS.items() if k.startswith(source)), "nope")
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not good:
        digest = "é€" + digest[3:]
    headers = {
        "pagerduty": {"X-PagerDuty-Signature": f"v1={digest}"},
        "generic": {"X-Hindsight-Signature": f"sha256={digest}"},
        "jira": {"X-Hub-Signature": f"sha256={digest}", "X-Atlassian-Webhook-Identifier": "é-1"},
    }.get(source, {"Authorization": f"Bearer {secret if good else 'é€'}"})
    return headers


@st.composite
def requests_(draw: st.DrawFn, routes: list[tuple[str, str]], keys: dict[str, str]) -> Any:
    method, rule = draw(st.sampled_from(routes))

    def fill(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        if converter == "id":
            return draw(PATH_IDS)
        if name == "source":
            return draw(st.sampled_from(["pagerduty", "opsgenie", "alertmanager", "generic", "x"]))
        real = keys["actions" if rule.startswith("/api/v1/actions") else "incidents"]
        return draw(st.one_of(st.just(real), PATH_TEXT))

    path = re.sub(r"<(?:(\w+):)?(\w+)>", fill, rule)
    body = draw(BODIES)
    if rule.startswith("/webhooks"):
        headers = _signed(path, body, draw(st.booleans()))
    else:
        token = draw(st.sampled_from([WRITE_TOKEN, ADMIN_TOKEN, READ_TOKEN, *BAD_AUTH]))
        headers = {"Authorization": token if token in BAD_AUTH else f"Bearer {token}"}
    content_type = draw(
        st.sampled_from(["application/json", "text/plain", "application/json; charset=latin-1"])
    )
    return method, path, draw(QUERY), headers, body, content_type


@pytest.fixture
def hooks_app(shared_apps: SharedApps) -> Iterator[Flask]:
    with shared_apps.bound(**SECRETS) as application:
        yield application


def test_no_input_gets_a_server_error(hooks_app: Flask) -> None:
    api = ApiClient(hooks_app.test_client(), ADMIN_TOKEN)
    incident = api.post("/api/v1/incidents", json={"title": "Seed", "severity": "SEV3"}).json
    action = api.post(
        f"/api/v1/incidents/{incident['key']}/actions", json={"title": "Canary", "type": "prevent"}
    ).json
    keys = {"incidents": incident["key"], "actions": action["key"]}
    routes = sorted(
        (method, rule.rule)
        for rule in hooks_app.url_map.iter_rules()
        if not rule.rule.startswith("/static")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )
    client = hooks_app.test_client()

    @given(requests_(routes, keys))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def one(request: Any) -> None:
        method, path, query, headers, body, content_type = request
        resp = client.open(
            path,
            method=method,
            query_string=query,
            headers=headers,
            data=body,
            content_type=content_type,
        )
        settle(hooks_app)  # what the request queued ran too, and may not have broken it
        assert resp.status_code < 500, (method, path, query, headers, body[:300], resp.data[:500])

    one()
