"""Shared pydantic pieces: strict input models, read models, pages."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

T = TypeVar("T")

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=50_000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Integers the database stores as INTEGER: larger values are a 422, not an overflow 500.
INT_MAX = 2**31 - 1


def _json_integer(value: Any) -> Any:
    """An integer as JSON Schema has it: `3` or `3.0`, never `true`, `"3"` or `3.5`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be an integer, not a fraction")
        return int(value)
    return value


def _json_number(value: Any) -> Any:
    """A number, not a boolean: `false` is not a revenue of 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return value


# Strict in bodies: `false` or `"3"` is not a count (`3.0` is, as in JSON Schema).
Count = Annotated[int, Field(ge=0, le=INT_MAX), BeforeValidator(_json_integer)]
Id = Annotated[int, Field(ge=1, le=INT_MAX), BeforeValidator(_json_integer)]
Money = Annotated[float, Field(ge=0, allow_inf_nan=False), BeforeValidator(_json_number)]


def _iso_day(value: Any) -> Any:
    """A day is `YYYY-MM-DD` text: `0` is not the epoch's day."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value.strip()):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
Day = Annotated[date, BeforeValidator(_iso_day)]
MAX_JSON_DEPTH = 32
FIRST_YEAR, LAST_YEAR = 1900, 2999
# What /openapi.json says of every timestamp: the year as written is 1900-2999.
YEAR_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-"


_ISO_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]")


def _iso_text_only(value: Any) -> Any:
    """A timestamp is an ISO 8601 string: numbers (and numeric strings) are not epochs here."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string with a UTC offset")
    if not _ISO_START.match(value.strip()):
        raise ValueError("must be an ISO 8601 date-time (YYYY-MM-DDThh:mm:ss+hh:mm), not a number")
    return value


def _in_range(value: datetime) -> datetime:
    """The year as written is 1900-2999, as the OpenAPI document says (YEAR_PATTERN).

    Its UTC value then always exists (9999-12-31T23:59-14:00 has none) and leaves room
    for the date arithmetic done on it (review due dates, report windows).
    """
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"is outside the supported range (years {FIRST_YEAR}-{LAST_YEAR})")
    return value


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_text_only),
    AfterValidator(_in_range),
    Field(json_schema_extra={"pattern": YEAR_PATTERN}),
]


class NotNull:
    """`Annotated[X | None, NotNull()] = None`: a PATCH field that may be left out, not nulled.

    The column behind it holds a value, so an explicit `null` is a 422 here and the
    OpenAPI document does not offer `null` for it (only the fields that may be cleared do).
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(_not_null, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        value = handler(schema)
        branches = [b for b in value.get("anyOf", []) if b != {"type": "null"}]
        if len(branches) == 1 and "anyOf" in value:
            rest = {k: v for k, v in value.items() if k != "anyOf"}
            return {**branches[0], **rest}
        return value


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may not be null")
    return value


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


def _no_null_defaults(schema: dict[str, Any]) -> None:
    """A NotNull field's `default: null` is "leave it out", not a value to send: drop it."""
    for prop in schema.get("properties", {}).values():
        typed = isinstance(prop, dict) and prop.get("default", 0) is None and "type" in prop
        if typed and "null" not in prop["type"]:
            del prop["default"]


class Input(BaseModel):
    """Unknown fields are errors: a typo must not silently drop data."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_no_null_defaults
    )

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
