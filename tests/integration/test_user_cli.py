"""`hindsight user create`: an account the web accepts, or one line on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.runtime import build
from app.services.users import sign_in
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


def run(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HINDSIGHT_")}
    env.update(HINDSIGHT_DATABASE_URL=url, HINDSIGHT_CONFIG_DIR=str(ROOT / "config"))
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "user", "create", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_user_create_then_sign_in(committed_database_url: str) -> None:
    args = ["Maya", "--role", "facilitator", "--name", "Maya Okafor", "--team", "storefront"]
    made = run(committed_database_url, *args, "--password-stdin", stdin="a long enough password\n")
    assert made.returncode == 0, made.stderr
    assert "created maya (facilitator)" in made.stdout
    rt = build(make_settings(committed_database_url))
    try:
        signed = sign_in(rt, username="maya", password="a long enough password")
        assert signed is not None and signed.person.display_name == "Maya Okafor"
        assert signed.person.team == "storefront" and signed.person.principal.via == "user:maya"
        assert sign_in(rt, username="maya", password="a long enough passwor") is None
    finally:
        rt.close()
    again = run(committed_database_url, "maya", "--role", "viewer", "--sso-only")
    assert again.returncode == 1
    assert again.stderr.strip().count("\n") == 0 and "already exists" in again.stderr


def test_refusals_are_one_line(committed_database_url: str) -> None:
    short = run(committed_database_url, "sam", "--role", "member", "--password-stdin", stdin="x\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    assert "Traceback" not in short.stderr
    role = run(committed_database_url, "sam", "--role", "boss", "--sso-only")
    assert role.returncode == 2 and "boss" in role.stderr
