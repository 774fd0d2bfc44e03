"""The one shape every incident source is normalised to before anything is stored.

Parsers are pure functions from a decoded payload to `IncidentEvent`s, so
each source's quirks are tested without HTTP or a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from app.domain.vocabulary import Severity


class EventKind(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    ANNOTATED = "annotated"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def rank(self) -> int:
        """Lifecycle order: an older event arriving late must not move an incident back."""
        return _RANK[self]


_RANK = {
    EventKind.TRIGGERED: 0,
    EventKind.ACKNOWLEDGED: 1,
    EventKind.ESCALATED: 1,
    EventKind.ANNOTATED: 1,
    EventKind.RESOLVED: 2,
    EventKind.CLOSED: 3,
}


@dataclass(frozen=True)
class IncidentEvent:
    source: str
    external_id: str  # the source's incident identity: events for one incident share it
    kind: EventKind
    occurred_at: datetime
    title: str
    severity: Severity
    services: tuple[str, ...] = ()
    summary: str = ""
    url: str | None = None
    actor: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    # The source's own name for what happened ("incident.priority_updated", "AddNote"), and
    # what it said (a note's text, a comment): the timeline shows both, in the source's words.
    what: str | None = None
    detail: str = ""

    def describe(self) -> str:
        who = f" by {self.actor}" if self.actor else ""
        said = f": {self.detail}" if self.detail else ""
        return (
            f"{self.source}: {self.what or 'incident ' + self.kind.value}{who}: {self.title}{said}"
        )


class PayloadError(ValueError):
    """The payload is not what the source documents; `loc` names the field."""

    def __init__(self, loc: list[str | int], msg: str) -> None:
        super().__init__(f"{'.'.join(map(str, loc))}: {msg}")
        self.loc = loc
        self.msg = msg


def dig(payload: Any, *path: str | int) -> Any:
    """Follow a path, raising PayloadError with the path that was missing."""
    node = payload
    for i, step in enumerate(path):
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            raise PayloadError(list(path[: i + 1]), "field required") from None
    return node


def as_object(value: Any, loc: list[str | int]) -> dict[str, Any]:
    """An optional object: {} when absent or null, PayloadError when it is anything else."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(loc, "expected an object")
    return value


def as_text(value: Any, loc: list[str | int]) -> str | None:
    """An optional string (a number is written out); a list, object or boolean is refused."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise PayloadError(loc, "expected a string")


# Epoch numbers by magnitude: Opsgenie sends `createdAt` in milliseconds and `updatedAt` in
# nanoseconds in the same alert. Years 1973-2999 fall in exactly one of these bands.
_EPOCH_UNITS = ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3))


def _epoch(value: float) -> float:
    """Seconds from an epoch number in seconds, milliseconds, microseconds or nanoseconds."""
    for floor, per_second in _EPOCH_UNITS:
        if abs(value) >= floor:
            return value / per_second
    return value


def parse_time(value: Any, loc: list[str | int]) -> datetime:
    """ISO 8601 (naive means UTC) or an epoch number (unit by magnitude), in years 1900-2999."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            parsed = datetime.fromtimestamp(_epoch(value), UTC)
        except (OverflowError, ValueError, OSError):
            raise PayloadError(loc, f"epoch time out of range: {value!r}") from None
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise PayloadError(loc, f"not an ISO 8601 time: {value[:40]!r}") from None
    else:
        raise PayloadError(loc, "expected an ISO 8601 time")
    if not 1900 <= parsed.year <= 2999:
        raise PayloadError(loc, "is outside the supported range (years 1900-2999)")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def slug(name: str) -> str:
    """Service names as the catalog writes them: 'Orders DB' -> 'orders-db'."""
    return "-".join(name.lower().replace("_", " ").split())
