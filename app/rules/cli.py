"""`hindsight evaluate` and `hindsight lint` (filled in by the rules engine work)."""

from __future__ import annotations

from typing import Any


def add_commands(sub: Any) -> None:
    return None
