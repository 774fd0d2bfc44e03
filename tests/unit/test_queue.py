"""The in-process queue: jobs after commit, nested jobs after the outer one, per thread."""

from __future__ import annotations

import threading

from app.db import JobRequest
from app.queue import InProcessQueue

RAN: list[tuple[str, int]] = []
QUEUE = InProcessQueue()


def record(tag: str, n: int) -> None:
    RAN.append((tag, n))
    if n == 0:
        QUEUE.dispatch([JobRequest("tests.unit.test_queue.record", (tag, 1), f"{tag}-1")])
        RAN.append((tag, -1))  # the nested job must not have run yet


def explode() -> None:
    raise RuntimeError("boom")


def test_nested_jobs_run_after_the_outer_job_and_failures_do_not_stop_others() -> None:
    RAN.clear()
    QUEUE.dispatch(
        [
            JobRequest("tests.unit.test_queue.explode", (), "x"),
            JobRequest("tests.unit.test_queue.record", ("a", 0), "a-0"),
        ]
    )
    assert RAN == [("a", 0), ("a", -1), ("a", 1)]


def test_threads_do_not_share_pending_jobs() -> None:
    RAN.clear()
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        barrier.wait()
        for _ in range(50):
            QUEUE.dispatch([JobRequest("tests.unit.test_queue.record", (f"t{i}", 0), f"t{i}")])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(8):
        mine = [n for tag, n in RAN if tag == f"t{i}"]
        assert mine == [0, -1, 1] * 50
