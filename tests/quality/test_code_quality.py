"""The code stays ruff-clean, ruff-formatted, mypy-clean and small: checked by the suite.

Size limits (ast-based, so a long docstring counts as much as code): no
module under app/ over MAX_MODULE_LINES lines and no function or method over
MAX_FUNCTION_LINES, from its `def` line to its last line. Complexity is
ruff's C90 (mccabe), configured in pyproject.toml, so `ruff check` holds it.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
APP = ROOT / "app"

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def app_modules() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_ruff_is_clean() -> None:
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = run(str(BIN / "mypy"), "app")
    assert result.returncode == 0, result.stdout + result.stderr


def test_complexity_limit_is_configured() -> None:
    """C90 must stay selected, or `test_ruff_is_clean` would no longer hold the limit."""
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^select = \[[^\]]*"C90"', text, re.M)
    assert re.search(r"^max-complexity = \d+", text, re.M)


def test_no_module_is_too_long() -> None:
    long = {
        rel(path): n
        for path in app_modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: " + ", ".join(
        f"{name} ({n})" for name, n in sorted(long.items(), key=lambda item: -item[1])
    )


def test_no_function_is_too_long() -> None:
    long = []
    for path in app_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{rel(path)}:{node.lineno} {node.name} ({n})")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n  " + "\n  ".join(long)


def test_durable_rules_and_jira_stay_behind_their_adapters() -> None:
    """The brief's boundaries: durable_rules only in app/rules/engine.py, jira only in app/sync/."""
    durable = re.compile(r"^\s*(?:import|from)\s+durable", re.M)
    jira = re.compile(r"^\s*(?:import|from)\s+jira\b", re.M)
    offenders = []
    for path in app_modules():
        text = path.read_text()
        name = rel(path)
        if durable.search(text) and name != "app/rules/engine.py":
            offenders.append(name)
        if jira.search(text) and not name.startswith("app/sync/"):
            offenders.append(name)
    assert offenders == []
    assert durable.search((ROOT / "app/rules/engine.py").read_text())
    assert jira.search((ROOT / "app/sync/jira.py").read_text())
