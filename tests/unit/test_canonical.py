"""Canonical JSON: RFC 8785's output for doubles, one form per number, exact big integers."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.canonical import NotCanonical, canonical, number, written

# RFC 8785 appendix B (IEEE 754 doubles and their ECMAScript serialisation)
RFC8785_NUMBERS = [
    (0.0, "0"),
    (-0.0, "0"),
    (5e-324, "5e-324"),
    (-5e-324, "-5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (-1.7976931348623157e308, "-1.7976931348623157e+308"),
    (9007199254740992.0, "9007199254740992"),
    (-9007199254740992.0, "-9007199254740992"),
    (295147905179352830000.0, "295147905179352830000"),
    (9.999999999999997e22, "9.999999999999997e+22"),
    (1e23, "1e+23"),
    (1.0000000000000001e23, "1.0000000000000001e+23"),
    (999999999999999700000.0, "999999999999999700000"),
    (999999999999999900000.0, "999999999999999900000"),
    (1e21, "1e+21"),
    (9.999999999999997e-7, "9.999999999999997e-7"),
    (0.000001, "0.000001"),
    (333333333.3333332, "333333333.3333332"),
    (333333333.33333325, "333333333.33333325"),
    (333333333.3333333, "333333333.3333333"),
    (333333333.3333334, "333333333.3333334"),
    (333333333.33333343, "333333333.33333343"),
    (-0.0000033333333333333333, "-0.0000033333333333333333"),
    (1e-7, "1e-7"),
]


@pytest.mark.parametrize(("value", "text"), RFC8785_NUMBERS)
def test_doubles_are_written_as_rfc_8785_writes_them(value: float, text: str) -> None:
    assert number(value) == text


def test_rfc_8785_sorting_and_escaping() -> None:
    """Members sorted by UTF-16 code units (RFC 8785 section 3.2.3's example), JCS escapes."""
    data = {"\u20ac": "Euro", "\r": "CR", "\ufb33": "Hebrew", "1": "One", "\U0001f600": "Smiley",
            "\u0080": "Control", "\u00f6": "Latin"}  # fmt: skip
    keys = list(json.loads(canonical(data)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert canonical({"s": '\u2028\x1f"\\/'}) == '{"s":"\u2028\\u001f\\"\\\\/"}'.encode()
    assert canonical([None, True, False, [], {}]) == b"[null,true,false,[],{}]"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1e20, 10**20),  # what PostgreSQL's JSONB hands back for 1e20
        (1e16, 10**16),
        (-0.0, 0),
        (1.5e300, 15 * 10**299),
        (0.1, Decimal("0.1")),
        (2.50, Decimal("2.500")),
    ],
)
def test_one_number_one_form(a: object, b: object) -> None:
    assert canonical({"n": a}) == canonical({"n": b})


def test_big_integers_keep_every_digit() -> None:
    n = 123456789012345678901234567890
    assert number(n) == "1.2345678901234567890123456789e+29"
    assert number(n) != number(n + 1)
    assert number(-(10**25) - 7) == "-1.0000000000000000000000007e+25"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, Decimal("NaN"), {1: "x"}, b"x"])
def test_what_json_cannot_carry_is_refused(bad: object) -> None:
    with pytest.raises(NotCanonical):
        canonical({"v": bad})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@given(JSON)
def test_a_json_round_trip_changes_nothing(value: object) -> None:
    assert canonical(value) == canonical(json.loads(json.dumps(value)))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_double_reads_back_as_itself_and_as_its_integer(value: float) -> None:
    text = number(value)
    assert float(text) == value
    if value.is_integer():
        # JSONB keeps json.dumps' decimal exactly and hands an integral one back as an integer
        assert number(int(Decimal(json.dumps(value)))) == text


_JSON_KEYS = st.text(max_size=6) | st.sampled_from(["a", "B", "\u20ac", "\U0001f600", "\ufb33"])
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**22), max_value=10**22)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_JSON_KEYS, inner, max_size=4),
    max_leaves=20,
)


@given(_JSON)
def test_the_fast_path_writes_exactly_what_the_full_writer_writes(value: object) -> None:
    assert canonical(value) == written(value)


def test_the_fast_path_leaves_what_json_would_write_differently_to_the_full_writer() -> None:
    assert canonical({"\U0001f600": 1, "\ufb33": 2}) == written({"\U0001f600": 1, "\ufb33": 2})
    assert (
        canonical({"n": 10**21, "f": 1e16, "z": -0.0}) == b'{"f":10000000000000000,"n":1e+21,"z":0}'
    )
    assert canonical({"t": (1, "x")}) == b'{"t":[1,"x"]}'
