"""Jira calls per unit of sync work, counted by the Jira test server.

1. First mirror: 50 resolved incidents, each with a draft postmortem and 10
   actions, written while no Jira was connected; then Jira is connected and
   `sync push --backfill` mirrors everything. Prints Jira calls per action
   (target <= 0.15). A second line does the same with published postmortems,
   which costs one transition per postmortem on top (Jira has no bulk
   transition that both Cloud and Data Center offer).
2. Reconcile: 10,000 mirrored action issues, 100 of them changed in Jira with
   no webhook delivered; prints the calls one `sync reconcile` makes
   (target <= 5).

Every request counts, including serverInfo and myself, which Hindsight asks
once per Jira site and then remembers.

    .venv/bin/python bench/sync.py [--mode cloud|dc] [--database-url URL]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from app import runtime  # noqa: E402
from app.db import upgrade  # noqa: E402
from app.models import Action, Incident, Postmortem  # noqa: E402
from app.services import tracker_reconcile  # noqa: E402
from app.services.tracker_sync import backfill, drain, open_context  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.sync import state  # noqa: E402
from app.sync.models import TrackerLink  # noqa: E402
from tests.integration.sync.seed import (  # noqa: E402
    CONFIG_DIR,
    catalog_users,
    seed_postmortems,
)
from tests.jira_server import JiraTestServer, ManualClock  # noqa: E402


def settings_for(db: str, srv: JiraTestServer | None) -> Settings:
    values: dict[str, Any] = {"database_url": db, "config_dir": CONFIG_DIR, "redis_url": None}
    if srv is not None:
        user, token = srv.credentials()
        values |= {
            "jira_url": srv.url,
            "jira_project": "OPS",
            "jira_user": user,
            "jira_token": token,
            "jira_timeout_seconds": 10,
        }
    return Settings(**values)


def fresh_db(url: str | None) -> str:
    db = url or f"sqlite:///{tempfile.mkdtemp(prefix='hs-bench-')}/bench.db"
    upgrade(Settings(database_url=db))
    return db


def first_mirror(mode: str, db_url: str | None, *, publish: bool) -> tuple[int, Counter[str]]:
    db = fresh_db(db_url)
    seed_postmortems(runtime.build(settings_for(db, None)), 50, 10, notify=False)
    if publish:
        rt = runtime.build(settings_for(db, None))
        with rt.db.sessions() as session, session.begin():
            for pm in session.scalars(select(Postmortem)):
                pm.status, pm.published_at = "published", datetime.now(UTC)
    with JiraTestServer(mode, users=catalog_users(), webhook_mode="hold") as srv:  # type: ignore[arg-type]
        rt = runtime.build(settings_for(db, srv))
        backfill(rt)
        report = drain(rt, wait=True)
        assert not report.dead and not report.deferred, report.summary()
        assert len(srv.state.issues_by_key) == 50 + 50 + 500, len(srv.state.issues_by_key)
        assert not srv.server_errors, srv.server_errors
        return srv.total_calls, Counter(srv.calls)


def reconcile_bench(mode: str, db_url: str | None, mirrored: int, changed: int) -> tuple[int, int]:
    db = fresh_db(db_url)
    now = datetime.now(UTC)
    clock = ManualClock(now - timedelta(days=1))
    with JiraTestServer(
        mode,
        users=catalog_users(),
        webhook_mode="hold",  # type: ignore[arg-type]
        clock=clock,
    ) as srv:
        rt = runtime.build(settings_for(db, srv))
        keys = _seed_mirrored(rt, srv, mirrored)
        clock.set(now)  # yesterday's issues are outside the window; today's edits inside
        with rt.db.sessions() as session, session.begin():
            state.set_value(
                session, tracker_reconcile.WATERMARK, (now - timedelta(minutes=10)).isoformat()
            )
        for key in keys[:: mirrored // changed][:changed]:
            srv.simulate_user_edit(key, "priya", status="In Progress")
        srv.webhooks.drop_held()  # webhooks lost: only the reconcile can see the changes
        srv.reset_counters()
        # The rule re-runs a reconcile requests are other jobs with their own cost: queue
        # them (as RQ would) instead of running them inside the measurement.
        rt.queue = CollectingQueue()
        report = tracker_reconcile.reconcile(rt)
        assert report.applied == changed, report.summary()
        assert not srv.server_errors, srv.server_errors
        return srv.total_calls, report.applied


def _seed_mirrored(rt: runtime.Runtime, srv: JiraTestServer, n: int) -> list[str]:
    """n actions already mirrored: issues in the fake, links and agreed fields in the DB."""
    ctx = open_context(rt)  # learns the flavour and identity once, like production does
    ctx.close()
    per = 100
    seed_postmortems(rt, n // per, 0, notify=False)
    with rt.db.sessions() as session, session.begin():
        incident_ids = list(session.scalars(select(Incident.id).order_by(Incident.id)))
        session.execute(
            insert(Action),
            [
                {
                    "key": f"ACT-{i + 1}",
                    "incident_id": incident_ids[i // per],
                    "title": f"Fix {i}",
                    "description": "",
                    "type": "detect",
                    "status": "open",
                    "priority": "P2",
                    "is_compliance": False,
                    "escalation_level": 0,
                    "tracker_deleted": False,
                }
                for i in range(n)
            ],
        )
        actions = [(a, k) for a, k in session.execute(select(Action.id, Action.key))]
    keys, links = [], []
    agreed = {"status": "new//", "priority": "Medium", "duedate": None, "assignee": None}
    for action_id, key in actions:
        issue = srv.seed_issue(
            f"{key}: fix", labels=["hindsight", f"hs-{key}"], priority={"name": "Medium"}
        )
        keys.append(issue.key)
        links.append(
            {
                "entity_type": "action",
                "entity_id": action_id,
                "entity_key": key,
                "label": f"hs-{key}",
                "issue_key": issue.key,
                "issue_id": str(issue.id),
                "fields": agreed,
                "versions": {},
            }
        )
    with rt.db.sessions() as session, session.begin():
        session.execute(insert(TrackerLink), links)
    return keys


class CollectingQueue:
    """Keeps the jobs it is given; nothing runs."""

    kind = "collecting"

    def __init__(self) -> None:
        self.jobs: list[Any] = []

    def dispatch(self, jobs: list[Any]) -> None:
        self.jobs.extend(jobs)

    def healthy(self) -> bool:
        return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["cloud", "dc"], default="cloud")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--mirrored", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    t0 = time.perf_counter()
    calls, by_route = first_mirror(args.mode, args.database_url, publish=False)
    print(
        f"first mirror ({args.mode}): {calls} Jira calls for 500 actions across 50 "
        f"postmortems = {calls / 500:.3f} calls/action (target <= 0.15) "
        f"[{time.perf_counter() - t0:.1f}s]"
    )
    for route, n in by_route.most_common():
        print(f"    {n:4d}  {route}")
    t0 = time.perf_counter()
    calls_pub, _ = first_mirror(args.mode, args.database_url, publish=True)
    print(
        f"first mirror, postmortems already published: {calls_pub} calls = "
        f"{calls_pub / 500:.3f} calls/action [{time.perf_counter() - t0:.1f}s]"
    )
    t0 = time.perf_counter()
    rcalls, applied = reconcile_bench(args.mode, args.database_url, args.mirrored, args.changed)
    print(
        f"reconcile ({args.mode}): {rcalls} Jira calls for {args.mirrored} mirrored issues, "
        f"{applied} changed (target <= 5) [{time.perf_counter() - t0:.1f}s]"
    )
    ok = calls / 500 <= 0.15 and rcalls <= 5
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
