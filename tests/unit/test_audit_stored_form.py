"""The audit chain hashes a value as the JSON column hands it back: the fast path that
skips the round trip for values already in that form must give exactly the same value."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.audit import _stored_form

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_ODD = st.dates() | st.tuples(st.integers(), st.text())  # not JSON: the round trip changes them
_VALUES = st.recursive(
    _SCALARS | _ODD,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        | st.dictionaries(st.integers(), inner, max_size=3)
    ),
    max_leaves=20,
)


def _typed(value: Any) -> Any:
    """The value with every scalar's type beside it (1 == 1.0 == True would hide a change)."""
    if isinstance(value, dict):
        return {repr(k): _typed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [type(value).__name__, *map(_typed, value)]
    return (type(value).__name__, value)


@given(_VALUES)
def test_the_stored_form_is_the_json_round_trip(value: Any) -> None:
    round_trip = json.loads(json.dumps(value, default=str, sort_keys=True))
    assert _typed(_stored_form(value)) == _typed(round_trip)


def test_values_json_cannot_carry_are_converted() -> None:
    assert _stored_form({"on": date(2026, 12, 3), "pair": (1, 2), "n": {3: "x"}}) == {
        "on": "2026-12-03",
        "pair": [1, 2],
        "n": {"3": "x"},
    }
