"""What can go wrong in a use case, in the domain's words: plain exceptions, no HTTP.

Services raise these; each entry point says what they mean to its caller
(`app/api/problems.py` maps them onto problem+json statuses, the CLI prints
one line). Keeping status codes out of here is what lets the domain and the
services be imported, and tested, without Flask.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    """A refused request: `detail` for people, `errors` ([{loc, msg}]) for programs."""

    title = "Error"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra or {}


class Malformed(DomainError):
    """The input could not be read at all (not JSON, not YAML, not UTF-8)."""

    title = "Bad request"


class Unauthenticated(DomainError):
    """No credential, or one Hindsight does not know."""

    title = "Unauthorized"


class Forbidden(DomainError):
    """A known caller asking for something its role or scope does not allow."""

    title = "Forbidden"


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    """The request is well formed but the record's current state does not allow it."""

    title = "Conflict"


class TooLarge(DomainError):
    """The content is larger than Hindsight accepts (an evidence file over its limit)."""

    title = "Content too large"


class Invalid(DomainError):
    """One or more fields are wrong; `errors` names each by its path."""

    title = "Validation failed"


def field_error(loc: Sequence[str | int], msg: str) -> Invalid:
    """One invalid field, with its path (e.g. ["body", "impact", "customers"])."""
    return Invalid(f"{'.'.join(map(str, loc))}: {msg}", errors=[{"loc": list(loc), "msg": msg}])


def from_validation(exc: Any, prefix: tuple[str, ...] = ("body",)) -> Invalid:
    """A pydantic `ValidationError` as one `Invalid` naming every field."""
    errors = [
        {"loc": [*prefix, *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    first = errors[0]
    return Invalid(
        f"{len(errors)} invalid field(s); first: {'.'.join(map(str, first['loc']))}: "
        f"{first['msg']}",
        errors=errors,
    )
