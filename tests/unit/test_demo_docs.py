"""The demo, its command's help and the README agree on how many incidents it loads."""

from __future__ import annotations

from pathlib import Path

import app.demo
from app.cli.db import demo

ROOT = Path(__file__).resolve().parents[2]
WORDS = {5: "five", 6: "six", 7: "seven", 8: "eight"}


def test_the_demo_says_how_many_incidents_it_loads() -> None:
    count = WORDS[len(list(app.demo.DEMO_DIR.glob("*.yaml")))]
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"It loads {count} worked incidents" in readme
    assert f"{count} worked incidents" in (app.demo.__doc__ or "")
    assert f"the {count} demo incidents" in (demo.help or "")
