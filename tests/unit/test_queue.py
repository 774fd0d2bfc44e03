"""The background queue: jobs after commit on their own thread, in order, coalesced by id."""

from __future__ import annotations

import threading

from app.db import JobRequest
from app.queue import BackgroundQueue

RAN: list[tuple[str, int]] = []


def _queue() -> BackgroundQueue:
    RAN.clear()
    return BackgroundQueue()


def test_jobs_run_on_another_thread_in_order_and_a_failure_does_not_stop_the_rest() -> None:
    queue = _queue()
    threads: list[str] = []

    def explode() -> None:
        raise RuntimeError("boom")

    def record(tag: str, n: int) -> None:
        threads.append(threading.current_thread().name)
        RAN.append((tag, n))
        if n == 0:
            queue.dispatch([JobRequest(record, (tag, 1), f"{tag}-1")])
            RAN.append((tag, -1))  # the nested job must not have run yet

    queue.dispatch([JobRequest(explode, (), "x"), JobRequest(record, ("a", 0), "a-0")])
    assert queue.wait_idle(10)
    assert RAN == [("a", 0), ("a", -1), ("a", 1)]
    assert set(threads) == {"hindsight-jobs"}
    queue.close()


def test_a_burst_of_one_job_id_runs_once_and_a_request_during_a_run_runs_again() -> None:
    queue = _queue()
    started, release = threading.Event(), threading.Event()

    def slow(n: int) -> None:
        RAN.append(("slow", n))
        started.set()
        release.wait(10)

    queue.pause()
    for n in range(20):
        queue.dispatch([JobRequest(slow, (n,), "same-id")])
    assert queue.pending == 20 - 19  # coalesced while waiting
    queue.resume()
    assert started.wait(10)
    queue.dispatch([JobRequest(slow, (99,), "same-id")])  # asked again while it runs
    release.set()
    assert queue.wait_idle(10)
    assert RAN == [("slow", 0), ("slow", 99)]
    queue.close()


def test_pause_holds_jobs_and_dispatch_returns_at_once() -> None:
    queue = _queue()
    queue.pause()
    queue.dispatch([JobRequest(RAN.append, (("held", 1),), "held")])
    assert not queue.wait_idle(0.2)
    assert RAN == []
    queue.resume()
    assert queue.wait_idle(10)
    assert RAN == [("held", 1)]
    queue.close()


def test_many_threads_dispatching_lose_no_distinct_job() -> None:
    queue = _queue()
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        barrier.wait()
        for k in range(50):
            queue.dispatch([JobRequest(RAN.append, ((f"t{i}", k),), f"t{i}-{k}")])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert queue.wait_idle(10)
    for i in range(8):
        assert [n for tag, n in RAN if tag == f"t{i}"] == list(range(50))
    queue.close()


def test_a_closed_queue_runs_nothing_more() -> None:
    queue = _queue()
    queue.close()
    queue.dispatch([JobRequest(RAN.append, (("late", 1),), "late")])
    assert RAN == []
    assert not queue.healthy()


def test_a_job_waits_for_a_quiet_moment_but_never_longer_than_its_bound() -> None:
    import time

    queue = BackgroundQueue(quiet=0.05, max_delay=0.5)
    ran_at: list[float] = []
    queue.request_started()  # a request is in flight
    asked = time.monotonic()
    queue.dispatch([JobRequest(lambda: ran_at.append(time.monotonic()), (), "polite")])
    time.sleep(0.2)
    assert ran_at == []  # yields to the request
    queue.request_finished()
    assert queue.wait_idle(5)
    assert 0.2 <= ran_at[0] - asked < 0.5

    queue.request_started()  # a request that never ends: the bound still runs the job
    asked = time.monotonic()
    queue.dispatch([JobRequest(lambda: ran_at.append(time.monotonic()), (), "bounded")])
    assert queue.wait_idle(5)
    assert 0.45 <= ran_at[1] - asked < 2.0
    queue.close()
