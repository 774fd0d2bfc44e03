"""Scriptable failures, applied before a request reaches its handler.

Faults are honest about side effects: ``429``/``5xx`` reject the request *before* any
state changes (as a rate limiter or proxy in front of Jira would), while
``400`` is a permanent refusal (a validation error Jira would give the same request
every time); ``lost_response`` lets the write commit and then loses the answer - the case that
creates duplicate tickets when a client blindly retries a POST.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Literal

FaultKind = Literal["400", "403", "429", "500", "502", "503", "504", "latency", "lost_response"]
KINDS: frozenset[str] = frozenset(
    {"400", "403", "429", "500", "502", "503", "504", "latency", "lost_response"}
)


@dataclass
class FaultRule:
    """One scripted failure. ``times=None`` means "until removed"."""

    kind: str
    method: str | None = None
    path: str | None = None  # literal path, normalised route ("/rest/api/2/issue/{key}") or glob
    times: int | None = 1
    after: int = 0  # let this many matching requests through first
    probability: float | None = None  # None = every match; else a seeded coin flip
    seed: int = 0
    retry_after: str | None = None  # seconds ("2") or an HTTP-date
    delay: float = 0.0  # seconds to stall before answering (any kind)
    close_connection: bool = False  # lost_response: drop the socket instead of a 504
    seen: int = 0  # matching requests observed
    hits: int = 0  # times the fault actually fired
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(KINDS)}")
        self._rng = random.Random(self.seed)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, method: str, path: str, route: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        if self.path is None:
            return True
        return (
            self.path in (path, route)
            or fnmatch.fnmatchcase(path, self.path)
            or fnmatch.fnmatchcase(route, self.path)
        )


def retry_after_value(value: str | int | float | dt.datetime | None) -> str | None:
    """Accept seconds or a datetime; HTTP-dates are what trip naive ``int(header)`` parsing."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return format_datetime(value.astimezone(dt.UTC), usegmt=True)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []
        self.fired: Counter[str] = Counter()

    def add(
        self,
        kind: FaultKind | str,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
        after: int = 0,
        probability: float | None = None,
        seed: int = 0,
        retry_after: str | int | float | dt.datetime | None = None,
        delay: float = 0.0,
        close_connection: bool = False,
    ) -> FaultRule:
        if kind == "latency" and not delay:
            raise ValueError("latency faults need delay=<seconds>")
        rule = FaultRule(
            kind,
            method,
            path,
            times,
            after,
            probability,
            seed,
            retry_after_value(retry_after),
            delay,
            close_connection,
        )
        with self._lock:
            self.rules.append(rule)
        return rule

    def storm(
        self,
        probability: float,
        kind: FaultKind | str = "429",
        *,
        seed: int = 0,
        retry_after: str | int | float | dt.datetime | None = "1",
        method: str | None = None,
        path: str | None = None,
        times: int | None = None,
    ) -> FaultRule:
        """A reproducible fraction of matching calls fail, e.g. 30% of everything 429s."""
        return self.add(
            kind,
            method=method,
            path=path,
            times=times,
            probability=probability,
            seed=seed,
            retry_after=retry_after,
        )

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            self.rules.remove(rule)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.fired.clear()

    def pick(self, method: str, path: str, route: str) -> FaultRule | None:
        """Consume and return the first rule that fires for this request, if any."""
        with self._lock:
            for rule in self.rules:
                if rule.exhausted or not rule.matches(method, path, route):
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                if rule.probability is not None and rule._rng.random() >= rule.probability:
                    continue
                rule.hits += 1
                self.fired[rule.kind] += 1
                return rule
        return None
