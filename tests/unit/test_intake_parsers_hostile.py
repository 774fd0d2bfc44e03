"""Incident-source parsers on hostile payloads: a value or PayloadError, never anything else.

Each documented payload has one field (at any depth) swapped for a value of another type,
removed, or the whole payload is replaced; parse() and delivery_id() must either work or
raise PayloadError (the webhook's 422). Anything else was a 500 before anything was stored.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.webhooks import alertmanager, generic, opsgenie, pagerduty
from app.webhooks.event import PayloadError
from tests.unit.test_intake_parsers import am_payload, og_payload, pd_payload

GENERIC = {
    "delivery_id": "d-1",
    "incident_id": "ext-1",
    "event": "resolved",
    "occurred_at": "2026-03-01T10:00:00Z",
    "title": "Checkout down",
}
SOURCES = {
    "pagerduty": (pagerduty, pd_payload()),
    "opsgenie": (opsgenie, og_payload()),
    "alertmanager": (alertmanager, am_payload()),
    "generic": (generic, GENERIC),
}
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),  # load_json refuses the others
    st.text(max_size=10),
    st.sampled_from(["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z", "x" * 400]),
)
VALUE = st.recursive(
    LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            out += _paths(child, (*prefix, i))
    return out


@st.composite
def hostile(draw: st.DrawFn, payload: dict[str, Any]) -> Any:
    paths = _paths(payload)
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(VALUE)
    out = copy.deepcopy(payload)
    path = draw(st.sampled_from(paths))
    parent = out
    for step in path[:-1]:
        parent = parent[step]
    if choice == 1:
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(VALUE)
    return out


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_a_parser_answers_or_names_the_field(source: str) -> None:
    module, payload = SOURCES[source]

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(hostile(payload))
    def run(value: Any) -> None:
        for call in (module.parse, module.delivery_id):
            try:
                result = call(value)
            except PayloadError as exc:
                assert exc.loc is not None
                continue
            if call is module.parse:
                for event in result:
                    assert isinstance(event.title, str) and isinstance(event.external_id, str)
                    assert event.url is None or isinstance(event.url, str)
                    assert event.actor is None or isinstance(event.actor, str)
                    assert not math.isnan(event.occurred_at.timestamp())

    run()
