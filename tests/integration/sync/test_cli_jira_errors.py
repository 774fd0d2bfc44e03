"""Every `hindsight sync` command answers a failing Jira in one line with a non-zero exit.

The real `hindsight` program runs as a process against the Jira test server: a wrong
token (401), a bot without permission (403), Jira down (503), a Jira slower than the
client timeout, and a host where nothing listens. Nothing is dead-lettered by a push
that could not even ask Jira who it is.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app import runtime as build_runtime
from app.models import OutboxItem

from .conftest import jira_settings, start_jira
from .seed import seed_postmortems

COMMANDS = (["check"], ["push"], ["reconcile"], ["reconcile", "--full"])
JIRA_FAILED = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(settings: Any, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HINDSIGHT_")}
    for name in ("database_url", "config_dir", "jira_url", "jira_user", "jira_token"):
        env[f"HINDSIGHT_{name.upper()}"] = str(getattr(settings, name))
    env["HINDSIGHT_JIRA_PROJECT"] = "OPS"
    env["HINDSIGHT_DATA_DIR"] = str(settings.data_dir)
    env["HINDSIGHT_JIRA_TIMEOUT_SECONDS"] = "1"
    return env | extra


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "sync", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _wrong_token(srv: Any, env: dict[str, str]) -> str:
    env["HINDSIGHT_JIRA_TOKEN"] = "not-the-token"
    return "HTTP 401"


def _forbidden(srv: Any, env: dict[str, str]) -> str:
    srv.faults.add("403", path="*", times=1000)
    return "HTTP 403: You do not have the permission"


def _down(srv: Any, env: dict[str, str]) -> str:
    srv.faults.add("503", path="*", times=1000)
    return "HTTP 503"


def _slow(srv: Any, env: dict[str, str]) -> str:
    srv.faults.add("latency", path="*", times=1000, delay=2.5)
    return "network error"


def _nowhere(srv: Any, env: dict[str, str]) -> str:
    env["HINDSIGHT_JIRA_URL"] = f"http://127.0.0.1:{_free_port()}"
    return "network error"


FAULTS: dict[str, Callable[[Any, dict[str, str]], str]] = {
    "wrong-token": _wrong_token,
    "down-503": _down,
    "forbidden": _forbidden,
    "timeout": _slow,
    "unreachable": _nowhere,
}


@pytest.mark.parametrize("mode", ["cloud", "dc"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failing_jira_is_one_line_and_a_non_zero_exit(
    database_url: str, request: pytest.FixtureRequest, mode: str, fault: str
) -> None:
    srv = start_jira(mode, strict_auth=True)
    request.addfinalizer(srv.stop)
    settings = jira_settings(database_url, srv)
    rt = build_runtime.build(settings.model_copy(update={"jira_url": None}))
    seed_postmortems(rt, 1, 3)  # written while Jira was not connected: nothing queued
    rt.close()
    env = _env(settings)
    expected = FAULTS[fault](srv, env)
    for args in COMMANDS:
        done = _run(args, env)
        assert done.returncode == JIRA_FAILED, (args, done.stdout, done.stderr)
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, (args, done.stderr)
        assert lines[0].startswith(f"hindsight sync {args[0]}: Jira failed: {expected}"), lines
    status = _run(["status"], env)  # asks the database only: still answers
    assert status.returncode == 0 and "outbox:" in status.stdout, status.stderr
    pushed = _run(["push", "--backfill"], env)
    assert pushed.returncode == JIRA_FAILED and len(pushed.stderr.splitlines()) == 1
    check_rt = build_runtime.build(settings)
    with check_rt.db.sessions() as session:
        assert session.scalar(select(func.count(OutboxItem.id))) == 0, "nothing queued or buried"
    check_rt.close()
    assert not srv.server_errors
