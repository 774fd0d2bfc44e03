"""With Redis, a burst of requests for one job id leaves one queued job, not a pile."""

from __future__ import annotations

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

from app.db import JobRequest
from app.queue import RQQueue


def noop(n: int) -> int:
    return n


@pytest.mark.redis
def test_a_burst_for_one_id_queues_once_and_a_running_job_gets_one_follow_up(
    redis_url: str,
) -> None:
    queue = RQQueue(redis_url)
    conn = Redis.from_url(redis_url)
    rules = Queue("rules", connection=conn)
    for n in range(50):
        queue.dispatch([JobRequest(noop, (n,), "rules-incident-7", "rules")])
    assert rules.count == 1
    queue.dispatch([JobRequest(noop, (1,), "rules-incident-8", "rules")])
    assert rules.count == 2

    running = Job.fetch("rules-incident-7", connection=conn)
    running.set_status("started")  # as a worker does when it takes the job
    rules.remove(running)
    for n in range(20):
        queue.dispatch([JobRequest(noop, (n,), "rules-incident-7", "rules")])
    assert sorted(rules.get_job_ids()) == ["rules-incident-7-again", "rules-incident-8"]
    queue.close()
    conn.close()
