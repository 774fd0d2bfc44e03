"""The sweep for the embedded default, where no RQ worker runs it.

With Redis, the worker's maintenance hook sweeps. Without it, `hindsight
serve` runs the same sweep on a daemon thread, so outbox rows deferred by a
back-off and deliveries whose job failed still resume on their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .runtime import Runtime
from .services.sweep import sweep

log = logging.getLogger(__name__)


def start_sweeper(runtime: Runtime, interval: float) -> Callable[[], None]:
    """Start sweeping every `interval` seconds; returns a function that stops it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                sweep(runtime)
            except Exception:  # a database hiccup must not end the loop
                log.exception("in-process sweep failed; trying again in %ss", interval)

    thread = threading.Thread(target=loop, name="hindsight-sweep", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=interval + 5)

    return halt
