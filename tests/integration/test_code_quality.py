"""The code stays ruff and mypy clean: checked by the suite, so CI holds the line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean() -> None:
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = run(str(BIN / "mypy"), "app")
    assert result.returncode == 0, result.stdout + result.stderr


def test_durable_rules_and_jira_stay_behind_their_adapters() -> None:
    """The brief's boundaries: durable_rules only in app/rules/engine.py, jira only in app/sync/."""
    durable = re.compile(r"^\s*(?:import|from)\s+durable", re.M)
    jira = re.compile(r"^\s*(?:import|from)\s+jira\b", re.M)
    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        text = path.read_text()
        rel = path.relative_to(ROOT).as_posix()
        if durable.search(text) and rel != "app/rules/engine.py":
            offenders.append(rel)
        if jira.search(text) and not rel.startswith("app/sync/"):
            offenders.append(rel)
    assert offenders == []
    assert durable.search((ROOT / "app/rules/engine.py").read_text())
    assert jira.search((ROOT / "app/sync/jira.py").read_text())
