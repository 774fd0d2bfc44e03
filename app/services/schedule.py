"""Scheduled work: each job once per interval, however many processes tick.

`JOBS` is the list of what runs when; adding a scheduled job is one line
there: a name, a function `(runtime, now) -> summary`, a default interval and
a queue. config/policy.yaml's `schedule:` block overrides an interval (or
turns a job "off"). Other modules add theirs the same way, e.g.
`ScheduledJob("learning-digest", digest.send_digest, "7d", "reports")`.

`tick(runtime, now)` is called by every worker's maintenance hook and by the
in-process sweeper of `hindsight serve` (through the sweep). For each job it
works out the current slot (now rounded down to the interval) and claims it
by inserting a `schedule_runs` row, unique on (job, slot): one process wins,
the others see the row and do nothing, on PostgreSQL and SQLite alike, with
no Redis needed. The winner enqueues the run; the run records its outcome,
summary and error on the row, which `hindsight schedule` and
GET /api/v1/schedule show. A run whose worker died stays `running` until a
later tick marks it `lost`; the next interval runs the job again anyway.

Time comes in as `now`: the schedule's clock is the caller's, so tests walk
it forward by passing later times (to `tick_job` on real workers too).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.db import JobRequest
from app.models import ScheduleRun
from app.rules.policy import PolicyError, interval_seconds
from app.runtime import Runtime, current

from . import checkpoints, digest, escalations, reevaluation, tracker_reconcile

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _follow_through(runtime: Runtime, now: datetime) -> str:
    return escalations.sweep(runtime, now=now).summary()


def _reconcile(runtime: Runtime, now: datetime) -> str:
    return tracker_reconcile.reconcile(runtime).summary()


def _with_jira(runtime: Runtime) -> bool:
    return runtime.settings.jira_enabled


def _always(runtime: Runtime) -> bool:
    return True


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    run: Callable[[Runtime, datetime], str]
    every: str | Callable[[Runtime], int]  # default interval, or one read from settings
    queue: str = "default"
    enabled: Callable[[Runtime], bool] = _always

    def interval(self, runtime: Runtime) -> int:
        """Seconds between runs (0: off), policy.yaml's `schedule:` first."""
        configured = runtime.policy.schedule.get(self.name)
        if configured is not None:
            return int(configured)
        if callable(self.every):
            return self.every(runtime)
        return interval_seconds(self.every)


def _audit_checkpoint(runtime: Runtime, now: datetime) -> str:
    """Sign the audit head into the checkpoint directory: the anchor outside the database.

    A broken chain raises (and the run is stored as failed), so tampering is loud."""
    path = checkpoints.write_checkpoint(runtime)
    return f"signed {path.name}" if path else "the audit log is empty"


JOBS: list[ScheduledJob] = [
    ScheduledJob("reevaluate", reevaluation.reevaluate_open, "15m", "rules"),
    ScheduledJob("audit-checkpoint", _audit_checkpoint, "1h"),
    ScheduledJob("learning-digest", digest.send_digest, "7d", "reports"),
    ScheduledJob("follow-through", _follow_through, "15m", "escalations"),
    ScheduledJob(
        "jira-reconcile",
        _reconcile,
        lambda rt: rt.settings.sync_reconcile_seconds,
        "sync",
        _with_jira,
    ),
]


def job(name: str) -> ScheduledJob:
    found = next((j for j in JOBS if j.name == name), None)
    if found is None:
        raise PolicyError(
            f"no scheduled job {name!r}; the jobs are {', '.join(j.name for j in JOBS)}"
        )
    return found


def check(runtime: Runtime) -> None:
    """At start: every name in policy.yaml's `schedule:` is a job (a typo must not go quiet)."""
    for name in runtime.policy.schedule:
        job(name)


def slot_of(now: datetime, every: int) -> datetime:
    seconds = int((now - EPOCH).total_seconds()) // every * every
    return EPOCH + timedelta(seconds=seconds)


def tick(runtime: Runtime, now: datetime | None = None) -> list[str]:
    """Claim and enqueue every job whose slot at `now` is still free; returns their names."""
    now = now or datetime.now(UTC)
    started: list[str] = []
    requests: list[JobRequest] = []
    for entry in JOBS:
        every = entry.interval(runtime)
        if every <= 0 or not entry.enabled(runtime):
            continue
        run_id = _claim(runtime, entry.name, slot_of(now, every))
        if run_id is not None:
            started.append(entry.name)
            requests.append(
                JobRequest(run_job, (run_id, now.isoformat()), f"schedule-{run_id}", entry.queue)
            )
    _mark_lost(runtime, now)
    if requests:
        runtime.queue.dispatch(requests)
    return started


def _claim(runtime: Runtime, name: str, slot: datetime) -> int | None:
    with runtime.db.sessions() as session:  # the usual case: already claimed, by anyone
        claimed = session.scalar(
            select(ScheduleRun.id).where(ScheduleRun.job == name, ScheduleRun.slot == slot)
        )
    if claimed is not None:
        return None
    try:  # the unique (job, slot) row decides a race between processes
        with runtime.db.sessions() as session, session.begin():
            run = ScheduleRun(job=name, slot=slot, started_at=datetime.now(UTC), outcome="queued")
            session.add(run)
            session.flush()
            return run.id
    except IntegrityError:
        return None


def _mark_lost(runtime: Runtime, now: datetime) -> None:
    """Runs still queued or running a day after they started: their worker is gone."""
    limit = datetime.now(UTC) - timedelta(days=1)
    with runtime.db.sessions() as session, session.begin():
        session.execute(
            update(ScheduleRun)
            .where(ScheduleRun.outcome.in_(("queued", "running")), ScheduleRun.started_at < limit)
            .values(outcome="lost", error="never finished: its worker stopped or the job was lost")
        )


def run_job(run_id: int, now_iso: str) -> None:
    """The job: run one claimed slot and record how it went (queue of the scheduled job)."""
    execute(current(), run_id, datetime.fromisoformat(now_iso))


def execute(runtime: Runtime, run_id: int, now: datetime) -> ScheduleRun | None:
    with runtime.db.sessions() as session, session.begin():
        run = session.get(ScheduleRun, run_id)
        if run is None or run.outcome not in ("queued", "lost"):
            return run  # already run (a duplicate job) or gone
        run.outcome, run.started_at = "running", datetime.now(UTC)
        name = run.job
    values: dict[str, object]
    try:
        summary = job(name).run(runtime, now)
        values = {"outcome": "ok", "summary": summary[:2000], "error": None}
    except Exception as exc:
        log.exception("scheduled job %s failed", name)
        values = {
            "outcome": "failed",
            "error": "".join(traceback.format_exception_only(exc)).strip()[:4000],
        }
    with runtime.db.sessions() as session, session.begin():
        session.execute(
            update(ScheduleRun)
            .where(ScheduleRun.id == run_id)
            .values(finished_at=datetime.now(UTC), **values)
        )
        return session.get(ScheduleRun, run_id)


def tick_job(now_iso: str) -> None:
    """A tick as a job, at a given time: how tests drive real workers with their own clock."""
    tick(current(), datetime.fromisoformat(now_iso))


@dataclass(frozen=True)
class JobStatus:
    name: str
    every_seconds: int
    enabled: bool
    queue: str
    last: ScheduleRun | None
    last_failure: ScheduleRun | None


def status(runtime: Runtime) -> list[JobStatus]:
    """What runs when, and how the latest run (and the latest failure) went."""
    out = []
    with runtime.db.sessions() as session:
        for entry in JOBS:
            runs = select(ScheduleRun).where(ScheduleRun.job == entry.name)
            last = session.scalars(runs.order_by(ScheduleRun.id.desc()).limit(1)).first()
            failed = session.scalars(
                runs.where(ScheduleRun.outcome.in_(("failed", "lost")))
                .order_by(ScheduleRun.id.desc())
                .limit(1)
            ).first()
            every = entry.interval(runtime)
            on = every > 0 and entry.enabled(runtime)
            out.append(JobStatus(entry.name, every, on, entry.queue, last, failed))
    return out


def runs(
    runtime: Runtime, *, failed_only: bool = False, job_name: str | None = None, limit: int = 50
) -> list[ScheduleRun]:
    with runtime.db.sessions() as session:
        query = select(ScheduleRun)
        if failed_only:
            query = query.where(ScheduleRun.outcome.in_(("failed", "lost")))
        if job_name:
            query = query.where(ScheduleRun.job == job_name)
        return list(session.scalars(query.order_by(ScheduleRun.id.desc()).limit(limit)))
