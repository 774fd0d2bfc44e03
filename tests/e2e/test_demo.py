"""The README's first command: the demo comes up and the printed token lists the incidents."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import requests

from tests.e2e.conftest import ROOT, free_port, hindsight, wait_http


def test_demo_serves_the_demo_incidents(
    env: dict[str, str], processes: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    port = free_port()
    log = (tmp_path / "demo.log").open("w+")
    proc = subprocess.Popen(
        hindsight("demo", "--port", str(port)),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    processes.append(proc)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", proc)
    log.seek(0)
    output = log.read()
    token = re.search(r"API token \(write scope, shown once\): (\S+)", output)
    assert token, output
    headers = {"Authorization": f"Bearer {token.group(1)}"}
    listed = requests.get(base + "/api/v1/incidents", headers=headers, timeout=10).json()
    demo_files = sorted((ROOT / "demo").glob("*.yaml"))
    assert len(demo_files) >= 5
    assert listed["total"] == len(demo_files)
    assert requests.get(base + "/api/v1/incidents", timeout=10).status_code == 401
    md = requests.get(
        base + "/api/v1/incidents/INC-1/postmortem?format=md", headers=headers, timeout=10
    )
    assert md.status_code == 200 and md.text.startswith("# INC-1")
    sign_in_with_the_printed_account(base, output)


def sign_in_with_the_printed_account(base: str, output: str) -> None:
    """The demo prints a web sign-in it created; it opens the workspace of a demo incident."""
    printed = re.search(r"username (\S+)  password (\S+)", output)
    assert printed, output
    web = requests.Session()
    page = web.get(base + "/sign-in", timeout=10).text
    token = re.search(r'name="signin_token" value="([^"]+)"', page)
    assert token
    form = {"username": printed.group(1), "password": printed.group(2)}
    signed = web.post(base + "/sign-in", data={**form, "signin_token": token.group(1)}, timeout=10)
    assert signed.status_code == 200 and signed.url.endswith("/incidents"), signed.text[:300]
    workspace = web.get(base + "/incidents/INC-1", timeout=30)
    assert workspace.status_code == 200 and "Improvement actions" in workspace.text


def test_demo_is_idempotent_with_no_serve(env: dict[str, str]) -> None:
    first = subprocess.run(
        hindsight("demo", "--no-serve"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    second = subprocess.run(
        hindsight("demo", "--no-serve"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 0, second.stderr
    assert "already present: INC-1" in second.stdout
    assert second.stdout.count("\nINC-") == first.stdout.count("\nINC-")
