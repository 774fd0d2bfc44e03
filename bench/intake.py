"""Signed webhook deliveries per second under gunicorn, as a ratio to a bare Flask 204.

The service is served the way the Dockerfile serves it (`hindsight init-db`, then
`gunicorn 'app:create_app()'` reading ./gunicorn.conf.py); a bare Flask app whose
`POST /webhooks/generic` reads the body and answers 204 is served by the same
gunicorn, with the same settings, in the same run. A separate driver process (this
file with `--drive`) sends signed generic-hook deliveries from several keep-alive
connections and reports each answer's status and latency. Rounds alternate between
the two servers, so the ratio holds on a noisy machine when the absolute numbers do
not. Finally every delivery answered 2xx is looked up in the database: all must be
stored (exit 1 otherwise).

    .venv/bin/python bench/intake.py [--deliveries 1500] [--rounds 2] [--concurrency 8]
        [--workers 4] [--database-url URL] [--redis-url URL]

Without `--redis-url` each gunicorn worker also runs the intake jobs on its own
background thread (the embedded default); with it the jobs wait in Redis for
`hindsight worker`, which is how the Docker compose file runs, and only intake is
measured; that Redis database must start empty (jobs left waiting by an earlier
run carry this run's ids and would be coalesced away).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-generic-secret-0123456789"
TARGET = 0.5


def bare_app() -> Any:
    """The baseline: the same server, an endpoint that reads the body and answers 204."""
    from flask import Flask, request

    app = Flask("bare")

    @app.post("/webhooks/generic")
    def receive() -> tuple[str, int]:
        request.get_data()
        return "", 204

    return app


# -- the driver (another process) -------------------------------------------------------------


def delivery(round_id: str, n: int) -> bytes:
    return json.dumps(
        {
            "delivery_id": f"bench-{round_id}-{n}",
            "incident_id": f"bench-{round_id}-{n % 50}",
            "event": ("triggered", "acknowledged", "resolved")[n % 3 if n >= 50 else 0],
            "occurred_at": f"2026-11-30T08:{n % 60:02d}:00Z",
            "title": "Checkout 502s for card payments",
            "severity": "SEV3",
            "services": ["checkout"],
        }
    ).encode()


def drive(url: str, round_id: str, count: int, concurrency: int) -> dict[str, Any]:
    import requests

    results: list[tuple[int, int, float]] = []
    lock = threading.Lock()
    todo = iter(range(count))

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                n = next(todo, None)
            if n is None:
                return
            body = delivery(round_id, n)
            sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json", "X-Hindsight-Signature": sig}
            start = time.perf_counter()
            resp = session.post(url + "/webhooks/generic", data=body, headers=headers, timeout=30)
            took = time.perf_counter() - start
            with lock:
                results.append((n, resp.status_code, took))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return {"elapsed": elapsed, "results": results}


def run_driver(url: str, round_id: str, count: int, concurrency: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--drive", url, "--round", round_id]
    cmd += ["--deliveries", str(count), "--concurrency", str(concurrency)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(out.stdout))


# -- the servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gunicorn(app: str, env: dict[str, str], workers: int) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    run_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)}
    cmd = [str(Path(sys.executable).parent / "gunicorn"), app]
    proc = subprocess.Popen(
        [*cmd, "--pythonpath", f"{ROOT},{ROOT / 'bench'}"],
        cwd=ROOT,
        env=run_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait(url, proc)
    return url, proc


def wait(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            requests.get(url + "/healthz", timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in {timeout}s")


# -- the figures ------------------------------------------------------------------------------


def figures(run: dict[str, Any]) -> dict[str, float]:
    latencies = sorted(took for _, _, took in run["results"])
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return {
        "rate": len(latencies) / run["elapsed"],
        "p50": statistics.median(latencies) * 1000,
        "p99": p99 * 1000,
    }


def stored_ids(database_url: str) -> set[str]:
    import sqlalchemy as sa

    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT delivery_id FROM webhook_deliveries WHERE source = 'generic'")
        ).scalars()
        found = set(rows)
    engine.dispose()
    return found


def redis_keys(url: str) -> int:
    from redis import Redis

    client = Redis.from_url(url)
    try:
        return int(client.dbsize())
    finally:
        client.close()


def report(ours: list[dict[str, Any]], bare: list[dict[str, Any]], args: Any) -> float:
    h = [figures(r) for r in ours]
    b = [figures(r) for r in bare]
    med = {k: statistics.median(f[k] for f in h) for k in ("rate", "p50", "p99")}
    base = {k: statistics.median(f[k] for f in b) for k in ("rate", "p50", "p99")}
    ratio = med["rate"] / base["rate"]
    print(
        f"gunicorn workers: {args.workers}  connections: {args.concurrency}  "
        f"deliveries/round: {args.deliveries}  rounds: {args.rounds}  "
        f"jobs: {'RQ (Redis)' if args.redis_url else 'in-process'}"
    )
    for name, f in (("hindsight /webhooks/generic", med), ("bare Flask 204", base)):
        print(
            f"{name:<28} {f['rate']:8.1f} deliveries/s  p50 {f['p50']:6.1f} ms  "
            f"p99 {f['p99']:6.1f} ms  (median of rounds)"
        )
    verdict = "meets" if ratio >= TARGET else "below"
    print(f"ratio hindsight / bare: {ratio:.3f} ({verdict} the {TARGET} target)")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    parser.add_argument("--round", default="r", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        print(json.dumps(drive(args.drive, args.round, args.deliveries, args.concurrency)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(bench(args, tmp))


def bench(args: Any, tmp: str) -> int:
    database_url = args.database_url or f"sqlite:///{tmp}/bench.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HINDSIGHT_")}
    env.update(
        HINDSIGHT_DATABASE_URL=database_url,
        HINDSIGHT_CONFIG_DIR=str(ROOT / "config"),
        HINDSIGHT_GENERIC_WEBHOOK_SECRET=SECRET,
        PROMETHEUS_MULTIPROC_DIR=f"{tmp}/metrics",
    )
    if args.redis_url:
        env["HINDSIGHT_REDIS_URL"] = args.redis_url
        if redis_keys(args.redis_url):
            # Jobs left waiting from an earlier run share this run's ids (intake-1, ...) and
            # would be coalesced away, sparing the enqueues: the figures would flatter.
            print(f"{args.redis_url} is not empty: give the bench an empty Redis database")
            return 2
    hindsight = [str(Path(sys.executable).parent / "hindsight"), "init-db"]
    subprocess.run(hindsight, check=True, env=env, cwd=ROOT, capture_output=True)
    ours_url, ours_proc = gunicorn("app:create_app()", env, args.workers)
    bare_url, bare_proc = gunicorn("intake:bare_app()", env, args.workers)
    ours: list[dict[str, Any]] = []
    bare: list[dict[str, Any]] = []
    try:
        run_driver(ours_url, "warm", 60, args.concurrency)
        run_driver(bare_url, "warm", 60, args.concurrency)
        for n in range(args.rounds):
            ours.append(run_driver(ours_url, f"r{n}", args.deliveries, args.concurrency))
            bare.append(run_driver(bare_url, f"r{n}", args.deliveries, args.concurrency))
    finally:
        for proc in (ours_proc, bare_proc):
            proc.terminate()
            proc.wait(20)
    report(ours, bare, args)
    return check_stored(ours, database_url)


def check_stored(ours: list[dict[str, Any]], database_url: str) -> int:
    answered = {
        f"bench-r{i}-{n}"
        for i, run in enumerate(ours)
        for n, status, _ in run["results"]
        if 200 <= status < 300
    }
    refused = sum(1 for run in ours for _, status, _ in run["results"] if status >= 300)
    missing = answered - stored_ids(database_url)
    print(
        f"answered 2xx: {len(answered)}  refused: {refused}  "
        f"answered but not stored: {len(missing)}"
    )
    return 1 if missing or refused else 0


if __name__ == "__main__":
    main()
