"""Incidents created per second through the HTTP API, as a ratio to a bare Flask endpoint.

Both apps are served the same way (werkzeug's threaded server on loopback, one
keep-alive client session) in the same run, in alternating rounds, so the
ratio holds on a noisy machine even when the absolute numbers do not.

    .venv/bin/python bench/api.py [--requests 500] [--rounds 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.db import upgrade  # noqa: E402
from app.settings import Settings  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
BODY: dict[str, Any] = {
    "title": "Checkout latency spike",
    "severity": "SEV3",
    "services": ["checkout"],
    "started_at": "2026-01-01T10:00:00Z",
    "impact": {"customers": 10},
}


def bare_app() -> Flask:
    app = Flask("bare")

    @app.post("/api/v1/incidents")
    def create() -> tuple[Any, int]:
        data = request.get_json()
        return jsonify({"key": "INC-1", **data}), 201

    return app


def serve(app: Flask) -> tuple[str, Callable[[], None]]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", server.shutdown


def rate(url: str, n: int) -> float:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    start = time.perf_counter()
    for _ in range(n):
        resp = session.post(url + "/api/v1/incidents", json=BODY, headers=headers, timeout=30)
        if resp.status_code != 201:
            raise SystemExit(f"unexpected {resp.status_code}: {resp.text}")
    return n / (time.perf_counter() - start)


def drained(app: Flask, timeout: float = 120.0) -> float:
    """Seconds until the background thread has evaluated everything the round asked for.

    Measured after each Hindsight round and before the bare round starts, so the
    evaluations the service deferred while it was busy never run during (and slow
    down) the baseline's round.
    """
    queue = app.config["HINDSIGHT_RUNTIME"].queue
    start = time.perf_counter()
    if not queue.wait_idle(timeout):
        raise SystemExit("the background queue did not drain")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        settings = Settings(
            database_url=url,
            api_tokens=f"bench:write:{TOKEN}",
            config_dir=Path(__file__).resolve().parent.parent / "config",
        )
        upgrade(settings)
        app = create_app(settings)
        hindsight_url, stop_h = serve(app)
        bare_url, stop_b = serve(bare_app())
        rate(hindsight_url, 20)
        drained(app)
        rate(bare_url, 20)
        ours, bare, drains, end_to_end = [], [], [], []
        for _ in range(args.rounds):
            ours.append(rate(hindsight_url, args.requests))
            drains.append(drained(app))
            end_to_end.append(args.requests / (args.requests / ours[-1] + drains[-1]))
            bare.append(rate(bare_url, args.requests))
        stop_h()
        stop_b()
    h, b = statistics.median(ours), statistics.median(bare)
    print(f"database: {url.split(':')[0]}  requests/round: {args.requests}  rounds: {args.rounds}")
    print(f"hindsight POST /api/v1/incidents: {h:8.1f} incidents/s (median)")
    print(f"bare Flask JSON endpoint:         {b:8.1f} requests/s (median)")
    e, d = statistics.median(end_to_end), statistics.median(drains)
    print(f"ratio hindsight / bare:           {h / b:8.3f}")
    print(f"evaluations still queued when the round ended took {d:.2f} s (median) to finish;")
    print(f"incidents created and evaluated:  {e:8.1f} /s, ratio to bare {e / b:.3f}")


if __name__ == "__main__":
    main()
