"""Shared pydantic pieces: strict input models, read models, pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

T = TypeVar("T")

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=50_000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Integers the database stores as INTEGER: larger values are a 422, not an overflow 500.
INT_MAX = 2**31 - 1
# Strict in bodies: `false` or `1.0` is not a count; JSON has real integers for that.
Count = Annotated[int, Field(ge=0, le=INT_MAX, strict=True)]
Id = Annotated[int, Field(ge=1, le=INT_MAX, strict=True)]
MAX_JSON_DEPTH = 32
EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, tzinfo=UTC)


def _iso_text_only(value: Any) -> Any:
    """A timestamp is an ISO 8601 string: numbers (and numeric strings) are not epochs here."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string with a UTC offset")
    if value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("must be an ISO 8601 date-time, not a number")
    return value


def _in_range(value: datetime) -> datetime:
    """Stored in UTC: a time whose UTC value does not exist (9999-12-31T23:59-14:00) is a 422."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the supported range (years 1900-2999)") from None
    if not EARLIEST <= utc <= LATEST:
        raise ValueError("is outside the supported range (years 1900-2999)")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_text_only), AfterValidator(_in_range)]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(raw: bytes | str) -> Any:
    """JSON as the API accepts it: standard numbers only, nesting at most MAX_JSON_DEPTH.

    Raises ValueError (with a message fit for a 400) for anything else, including
    NaN/Infinity, integers too long to convert, and nesting deep enough to exhaust
    the parser's recursion, so no input can reach a handler as a 500.
    """
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: {exc}") from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, over-long integers
        raise ValueError(str(exc)) from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def has_nul(value: Any) -> bool:
    """True if any string in a decoded JSON value holds NUL, which PostgreSQL cannot store."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set):
        return any(has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    return False


class Input(BaseModel):
    """Unknown fields are errors: a typo must not silently drop data."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """PostgreSQL cannot store NUL in text or JSON: refuse it here, not with a 500."""
        if has_nul(value):
            raise ValueError("NUL (\\u0000) characters are not allowed")
        return value


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(Output, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class PageQuery(Input):
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=INT_MAX)
