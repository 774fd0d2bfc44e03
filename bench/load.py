"""Mixed writes from concurrent clients against the service as the Docker image serves it.

gunicorn (gunicorn.conf.py, 4 workers) on PostgreSQL with Redis and one `hindsight worker`,
or with `--sqlite` the embedded default (SQLite file, no Redis: each gunicorn worker runs
its jobs on its own thread and sweeps). For `--seconds` the clients create incidents, edit
them, add timeline events and actions, and move actions between statuses, several clients
on the same actions at once so moves collide. Then it prints:

- throughput and latency (p50, p99) of the acknowledged requests, and the status counts;
- acknowledged vs stored: every 201 is a row in the database, every acknowledged status
  move is in the action's history, and the history holds no other move (must be equal);
- forbidden transitions in the stored history (a move the workflow does not allow, or one
  whose `from` is not where the action was): must be 0;
- the queue depth when the load ends, and the seconds until the queues are empty and no
  incident waits for an evaluation (findings fresh again; the target is 30 s).

    .venv/bin/python bench/load.py [--seconds 60] [--clients 8] [--sqlite]
        [--pg-admin postgresql://postgres@127.0.0.1:5432/postgres]
        [--redis-url redis://127.0.0.1:6379/13]   (that Redis database is emptied)

Everything runs on loopback; the database it creates is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.domain.transitions import TransitionError, check_action_transition  # noqa: E402
from app.domain.vocabulary import ActionStatus  # noqa: E402
from app.queue import QUEUES  # noqa: E402
from app.settings import Settings  # noqa: E402

TOKEN = "bench-load-token-0123456789abcdef"
BIN = Path(sys.executable).parent
MOVES = ["in_progress", "blocked", "done", "open", "verified", "wont_do"]


@dataclass
class Tally:
    """What the clients were told: latencies, statuses, and every acknowledged write."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    created: Counter[str] = field(default_factory=Counter)
    moves: set[tuple[str, str | None, str, str]] = field(default_factory=set)  # key, from, to, at
    actions: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)


def _one(session: requests.Session, base: str, tally: Tally, rng: random.Random) -> None:
    with tally.lock:
        incidents, actions = list(tally.incidents), list(tally.actions)
    kind = rng.choices(["incident", "patch", "timeline", "action", "move"], [1, 2, 2, 1, 6])[0]
    if kind == "incident" or not incidents:
        kind, method, path = "incident", "post", "/api/v1/incidents"
        body: dict[str, Any] = {
            "title": f"Load {uuid.uuid4().hex[:8]}",
            "severity": rng.choice(["SEV1", "SEV2", "SEV3"]),
            "services": ["checkout"],
            "started_at": "2026-11-30T10:00:00Z",
        }
    elif kind == "patch":
        method, path = "patch", f"/api/v1/incidents/{rng.choice(incidents)}"
        body = {"impact": {"customers": rng.randint(1, 10_000)}, "summary": "load"}
    elif kind == "timeline":
        method, path = "post", f"/api/v1/incidents/{rng.choice(incidents)}/timeline"
        body = {"at": "2026-11-30T10:05:00Z", "kind": "note", "text": "load note"}
    elif kind == "action" or not actions:
        kind, method = "action", "post"
        path = f"/api/v1/incidents/{rng.choice(incidents)}/actions"
        body = {"title": "Add a canary", "type": "prevent", "owner": "Maya Okafor"}
    else:
        # Few actions, many clients: moves of one action collide on purpose.
        method, path = "patch", f"/api/v1/actions/{rng.choice(actions[-12:])}"
        body = {"status": rng.choice(MOVES), "status_reason": "load"}
    started = time.perf_counter()
    resp = getattr(session, method)(base + path, json=body, timeout=60)
    elapsed = time.perf_counter() - started
    _record(tally, kind, resp, elapsed)


def _record(tally: Tally, kind: str, resp: requests.Response, elapsed: float) -> None:
    with tally.lock:
        tally.statuses[f"{kind} {resp.status_code}"] += 1
        if resp.status_code >= 300:
            return
        tally.latencies.append(elapsed)
        data = resp.json()
        if resp.status_code == 201:
            tally.created[kind] += 1
            if kind == "incident":
                tally.incidents.append(data["key"])
            if kind == "action":
                tally.actions.append(data["key"])
        if kind == "move":
            for h in data["history"]:
                tally.moves.add((data["key"], h["from_status"], h["to_status"], h["at"]))


def drive(base: str, clients: int, seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {TOKEN}"
            while time.monotonic() < stop:
                try:
                    _one(session, base, tally, rng)
                except requests.RequestException as exc:
                    with tally.lock:
                        tally.statuses[f"error {type(exc).__name__}"] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally, time.monotonic() - began


def stored(url: str) -> dict[str, Any]:
    engine = sa.create_engine(Settings(database_url=url).sqlalchemy_url)
    with engine.connect() as conn:
        count = {
            t: conn.scalar(sa.text(f"SELECT count(*) FROM {t}"))
            for t in ("incidents", "timeline_events", "actions", "pending_evaluations")
        }
        rows = conn.execute(
            sa.text(
                "SELECT a.key, h.from_status, h.to_status, h.at FROM action_status_changes h"
                " JOIN actions a ON a.id = h.action_id ORDER BY h.action_id, h.id"
            )
        ).all()
    engine.dispose()
    return {"count": count, "history": rows}


def forbidden(history: list[Any]) -> int:
    """Moves the workflow does not allow, or whose `from` is not where the action was."""
    bad, where = 0, {}
    for key, from_status, to_status, _at in history:
        if from_status is None:
            where[key] = to_status
            continue
        if where.get(key, "open") != from_status:  # actions start open
            bad += 1
        try:
            check_action_transition(ActionStatus(from_status), ActionStatus(to_status), "r")
        except TransitionError:
            bad += 1
        where[key] = to_status
    return bad


def queue_depth(redis_url: str | None) -> dict[str, int]:
    """Jobs waiting or running, per RQ queue (none without Redis: jobs run in-process)."""
    if not redis_url:
        return {}
    from redis import Redis
    from rq import Queue
    from rq.registry import StartedJobRegistry

    conn = Redis.from_url(redis_url)
    depth = {
        q: Queue(q, connection=conn).count + StartedJobRegistry(q, connection=conn).count
        for q in QUEUES
    }
    conn.close()
    return depth


def fresh_after(url: str, redis_url: str | None, limit: float) -> float | None:
    """Seconds until no job is queued or running and no incident waits for an evaluation."""
    began = time.monotonic()
    engine = sa.create_engine(Settings(database_url=url).sqlalchemy_url)
    try:
        while time.monotonic() - began < limit:
            with engine.connect() as conn:
                waiting = conn.scalar(sa.text("SELECT count(*) FROM pending_evaluations"))
            if not waiting and not sum(queue_depth(redis_url).values()):
                return time.monotonic() - began
            time.sleep(0.25)
    finally:
        engine.dispose()
    return None


def _pg_database(admin: str) -> tuple[str, Any]:
    name = f"hindsight_load_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(
        admin.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()

    return admin.rsplit("/", 1)[0] + f"/{name}", drop


def _spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Output goes to HINDSIGHT_LOAD_LOGS/<program>.log when that is set, else nowhere."""
    logs = env.get("HINDSIGHT_LOAD_LOGS")
    if not logs:
        return subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    with open(Path(logs) / f"{Path(command[0]).name}-{command[-1]}.log", "ab") as out:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)


def _start(env: dict[str, str], port: int) -> list[subprocess.Popen[bytes]]:
    """`hindsight init-db`, then gunicorn as the image runs it and, with Redis, one worker."""
    if _spawn([str(BIN / "hindsight"), "init-db"], env).wait(120) != 0:
        raise SystemExit("bench/load.py: hindsight init-db failed")
    procs = [_spawn([str(BIN / "gunicorn"), "app:create_app()"], env)]
    if env.get("HINDSIGHT_REDIS_URL"):
        procs.append(_spawn([str(BIN / "hindsight"), "worker"], env))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return procs
        except requests.RequestException:
            time.sleep(0.5)
    raise SystemExit("bench/load.py: gunicorn did not answer /healthz within 90 s")


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else 0.0


def _instant(value: Any) -> datetime:
    """The same moment whether the API wrote it (ISO, Z) or a driver read it (naive on SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace(" ", "T"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    moment: datetime = value.astimezone(UTC)
    return moment


def report(
    tally: Tally,
    took: float,
    db: dict[str, Any],
    depth: dict[str, int],
    fresh: float | None,
    limit: float,
) -> bool:
    count, history = db["count"], db["history"]
    stored_moves = {(k, f, t, _instant(a)) for k, f, t, a in history if f is not None}
    acked_moves = {(k, f, t, _instant(a)) for k, f, t, a in tally.moves if f is not None}
    pairs = [
        ("incidents", tally.created["incident"], count["incidents"]),
        ("timeline events", tally.created["timeline"], count["timeline_events"]),
        ("actions", tally.created["action"], count["actions"]),
        ("status moves", len(acked_moves), len(stored_moves)),
    ]
    bad = forbidden(history)
    acked = len(tally.latencies)
    print(f"requests acknowledged: {acked} in {took:.1f} s = {acked / took:.1f}/s")
    print(
        f"latency p50 {_percentile(tally.latencies, 50) * 1000:.0f} ms,"
        f" p99 {_percentile(tally.latencies, 99) * 1000:.0f} ms"
    )
    print("answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items())))
    for name, acknowledged, kept in pairs:
        print(f"{name}: acknowledged {acknowledged}, stored {kept}")
    print(f"forbidden transitions in history: {bad}")
    by_queue = ", ".join(f"{q} {n}" for q, n in depth.items())
    print(f"queue depth at the end of the load: {sum(depth.values())} ({by_queue or 'no Redis'})")
    print(
        "findings fresh again after: "
        + (f"{fresh:.1f} s" if fresh is not None else f"not within {limit:.0f} s")
    )
    server_errors = sum(v for k, v in tally.statuses.items() if k.split()[-1].startswith("5"))
    ok = all(a == k for _, a, k in pairs) and acked_moves <= stored_moves and bad == 0
    return ok and fresh is not None and fresh <= 30 and server_errors == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--sqlite", action="store_true", help="the embedded default instead")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--fresh-limit", type=float, default=300)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="hindsight-load-"))
    if args.sqlite:
        url, drop, redis_url = f"sqlite:///{tmp / 'hindsight.db'}", (lambda: None), None
    else:
        (url, drop), redis_url = _pg_database(args.pg_admin), args.redis_url
        from redis import Redis

        Redis.from_url(redis_url).flushdb()
    port = 18000 + os.getpid() % 1000
    env = {
        **os.environ,
        "HINDSIGHT_DATABASE_URL": url,
        "HINDSIGHT_API_TOKENS": f"load:write:{TOKEN}",
        "HINDSIGHT_CONFIG_DIR": str(ROOT / "config"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(args.workers),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
        "HINDSIGHT_SYNC_SWEEP_SECONDS": "5",
    }
    env.pop("HINDSIGHT_REDIS_URL", None)
    if redis_url:
        env["HINDSIGHT_REDIS_URL"] = redis_url
    procs = _start(env, port)
    try:
        print(
            f"{'SQLite, embedded' if args.sqlite else 'PostgreSQL, Redis, 1 RQ worker'};"
            f" gunicorn {args.workers} workers; {args.clients} clients for {args.seconds:.0f} s"
        )
        tally, took = drive(f"http://127.0.0.1:{port}", args.clients, args.seconds)
        depth = queue_depth(redis_url)
        fresh = fresh_after(url, redis_url, args.fresh_limit)
        ok = report(tally, took, stored(url), depth, fresh, args.fresh_limit)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
        drop()
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
