"""The follow-through sweep over 100,000 open actions, as a ratio to a plain SQL count.

Seeds N open actions (half overdue by 1-40 days, half due in 10-100 days), then
times, in the same run on the same database:

- the baseline: `SELECT count(*)` of the open overdue actions (median of 5);
- the first sweep: every action measured for the first time, and the step each
  overdue one has reached taken (an escalation row, an audit entry, notifications);
- the steady sweep (nothing due), every 15 minutes for the next hour (median of
  5): the one the schedule runs every interval; only actions whose next step has
  come due are read: none here;
- the sweep with N steps due, the next day: the steps that fell due overnight
  (about 1 in 40 overdue actions reaches a new rung or repeat each day);
- the re-measure after a policy change (nothing new): the policy's fingerprint
  moved, so every open action is read and planned again; once per change.

Each is printed with its ratio to the count (target: the recurring sweep within
10x), the cost per step where steps are taken, and its peak Python memory
(tracemalloc, in a second pass of the same kind of sweep, since tracing slows it;
not for the first sweep, which cannot be repeated on the same data), and the
process's peak RSS.

    .venv/bin/python bench/escalations.py [--actions 100000] [--database-url URL]

`--database-url` must name an empty database (PostgreSQL: create it first); it is
migrated and filled.
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import audit  # noqa: E402
from app import runtime as runtime_module  # noqa: E402
from app.db import upgrade  # noqa: E402
from app.models import Action, Escalation, Incident  # noqa: E402
from app.services import escalations  # noqa: E402
from app.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PER_INCIDENT = 100
OWNERS = ["Ravi Menon", "Maya Okafor", "Tomasz Nowak", "Kenji Watanabe", "Sofia Marquez"]
SERVICES = ["checkout", "orders-db", "market-data-feed", "tenant-api", "edge-proxy"]


def seed(rt: runtime_module.Runtime, actions: int, now: datetime) -> None:
    today = now.date()
    incidents = max(1, actions // PER_INCIDENT)
    with rt.db.engine.begin() as conn:
        conn.execute(
            insert(Incident),
            [
                {
                    "key": f"INC-{i + 1}",
                    "title": f"Bench incident {i}",
                    "severity": "SEV3",
                    "status": "resolved",
                    "services": [SERVICES[i % len(SERVICES)]],
                    "regulatory": [],
                    "tags": [],
                }
                for i in range(incidents)
            ],
        )
        ids = list(conn.execute(select(Incident.id).order_by(Incident.id)).scalars())
        rows: list[dict[str, Any]] = []
        for n in range(actions):
            overdue = n % 2 == 0
            due = (
                today - timedelta(days=1 + n % 40)
                if overdue
                else today + timedelta(days=10 + n % 90)
            )
            rows.append(
                {
                    "key": f"ACT-{n + 1}",
                    "incident_id": ids[n // PER_INCIDENT % len(ids)],
                    "title": f"Bench action {n}",
                    "type": "detect",
                    "owner": OWNERS[n % len(OWNERS)],
                    "due_date": due,
                    "priority": "P2",
                    "status": "open",
                    "last_activity_at": now - timedelta(days=1),
                    "created_at": now - timedelta(days=50),
                }
            )
            if len(rows) == 10_000:
                conn.execute(insert(Action), rows)
                rows = []
        if rows:
            conn.execute(insert(Action), rows)


def overdue_count(rt: runtime_module.Runtime, now: datetime) -> tuple[int, float]:
    sql = text(
        "SELECT count(*) FROM actions WHERE status IN ('open', 'in_progress', 'blocked') "
        "AND due_date < :today"
    )
    times, count = [], 0
    for _ in range(5):
        start = time.perf_counter()
        with rt.db.engine.connect() as conn:
            count = int(conn.execute(sql, {"today": now.date()}).scalar() or 0)
        times.append(time.perf_counter() - start)
    return count, statistics.median(times)


def timed(fn: Callable[[], escalations.SweepReport]) -> tuple[escalations.SweepReport, float]:
    start = time.perf_counter()
    report = fn()
    return report, time.perf_counter() - start


def change_policy(rt: runtime_module.Runtime, n: int) -> None:
    """A real policy change (the reminder moves by a day or so): every plan is stale."""
    ft = rt.policy.follow_through
    changed = ft.model_copy(update={"remind_before_days": 3 + n % 2})
    rt.policy = rt.policy.model_copy(update={"follow_through": changed})


def traced(fn: Callable[[], escalations.SweepReport]) -> tuple[float, int]:
    """Peak Python memory (MiB) of one sweep, and how many steps that traced sweep took."""
    tracemalloc.start()
    try:
        report = fn()
        return tracemalloc.get_traced_memory()[1] / 2**20, report.reminders + report.escalations
    finally:
        tracemalloc.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tmp = tempfile.mkdtemp(prefix="hindsight-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    settings = Settings(database_url=url, config_dir=ROOT / "config", redis_url=None)
    upgrade(settings)
    rt = runtime_module.build(settings)
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    print(f"backend {rt.db.dialect}; seeding {args.actions} open actions ...", flush=True)
    seed(rt, args.actions, now)
    count, count_s = overdue_count(rt, now)
    print(f"plain SQL count of open overdue actions: {count} in {count_s * 1000:.1f} ms")

    def line(
        name: str, run: tuple[escalations.SweepReport, float], peak: tuple[float, int] | None
    ) -> None:
        report, seconds = run
        taken = report.reminders + report.escalations
        per = f"{seconds * 1e6 / taken:6.0f} us/step" if taken else " " * 14
        mem = f"{peak[0]:7.2f} MiB ({peak[1]} steps)" if peak is not None else "n/a"
        print(
            f"{name:<46} {seconds * 1000:9.1f} ms  ratio {seconds / count_s:8.1f}x  "
            f"examined {report.examined:>6}, steps {taken:>6} {per}  peak {mem}"
        )

    def at(when: datetime) -> Callable[[], escalations.SweepReport]:
        return lambda: escalations.sweep(rt, now=when)

    day = timedelta(days=1)
    first = timed(at(now))  # its peak: not traced (it cannot be run twice on the same data)
    line(f"first sweep ({first[0].escalations} steps due)", first, None)
    runs = [timed(at(now + timedelta(minutes=15 * n))) for n in range(1, 6)]
    steady = sorted(runs, key=lambda run: run[1])[2]  # the median of five, as for the count
    line("steady sweep (nothing due), median of 5", steady, traced(at(now + timedelta(hours=2))))
    nextday = timed(at(now + day))
    peak = traced(at(now + 2 * day))  # the day after: its own number of steps, shown
    line(f"sweep with {nextday[0].escalations} steps due, next day", nextday, peak)
    change_policy(rt, 1)
    full = timed(at(now + 2 * day))
    change_policy(rt, 2)
    line("re-measure after a policy change (nothing new)", full, traced(at(now + 2 * day)))

    with rt.db.sessions() as session:
        steps = session.scalar(select(func.count(Escalation.id)))
    print(f"escalation rows: {steps}; target: the recurring sweep within 10x of the count")
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    with rt.db.sessions() as session:
        chain = audit.verify(session)
    print(f"audit chain: {chain.checked} entries, {'verified' if chain.ok else 'BROKEN'}")
    rt.close()
    return 0 if chain.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
