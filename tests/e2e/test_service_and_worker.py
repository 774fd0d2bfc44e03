"""The API and an RQ worker as separate processes, talking through Redis and the database."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import time
from typing import Any

import requests

from tests.conftest import BOOTSTRAP, WRITE_TOKEN
from tests.e2e.conftest import ROOT, free_port, hindsight, wait_http

HEADERS = {"Authorization": f"Bearer {WRITE_TOKEN}"}
SECRET = "generic-secret-0123456789"


def poll(fetch: Any, until: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if until(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def test_writes_are_evaluated_by_the_worker(
    env: dict[str, str], processes: list[subprocess.Popen[str]], database_url: str, redis_url: str
) -> None:
    env.update(
        HINDSIGHT_DATABASE_URL=database_url,
        HINDSIGHT_REDIS_URL=redis_url,
        HINDSIGHT_API_TOKENS=BOOTSTRAP,
        HINDSIGHT_GENERIC_WEBHOOK_SECRET=SECRET,
    )
    port = free_port()
    api = subprocess.Popen(
        hindsight("serve", "--port", str(port)),
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    processes.append(api)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", api)
    assert requests.get(base + "/healthz", timeout=5).json()["checks"]["queue"] == {
        "ok": True,
        "kind": "rq",
    }

    body = json.dumps(
        {
            "delivery_id": "d-1",
            "incident_id": "ext-7",
            "event": "resolved",
            "occurred_at": "2026-04-01T12:00:00Z",
            "title": "Checkout 502s",
            "severity": "SEV2",
            "services": ["checkout"],
        }
    ).encode()
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    hook = requests.post(
        base + "/webhooks/generic",
        data=body,
        timeout=10,
        headers={"X-Hindsight-Signature": sig, "Content-Type": "application/json"},
    )
    assert hook.status_code == 202
    # Nothing is processed until a worker runs: the delivery waits in Redis.
    assert (
        requests.get(base + "/api/v1/incidents", headers=HEADERS, timeout=10).json()["total"] == 0
    )

    worker = subprocess.Popen(
        hindsight("worker"),
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    processes.append(worker)
    listed = poll(
        lambda: requests.get(base + "/api/v1/incidents", headers=HEADERS, timeout=10).json(),
        lambda page: page["total"] == 1,
    )
    assert listed["total"] == 1 and listed["items"][0]["postmortem_status"] == "draft"
    key = listed["items"][0]["key"]
    findings = poll(
        lambda: requests.get(
            f"{base}/api/v1/incidents/{key}/findings", headers=HEADERS, timeout=10
        ).json(),
        lambda items: any(f["rule"] == "completeness.root_cause" for f in items),
    )
    assert any(f["rule"] == "completeness.root_cause" for f in findings), findings
