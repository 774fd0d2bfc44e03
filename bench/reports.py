"""Reports and search at scale: 100,000 incidents and 1,000,000 actions on PostgreSQL.

Loads generated incidents (bench/reports_data.py: services, teams, severities,
causes with categories, repeats of one mechanism in new words, timelines,
postmortems) and actions (open, in progress, blocked, done, verified, won't do,
overdue) by COPY into a throwaway database, migrated with app.db.upgrade and dropped
at the end. Then it times the completion, recurrence and learning reports and
search (p95 over 50 queries) as the service computes them (app/services/), and
prints each beside the naive baseline: the same figures from ORM objects loaded into
Python (bench/reports_naive.py). The baseline runs on a sample (the first
`--sample` incidents, in a second database) and its time is extrapolated linearly
to the full size (search too: the naive search scans every document), which flatters
it for recurrence (quadratic per service).
The fast report's figures are checked equal to the baseline's on the sample.
Peak memory is the process's ru_maxrss after the fast reports on the full data,
before the baseline runs.

    .venv/bin/python bench/reports.py [--incidents 100000] [--actions 1000000]
        [--scale 0.1] [--sample 2000] [--reports completion,recurrence,learning]
        [--pg-admin postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--keep NAME]

Search is always timed. The process exits 1 when a fast report's figures differ from
the baseline's; a missed target is printed (MISSED), not hidden.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import reports_data as data  # noqa: E402
import reports_naive as naive  # noqa: E402

from app.db import upgrade  # noqa: E402
from app.runtime import Runtime, build  # noqa: E402
from app.schemas.reports import CompletionQuery, LearningQuery  # noqa: E402
from app.schemas.search import SearchQuery  # noqa: E402
from app.services.recurrence import recurrence_report  # noqa: E402
from app.services.reports import completion_report, learning_report  # noqa: E402
from app.services.search import search_incidents  # noqa: E402
from app.settings import Settings  # noqa: E402

TARGETS = {"completion": 2.0, "recurrence": 10.0, "search p95": 0.1}
MEMORY_TARGET_MB = 300
NAIVE_QUERIES = 10
FIGURES = [
    "total", "open", "in_progress", "blocked", "done", "verified", "wont_do", "overdue",
    "on_time_rate", "median_days_to_complete", "p90_days_to_complete",
]  # fmt: skip


def queries() -> list[SearchQuery]:
    """50 searches: mechanism words, components, services, some with filters."""
    words = [
        "disk full", "certificate expired", "connection pool", "timeout", "OOM killed",
        "migration lock", "DNS", "failover", "alert silenced", "packet loss", "retry race",
        "rolled back", "runbook", "503", "no space left", "heap grew",
    ]  # fmt: skip
    out = [SearchQuery(q=w) for w in words]
    out += [SearchQuery(q=f"{c} errors") for c in data.COMPONENTS[:15]]
    out += [SearchQuery(q=w, service=s) for w, s in zip(words, data.SERVICES[::3], strict=False)]
    out += [SearchQuery.model_validate({"q": w, "severity": "SEV2"}) for w in words[:5]]
    return out[:50]


@contextmanager
def database(admin_url: str, tag: str) -> Iterator[str]:
    """A throwaway database, migrated; dropped afterwards (as tests/conftest.py does)."""
    name = f"hindsight_bench_{uuid.uuid4().hex[:8]}_{tag}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = (admin_url.rsplit("/", 1)[0] + f"/{name}").replace("+psycopg", "")
    try:
        upgrade(Settings(database_url=url))
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=:n"),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@contextmanager
def kept_database(admin_url: str, name: str) -> Iterator[str]:
    """A named database kept between runs (``--keep``): created and migrated when missing.

    Loading 100,000 incidents and 1,000,000 actions takes minutes; someone changing a report
    re-times it against the same rows without paying for the load again. Migrations newer than
    the kept copy are applied on each run.
    """
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name})
        if found.first() is None:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = (admin_url.rsplit("/", 1)[0] + f"/{name}").replace("+psycopg", "")
    upgrade(Settings(database_url=url))
    yield url


def loaded(url: str) -> int:
    """Incidents already in a kept database (0: it needs loading)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one())
    finally:
        engine.dispose()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def fast_completion(rt: Runtime) -> dict[str, Any]:
    report = completion_report(rt, CompletionQuery(), now=data.NOW).model_dump()

    def pick(f: dict[str, Any]) -> dict[str, Any]:
        return {k: f[k] for k in FIGURES}

    by = {name: {str(f["key"]): pick(f) for f in rows} for name, rows in report["by"].items()}
    return {"totals": pick(report["totals"]), "by": by}


def fast_recurrence(rt: Runtime) -> dict[str, Any]:
    report = recurrence_report(rt, now=data.NOW)
    verdicts = Counter(v for r in report.repeats for v in r.earlier_actions.verdicts())
    pairs = sorted((r.incident, r.repeat_of) for r in report.repeats)
    return {"pairs": pairs, "verdicts": dict(verdicts)}


def fast_learning(rt: Runtime) -> dict[str, Any]:
    report = learning_report(rt, LearningQuery(), now=data.NOW).model_dump()
    return {
        "incidents": report["incidents"],
        "metrics": report["metrics"],
        "months": {p["month"]: p["metrics"] for p in report["months"]},
        **{k: report[k] for k in ("actions_total", "actions_completed", "actions_wont_do")},
        "repeat_rate": report["repeat_rate"],
    }


def fast_search(rt: Runtime) -> list[float]:
    return [timed(partial(search_incidents, rt, q))[0] for q in queries()]


def same(a: Any, b: Any) -> bool:
    """Equal, floats within rounding (both sides round to 2 or 4 places)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(a - b) <= 0.011
    return bool(a == b)


def run_fast(url: str, only: set[str]) -> dict[str, Any]:
    rt = build(Settings(database_url=url))
    try:
        out: dict[str, Any] = {}
        for name, fn in (
            ("completion", fast_completion),
            ("recurrence", fast_recurrence),
            ("learning", fast_learning),
        ):
            if name in only:
                out[name] = timed(partial(fn, rt))
        times = fast_search(rt)
        out["search p95"] = (p95(times), times)
        return out
    finally:
        rt.close()


def run_naive(url: str, only: set[str]) -> dict[str, tuple[float, Any]]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    out: dict[str, tuple[float, Any]] = {}
    jobs: dict[str, Callable[[sa.orm.Session], Any]] = {
        "completion": lambda s: naive.completion(s, data.NOW),
        "recurrence": naive.recurrence,
        "learning": naive.learning,
    }
    for name, job in jobs.items():
        if name not in only:
            continue
        with sa.orm.Session(engine) as session:
            out[name] = timed(partial(job, session))
    times = []
    for q in queries()[:NAIVE_QUERIES]:
        with sa.orm.Session(engine) as session:
            times.append(timed(partial(naive.search, session, q.q))[0])
    out["search p95"] = (p95(times), None)
    engine.dispose()
    return out


def load(url: str, incidents: int, actions: int) -> float:
    seconds, _ = timed(lambda: data.load(url, incidents, actions))
    print(f"loaded {incidents:,} incidents, {actions:,} actions in {seconds:.1f} s", flush=True)
    return seconds


def report(
    full: dict[str, Any], base: dict[str, Any], factor: float, sample: int, peak_mb: float
) -> None:
    how = "same data" if factor == 1 else f"on {sample:,} incidents, x{factor:g} linear"
    print(f"\n{'report':<12}{'fast':>10}{'baseline':>12}{'ratio':>9}  target  ({how})")
    for name in [n for n in full if n in base]:
        fast, slow = full[name][0], base[name][0] * factor
        target = TARGETS.get(name)
        verdict = "" if target is None else ("met" if fast <= target else "MISSED")
        limit = f"<= {target:g} s {verdict}" if target else "-"
        print(f"{name:<12}{fast:>9.3f}s{slow:>11.3f}s{slow / fast:>8.1f}x  {limit}")
    verdict = "met" if peak_mb <= MEMORY_TARGET_MB else "MISSED"
    print(f"peak memory (fast reports) {peak_mb:.0f} MB, target <= {MEMORY_TARGET_MB} MB {verdict}")


def check(fast: dict[str, Any], base: dict[str, Any]) -> bool:
    ok = True
    for name in [n for n in ("completion", "recurrence", "learning") if n in base]:
        equal = same(fast[name][1], base[name][1])
        ok = ok and equal
        print(f"figures {name}: fast == baseline on the sample: {'yes' if equal else 'NO'}")
    print("search: the baseline is a plain word match (no stemming, no rank): timed, not compared")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies both sizes")
    parser.add_argument("--sample", type=int, default=2000, help="incidents for the baseline")
    parser.add_argument(
        "--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument(
        "--reports", default="completion,recurrence,learning", help="which reports to time"
    )
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="load the full data into database NAME once and keep it for later runs",
    )
    args = parser.parse_args()
    only = set(args.reports.split(","))
    n, m = int(args.incidents * args.scale), int(args.actions * args.scale)
    sample = min(args.sample, n)
    full_db = (
        kept_database(args.pg_admin, args.keep) if args.keep else database(args.pg_admin, "full")
    )
    with full_db as url:
        if not args.keep or not loaded(url):
            load(url, n, m)
        else:
            print(f"reusing the data kept in {args.keep} ({loaded(url):,} incidents)", flush=True)
        full = run_fast(url, only)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if sample == n:
            fast_sample, base = full, run_naive(url, only)
        else:
            with database(args.pg_admin, "sample") as small:
                load(small, sample, m * sample // n)
                fast_sample, base = run_fast(small, only), run_naive(small, only)
    report(full, base, n / sample, sample, peak_mb)
    times = full["search p95"][1]
    if "recurrence" in full:
        repeats = len(full["recurrence"][1]["pairs"])
        print(f"repeats found on the full data: {repeats:,} pairs")
    print(f"search over {len(times)} queries: median {statistics.median(times) * 1000:.1f} ms")
    return 0 if check(fast_sample, base) else 1


if __name__ == "__main__":
    sys.exit(main())
