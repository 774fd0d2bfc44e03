"""`hindsight sync ...` (filled in by the Jira sync work)."""

from __future__ import annotations

from typing import Any


def add_commands(sub: Any) -> None:
    return None
