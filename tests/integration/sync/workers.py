"""Real RQ worker processes and a private Redis server, for the fault tests.

Workers run `hindsight worker sync` in their own session. RQ puts each work
horse in a process group of its own, so `kill9` kills the horses it finds
under the worker by pid as well as the worker's group: the job dies
mid-request with it, as on a machine that lost power.
The private Redis lets a test stop and restart Redis without touching the
shared one on 6379.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from app.settings import Settings

HINDSIGHT = str(Path(sys.executable).parent / "hindsight")
SETTINGS_ENV = (
    "database_url",
    "redis_url",
    "config_dir",
    "jira_url",
    "jira_user",
    "jira_token",
    "jira_project",
    "jira_webhook_secret",
    "jira_timeout_seconds",
    "sync_backoff_base_seconds",
    "sync_inline_retry_seconds",
    "sync_lease_seconds",
    "sync_create_settle_seconds",
    "sync_reconcile_seconds",
)


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HINDSIGHT_")}
    for name in SETTINGS_ENV:
        value = getattr(settings, name)
        if value is not None:
            env[f"HINDSIGHT_{name.upper()}"] = str(value)
    env["HINDSIGHT_SYNC_SWEEP_SECONDS"] = "1"
    env.update(extra)
    return env


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path, queues: tuple[str, ...] = ("sync",)):
        self.env, self.log_path, self.queues = env, log_path, queues
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> WorkerProcess:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [HINDSIGHT, "worker", *self.queues],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        assert self.proc is not None
        horses = descendants(self.proc.pid)
        os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in horses:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def descendants(pid: int) -> list[int]:
    """Child processes, recursively, from /proc (Linux): RQ's horses and their children."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                kids = [int(c) for c in task.read_text().split()]
                found += kids
                todo += kids
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisProcess:
    """`redis-server` on a free port, no persistence: a restart really loses the queues."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None
