"""Job-level back-off: Retry-After in both forms, exponential growth, jitter, the cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from app.sync.retry import Backoff, parse_retry_after
from app.sync.tracker import TrackerError

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),  # in the past: now
    ],
)
def test_retry_after_as_seconds_or_http_date(header: str, seconds: float) -> None:
    assert parse_retry_after(header, NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("header", [None, "", "soon", "Tue, 99 Foo 2024"])
def test_unreadable_retry_after_falls_back_instead_of_crashing(header: str | None) -> None:
    assert parse_retry_after(header, NOW) is None


def test_server_retry_after_wins_over_our_back_off() -> None:
    b = Backoff(base=1, cap=300)
    delays = [b.delay(7, TrackerError("slow down", status=429, retry_after=4.0)) for _ in range(50)]
    assert all(4.0 <= d <= 4.25 for d in delays)
    capped = Backoff(base=1, cap=3).delay(1, TrackerError("x", status=429, retry_after=60.0))
    assert 3.0 <= capped <= 3.25, "a server asking for an hour is capped like our own back-off"


def test_exponential_with_jitter_and_a_cap() -> None:
    b = Backoff(base=1, cap=20)
    err = TrackerError("Service Unavailable", status=503)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 20), (12, 20), (400, 20)]:
        delays = [b.delay(attempt, err) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len({round(d, 6) for d in delays}) > 100, "jitter: workers do not retry in step"


def test_rows_die_only_after_the_horizon_since_their_first_failure() -> None:
    now = [NOW]
    b = Backoff(base=1, cap=20, horizon=24 * 3600, clock=lambda: now[0])
    first = NOW
    for hours in (0, 1, 12, 23.99):
        now[0] = first + timedelta(hours=hours)
        assert not b.expired(first), f"not dead after {hours} h, however many attempts"
    now[0] = first + timedelta(hours=24)
    assert b.expired(first)
    assert not b.expired(None), "a row that never failed is never expired"


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        (None, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (408, True),  # request timeout: the server never read it all
        (409, True),  # conflict with a concurrent edit: try again later
        (422, False),
    ],
)
def test_only_rate_limits_server_errors_and_network_failures_are_retried(
    status: int | None, transient: bool
) -> None:
    assert TrackerError("x", status=status).transient is transient


@pytest.mark.parametrize(
    ("status", "unknown"),
    [
        (None, True),
        (500, True),
        (502, True),
        (504, True),
        (429, False),
        (503, False),
        (400, False),
    ],
)
def test_which_failed_creates_may_still_have_happened(status: int | None, unknown: bool) -> None:
    """Only these make the retry wait before searching for the issue it may have created."""
    assert TrackerError("x", status=status).outcome_unknown is unknown
