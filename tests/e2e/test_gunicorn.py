"""The service as the Docker image runs it: gunicorn with several workers (gunicorn.conf.py)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.e2e.conftest import ROOT, free_port, hindsight

TOKEN = "e2e-write-token-0123456789"


def _total(text: str, method: str, endpoint: str) -> float:
    pattern = (
        rf'hindsight_http_requests_total\{{[^}}]*endpoint="{re.escape(endpoint)}"'
        rf'[^}}]*method="{method}"[^}}]*\}} ([0-9.e+]+)'
    )
    return sum(float(m) for m in re.findall(pattern, text))


def test_every_worker_reports_the_same_request_totals(
    env: dict[str, str], processes: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    subprocess.run(hindsight("init-db"), env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    env = {
        **env,
        "HINDSIGHT_API_TOKENS": f"e2e:write:{TOKEN}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "3",
        "HINDSIGHT_SYNC_SWEEP_SECONDS": "1",
        "HINDSIGHT_PAGERDUTY_WEBHOOK_SECRET": "pd-secret-0123456789",
    }
    _strand_delivery(env["HINDSIGHT_DATABASE_URL"])
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [str(gunicorn), "app:create_app()"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    processes.append(proc)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(base + "/healthz", timeout=10).status_code == 200:
                break
        except requests.RequestException:
            assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.5)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body = {"title": "Checkout errors", "severity": "SEV3", "services": ["checkout"]}
    for _ in range(12):
        # A new connection each time, so the requests spread over the workers.
        resp = requests.post(base + "/api/v1/incidents", json=body, headers=headers, timeout=30)
        assert resp.status_code == 201, resp.text
    posts = []
    for _ in range(6):
        text = requests.get(base + "/metrics", timeout=30).text
        posts.append(_total(text, "POST", "/api/v1/incidents"))
    assert posts == [12.0] * 6, posts
    # The stranded delivery was picked up by a worker's own sweeper (no Redis, no worker).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = requests.get(base + "/api/v1/incidents?limit=50", headers=headers, timeout=30)
        if any(i["source"] == "pagerduty" for i in listed.json()["items"]):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the stranded delivery was never processed under gunicorn")


def _strand_delivery(database_url: str) -> None:
    """A stored delivery whose job was lost (as when a worker died right after the 202)."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from app.models import WebhookDelivery
    from tests.unit.test_intake_parsers import pd_payload

    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(WebhookDelivery.__table__).values(
                source="pagerduty",
                delivery_id="stranded-1",
                payload=pd_payload("incident.triggered"),
                status="pending",
                attempts=0,
                received_at=datetime.now(UTC) - timedelta(minutes=5),
            )
        )
    engine.dispose()
