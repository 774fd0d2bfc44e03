"""Two real RQ workers on Redis walk an action up the ladder on the test's clock.

The test's clock reaches the workers as job arguments: each instant is a
`schedule.tick_job(now)` (sent twice, so both workers tick it) and a direct
`escalations.sweep_job(now)` (twice too, so two sweeps race). Whatever the
races, each step is recorded, audited and notified exactly once; the webhook
receiver and the SMTP server are stopped for a while and lose nothing; once
the action is done the ladder stops.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.registry import StartedJobRegistry
from sqlalchemy import create_engine, func, select, text

from app.models import Escalation, Notification, ScheduleRun
from app.queue import QUEUES
from app.services import escalations, schedule
from app.settings import Settings
from tests.conftest import ApiClient, make_settings
from tests.integration.receivers import SmtpReceiver, WebhookReceiver
from tests.integration.sync.workers import WorkerProcess, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.redis]
TODAY = datetime.now(UTC).date()

DIGEST = "Learning digest"


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, SmtpReceiver]]:
    hook, smtp = WebhookReceiver().start(), SmtpReceiver().start()
    yield hook, smtp
    hook.stop()
    smtp.stop()


@pytest.fixture
def workers(
    committed_database_url: str,
    redis_url: str,
    receivers: tuple[WebhookReceiver, SmtpReceiver],
    tmp_path: Path,
) -> Iterator[list[WorkerProcess]]:
    hook, smtp = receivers
    settings = make_settings(committed_database_url, redis_url=redis_url)
    env = worker_env(
        settings,
        HINDSIGHT_SCHEDULE_ENABLED="false",  # only the test's clock ticks the schedule
        HINDSIGHT_NOTIFY_WEBHOOK_URL=hook.url,
        HINDSIGHT_SMTP_URL=smtp.url,
        HINDSIGHT_NOTIFY_BACKOFF_BASE_SECONDS="0.3",
        HINDSIGHT_NOTIFY_BACKOFF_CAP_SECONDS="1",
        HINDSIGHT_OUTBOUND_TIMEOUT_SECONDS="3",
    )
    procs = [
        WorkerProcess(env, tmp_path / f"worker{i}.log", tuple(QUEUES)).start() for i in range(2)
    ]
    yield procs
    for proc in procs:
        proc.stop()


def wait_for(
    check: Callable[[], bool], timeout: float, what: str, procs: list[WorkerProcess]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        assert all(p.alive() for p in procs), procs[0].log()
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{procs[0].log()}\n{procs[1].log()}")


class Clock:
    """Sends the test's instants to the workers and waits until they have acted on them."""

    def __init__(self, settings: Settings, redis_url: str, procs: list[WorkerProcess]) -> None:
        self.redis = Redis.from_url(redis_url)
        self.procs = procs
        self.engine = create_engine(settings.sqlalchemy_url)

    def idle(self) -> bool:
        for name in QUEUES:
            queue = Queue(name, connection=self.redis)
            if queue.count or StartedJobRegistry(name, connection=self.redis).count:
                return False
        with self.engine.connect() as conn:
            busy = conn.execute(
                text("SELECT count(*) FROM schedule_runs WHERE outcome IN ('queued', 'running')")
            ).scalar()
        return busy == 0

    def at(self, now: datetime) -> None:
        for _ in range(2):
            for func_, queue in (
                (schedule.tick_job, "default"),
                (escalations.sweep_job, "escalations"),
            ):
                Queue(queue, connection=self.redis).enqueue(
                    func_, now.isoformat(), job_id=f"test-{uuid.uuid4().hex}"
                )
        wait_for(self.idle, 90, f"the workers to finish {now}", self.procs)

    def scalar(self, query: object) -> object:
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()  # type: ignore[call-overload]

    def steps(self, action: str) -> list[tuple[str, int, str | None]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Escalation.step, Escalation.level, Escalation.recipient)
                .where(Escalation.action_key == action)
                .order_by(Escalation.id)
            ).all()
        return [(s.partition("@")[0], level, who) for s, level, who in rows]

    def statuses(self, action: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(Notification.status).where(Notification.action_key == action)
                ).scalars()
            )

    def close(self) -> None:
        self.redis.close()
        self.engine.dispose()


def test_two_workers_walk_the_ladder_once_per_step_and_lose_nothing_to_an_outage(
    committed_api: ApiClient,
    committed_database_url: str,
    redis_url: str,
    receivers: tuple[WebhookReceiver, SmtpReceiver],
    workers: list[WorkerProcess],
) -> None:
    hook, smtp = receivers
    api = committed_api
    key = api.post(
        "/api/v1/incidents",
        json={"title": "Search index lag", "severity": "SEV2", "services": ["checkout"]},
    ).json["key"]
    due = TODAY + timedelta(days=10)
    action = api.post(
        f"/api/v1/incidents/{key}/actions",
        json={
            "title": "Alert on index lag",
            "type": "detect",
            "owner": "Ravi Menon",
            "due_date": due.isoformat(),
            "success_criteria": "Lag alert fires in the game day",
        },
    ).json["key"]
    clock = Clock(make_settings(committed_database_url), redis_url, workers)
    try:
        clock.at(noon(due - timedelta(days=3)))
        assert clock.steps(action) == [("reminder", 0, "Ravi Menon")]
        wait_for(lambda: set(clock.statuses(action)) == {"sent"}, 30, "the reminder", workers)

        hook.stop()
        smtp.stop()  # both channels down across level 1
        clock.at(noon(due + timedelta(days=1)))
        assert clock.steps(action)[-1] == ("L1", 1, "Ravi Menon")
        wait_for(
            lambda: (
                clock.scalar(
                    select(func.count()).where(
                        Notification.attempts >= 2, Notification.status == "pending"
                    )
                )
                == 2
            ),
            30,
            "failed attempts backing off",
            workers,
        )
        hook.start()
        smtp.start()
        wait_for(lambda: set(clock.statuses(action)) == {"sent"}, 60, "the outage to heal", workers)

        for day, step in (
            (due + timedelta(days=7), ("L2", 2, "Maya Okafor")),
            (due + timedelta(days=21), ("L3", 3, "Daniel Brooks")),
            (due + timedelta(days=28), ("L3R1", 3, "Daniel Brooks")),
            (due + timedelta(days=35), ("L3R2", 3, "Daniel Brooks")),
        ):
            clock.at(noon(day))
            assert clock.steps(action)[-1] == step
        clock.at(noon(due + timedelta(days=36)))  # between repeats: nothing new
        assert len(clock.steps(action)) == 6
        assert [s[0] for s in clock.steps(action)] == ["reminder", "L1", "L2", "L3", "L3R1", "L3R2"]
        assert (
            clock.scalar(
                select(func.count())
                .select_from(ScheduleRun)
                .where(ScheduleRun.job == "follow-through")
            )
            == 7
        )  # one run per instant, not four
        wait_for(lambda: set(clock.statuses(action)) == {"sent"}, 60, "every delivery", workers)
        # The weekly learning digest (also sent by the schedule these workers tick) lists the
        # overdue action too; only the ladder's own messages are counted.
        texts = [b["text"] for b in hook.bodies if action in b["text"] and DIGEST not in b["text"]]
        assert len(texts) == 6  # one chat message per step, none twice

        def mails(address: str) -> int:
            return sum(DIGEST not in str(m["Subject"]) for m in smtp.to(address))

        assert mails("ravi@example.com") == 6 and mails("daniel@example.com") == 3

        assert api.patch(f"/api/v1/actions/{action}", json={"status": "done"}).status_code == 200
        clock.at(noon(due + timedelta(days=60)))
        assert len(clock.steps(action)) == 6
    finally:
        clock.close()
