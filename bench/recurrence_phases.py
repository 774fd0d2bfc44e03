"""Where the recurrence and learning reports spend their time and memory, phase by phase.

Runs against an already-loaded database (`bench/reports.py --keep NAME` leaves one):

    .venv/bin/python bench/recurrence_phases.py postgresql://postgres@127.0.0.1:5432/NAME

Phases: the corpus streamed from the database (texts counted, then dropped), the
matcher, the earlier actions judged (in SQL on PostgreSQL) and packed, the rates; then
the whole recurrence report, and the learning report after it (which reuses the
matcher's answer). Each line gives seconds, the process's resident and peak memory
(MB), and the load average, because the machine may be shared.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.runtime import build  # noqa: E402
from app.schemas.reports import LearningQuery  # noqa: E402
from app.search.corpus import load_corpus  # noqa: E402
from app.search.similarity import latest_repeats  # noqa: E402
from app.services import recurrence as service  # noqa: E402
from app.services import repeats  # noqa: E402
from app.services.reports import learning_report  # noqa: E402
from app.settings import Settings  # noqa: E402

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def memory() -> str:
    with open("/proc/self/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return f"rss {rss // 1024:>4} MB, peak {peak // 1024:>4} MB"


def phase(name: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    load = os.getloadavg()[0]
    print(f"{name:<28}{seconds:>8.2f} s   {memory()}   load {load:.1f}", flush=True)
    return result


def main() -> int:
    rt = build(Settings(database_url=sys.argv[1]))
    print(f"{'start':<28}{'':>10}   {memory()}")
    with rt.db.sessions() as session:
        corpus = phase("corpus (streamed)", partial(load_corpus, session))
    pairs = phase("matcher", partial(latest_repeats, corpus))
    print(f"  {len(corpus):,} incidents, {len(pairs):,} repeats")
    corpus = pairs = None  # freed before the shared answer is computed
    found = phase("matched (shared answer)", partial(repeats.matched, rt))
    with rt.db.sessions() as session, repeats.gc_paused():
        judged = phase(
            "judged and packed", partial(service._repeats, session, found.pairs, found.started)
        )
    print(f"  {sum(len(r.earlier_actions) for r in judged):,} earlier actions")
    phase("rates", partial(service._rates, found, judged))
    found = judged = None
    repeats._LAST.clear()  # the whole report from nothing, then learning reusing its answer
    report = phase("recurrence report", lambda: service.recurrence_report(rt, now=NOW))
    del report
    phase("learning report (shared)", lambda: learning_report(rt, LearningQuery(), now=NOW))
    repeats._LAST.clear()
    phase("learning report (alone)", lambda: learning_report(rt, LearningQuery(), now=NOW))
    rt.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
