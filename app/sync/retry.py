"""How long an outbox row waits after a transient tracker failure.

There is one retry layer for tracker calls: the outbox row. A failed push
counts an attempt on the rows it was for and sets their next try
(`outbox.defer`); the drain waits for rows due soon, the sweep picks up the
rest. Nothing retries underneath it: the jira client's own retries are off
(they re-send POSTs after a dropped connection, a duplicate issue if the
first one was created, and crash on a Retry-After given as an HTTP-date),
RQ does not retry jobs, and the pusher does not loop over a failing call.

A row is given up on (the dead letter) only when the tracker refuses it for good
(a permanent 4xx) or when it has kept failing for the horizon (default 24
hours) since its first failure: counting attempts would dead-letter everything
in a long outage however slowly we retried. Time comes from the clock handed
in, so tests walk an hour of outage without waiting for it.

The delay itself is tenacity's arithmetic rather than ours: the server's
Retry-After wins when present (plus a little jitter), otherwise the delay
grows exponentially with jitter, a random point in the upper half of the
window, so a fleet of workers does not retry in lock-step after an outage.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from tenacity import RetryCallState, Retrying
from tenacity.wait import wait_base, wait_exponential, wait_random, wait_random_exponential

from app.settings import Settings

from .tracker import TrackerError

RETRY_AFTER_JITTER = 0.25  # seconds added to a server's Retry-After, so waiters do not stampede


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


class wait_retry_after(wait_base):  # noqa: N801  (named like tenacity's own strategies)
    """The server's Retry-After (capped, plus jitter) when the failure carries one, else
    `fallback`."""

    def __init__(self, cap: float, fallback: wait_base) -> None:
        self.cap, self.fallback = cap, fallback
        self.jitter = wait_random(0, RETRY_AFTER_JITTER)

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, TrackerError) and error.retry_after is not None:
            return min(self.cap, error.retry_after) + self.jitter(retry_state)
        return float(self.fallback(retry_state))


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Backoff:
    """The outbox's back-off policy: `delay` for the next try, `expired` for the dead letter."""

    def __init__(
        self,
        base: float = 1.0,
        cap: float = 300.0,
        horizon: float = 86400.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.horizon = timedelta(seconds=horizon)
        self.clock = clock
        # ceiling = min(cap, base * 2^(n-1)); half of it fixed plus up to half at random.
        half = wait_exponential(multiplier=base / 2, max=cap / 2)
        jittered = wait_random_exponential(multiplier=base / 2, max=cap / 2)
        # Only the wait strategy is used: the loop is the outbox row, not a tenacity call.
        self._policy = Retrying(wait=wait_retry_after(cap, half + jittered))

    @classmethod
    def from_settings(cls, s: Settings, clock: Callable[[], datetime] = _utcnow) -> Backoff:
        return cls(
            s.sync_backoff_base_seconds,
            s.sync_backoff_cap_seconds,
            s.sync_dead_letter_horizon_seconds,
            clock,
        )

    def delay(self, attempt: int, error: TrackerError) -> float:
        """Seconds before attempt `attempt + 1`; `attempt` counts failures so far (>= 1)."""
        state = RetryCallState(self._policy, None, (), {})
        state.attempt_number = max(1, attempt)
        state.set_exception((type(error), error, error.__traceback__))
        return float(self._policy.wait(state))

    def expired(self, first_failed_at: datetime | None) -> bool:
        """Failing since `first_failed_at` for the whole horizon: time to give up."""
        return first_failed_at is not None and self.clock() - first_failed_at >= self.horizon
