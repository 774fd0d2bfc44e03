"""Canonical JSON (RFC 8785 shape) whose numbers survive every database's round trip.

The audit chain and signed checkpoints hash this serialisation. It follows
RFC 8785 (JSON Canonicalization Scheme): no whitespace, object members
sorted by their UTF-16 code units, strings escaped the JCS way. Numbers are
written from their exact decimal value in ECMAScript notation, which for
every IEEE double is exactly what RFC 8785 writes (Python's `repr` gives the
shortest round-tripping digits, as ECMAScript does).

Why not hash `json.dumps`: PostgreSQL's JSONB keeps numbers as `numeric`
and hands `1e20` back as the integer `100000000000000000000`, `1e16` as
`10000000000000000`, `-0.0` as `0.0`, and reorders keys. Here the float
1e20 and the integer 10**20 are the same number and are written the same
way, zero has no sign, and integers beyond 2**53 keep every digit (RFC 8785
would refuse or round them), so what was sent and what the database hands
back hash alike.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

SAFE = 10**21  # below this ECMAScript writes an integer as plain digits
EXACT = 2.0**53


class NotCanonical(ValueError):
    """A value JSON cannot carry faithfully (NaN, infinity, a non-string key, an object)."""


# json's own C writer, for values where it writes exactly the canonical form (`_plain`).
_PLAIN = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def canonical(value: Any) -> bytes:
    """The canonical UTF-8 bytes of a JSON value (dict, list, str, number, bool, None)."""
    if _plain(value):
        return _PLAIN.encode(value).encode("utf-8")
    return written(value)


def written(value: Any) -> bytes:
    """`canonical`, always by this module's own writer (the reference the fast path matches)."""
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode("utf-8")


def _plain(value: Any) -> bool:
    """Only strings, integers below 1e21, booleans, null, lists and objects with ASCII keys.

    For these json's writer gives the canonical bytes: ASCII keys sort alike by code
    point and by UTF-16 unit, such integers are plain digits either way, and strings
    are escaped by the same `encode_basestring`. Floats, Decimals and other keys take
    the full writer. (An audit entry is nearly always plain: this is most of its cost.)
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -SAFE < value < SAFE
    if kind is dict:
        return all(type(k) is str and k.isascii() and _plain(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_plain(v) for v in value)
    return False


def json_native(value: Any) -> bool:
    """Only objects with string keys, lists, strings, numbers, booleans and null: the JSON
    round trip hands such a value back equal to itself (a tuple, a date or an int key not)."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return True
    if kind is dict:
        return all(type(k) is str and json_native(v) for k, v in value.items())
    if kind is list:
        return all(json_native(v) for v in value)
    return False


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int | float | Decimal):
        out.append(number(value))
    elif isinstance(value, dict):
        _object(value, out)
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise NotCanonical(f"{type(value).__name__} is not a JSON value")


def _object(value: dict[Any, Any], out: list[str]) -> None:
    if not all(isinstance(k, str) for k in value):
        raise NotCanonical("object keys must be strings")
    out.append("{")
    for i, key in enumerate(sorted(value, key=lambda k: k.encode("utf-16-be"))):
        if i:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _write(value[key], out)
    out.append("}")


def _string(text: str) -> str:
    """JCS escaping is exactly `json`'s with ensure_ascii off (short forms, then \\u00xx)."""
    return str(encode_basestring(text))


def number(value: int | float | Decimal) -> str:
    """ECMAScript notation of the number's exact decimal value; zero is "0"."""
    if isinstance(value, int) and -SAFE < value < SAFE:
        return str(value)  # plain digits below 1e21: the common case, fast
    if isinstance(value, float):
        if value.is_integer() and -EXACT < value < EXACT:
            return str(int(value))  # every integer below 2**53 is a double: its own shortest form
        if not math.isfinite(value):
            raise NotCanonical("NaN and infinity are not JSON numbers")
        dec = Decimal(repr(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise NotCanonical("NaN and infinity are not JSON numbers")
        dec = value
    else:
        dec = Decimal(value)
    if dec.is_zero():
        return "0"
    sign, digit_tuple, exponent = dec.as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exp = int(exponent) + (len(digit_tuple) - len(digits))
    return ("-" if sign else "") + _notation(digits.lstrip("0") or "0", exp)


def _notation(digits: str, exp: int) -> str:
    """ECMAScript Number::toString (step 6 onwards) for digits * 10**exp, no trailing zeros."""
    k = len(digits)
    n = k + exp  # the decimal point sits after n digits
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    e = n - 1
    return f"{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"
