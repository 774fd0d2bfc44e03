"""A circuit breaker in front of the tracker, shared by every process that pushes.

Per-row back-off alone still lets each drain job (one per worker, per sweep,
per write) ask a Jira that is down, and each answer it does not give costs a
client timeout. So after `failures` consecutive rounds that ended on no answer,
a timeout or a 5xx the breaker opens: pushes stop calling Jira and their due
rows are postponed (no attempt counted) until the cool-down has passed; then
one round of one row goes through as a probe (half-open). An answer closes the
breaker, another failure opens it for a further cool-down.

The state lives in the database (`sync_state`, one JSON value), not in Redis:
every process that pushes already shares the database and reads it under the
push lease, so the breaker is read and written by one process at a time with
no new locking; it survives restarts; it works when Redis is down (which is
exactly when the sweep and `hindsight sync push` still drain); and `/healthz`
on any replica reads the same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.settings import Settings

from . import state
from .tracker import TrackerError

KEY = "jira.breaker"
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
# What `admit` answers: push as usual, hold every row back, or let one probe through.
GO, HOLD, PROBE = "go", "hold", "probe"


@dataclass
class BreakerState:
    state: str = CLOSED
    failures: int = 0  # consecutive rounds that ended with the tracker down
    opened_at: str | None = None  # ISO time the current outage was first noticed
    retry_at: str | None = None  # ISO time the next probe may go
    last_error: str | None = None

    @property
    def reachable(self) -> bool:
        return self.state == CLOSED

    def retry_time(self) -> datetime | None:
        return datetime.fromisoformat(self.retry_at) if self.retry_at else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read(session: Session) -> BreakerState:
    raw = state.get_json(session, KEY)
    if not isinstance(raw, dict):
        return BreakerState()
    known = BreakerState.__dataclass_fields__
    return BreakerState(**{k: v for k, v in raw.items() if k in known})


class Breaker:
    """Reads and moves the shared state; every method works in the caller's transaction."""

    def __init__(self, threshold: int, cooldown: float, clock: Callable[[], datetime]) -> None:
        self.threshold, self.cooldown, self.clock = threshold, timedelta(seconds=cooldown), clock

    @classmethod
    def from_settings(cls, s: Settings, clock: Callable[[], datetime]) -> Breaker:
        return cls(s.sync_breaker_failures, s.sync_breaker_cooldown_seconds, clock)

    def admit(self, session: Session) -> tuple[str, BreakerState]:
        """GO while closed; HOLD until the cool-down ends; then PROBE, once per cool-down
        (a probe whose process died simply lets the next one through a cool-down later)."""
        current = read(session)
        if current.state == CLOSED:
            return GO, current
        now = self.clock()
        retry = current.retry_time()
        if retry is not None and now < retry:
            return HOLD, current
        current.state = HALF_OPEN
        current.retry_at = (now + self.cooldown).isoformat()
        state.set_json(session, KEY, current.as_dict())
        return PROBE, current

    def succeeded(self, session: Session) -> None:
        """The tracker answered: whatever the state was, it is closed now."""
        current = read(session)
        if current.state != CLOSED or current.failures:
            state.set_json(session, KEY, BreakerState().as_dict())

    def failed(self, session: Session, error: TrackerError) -> BreakerState:
        """A round ended with the tracker down: count it; open at the threshold, or again
        after a failed probe."""
        current = read(session)
        now = self.clock()
        current.failures += 1
        current.last_error = str(error)[:300]
        if current.state == HALF_OPEN or current.failures >= self.threshold:
            if current.state == CLOSED:
                current.opened_at = now.isoformat()
            current.state = OPEN
            current.retry_at = (now + self.cooldown).isoformat()
        state.set_json(session, KEY, current.as_dict())
        return current

    def probe_unused(self, session: Session) -> None:
        """A probe round that made no call (its row was waiting on something else): the next
        round may probe at once instead of a cool-down later."""
        current = read(session)
        if current.state == HALF_OPEN:
            current.retry_at = self.clock().isoformat()
            state.set_json(session, KEY, current.as_dict())
