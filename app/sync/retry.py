"""Back-off for tracker calls, done at the job level.

The jira client's own retries are switched off: they re-send POSTs after a
dropped connection (a duplicate issue if the first one was created) and
crash on a Retry-After given as an HTTP-date. Here a failure is classified
once, the server's Retry-After wins when present, and otherwise the delay
grows exponentially with jitter (a random point in the upper half of the
window) so a fleet of workers does not retry in lock-step after an outage.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from .tracker import TrackerError


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date.

    Unparseable values return None (fall back to our own back-off) instead of
    raising, which is exactly the crash we avoid by not using the client's retry.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class Backoff:
    base: float = 1.0
    cap: float = 300.0
    max_attempts: int = 25

    def delay(self, attempt: int, error: TrackerError, rng: random.Random | None = None) -> float:
        """Seconds before attempt `attempt + 1`; `attempt` counts failures so far (>= 1)."""
        if error.retry_after is not None:
            # Honour the server, plus a little jitter so waiters do not stampede together.
            return min(self.cap, error.retry_after) + (rng or random).uniform(0, 0.25)
        ceiling = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
