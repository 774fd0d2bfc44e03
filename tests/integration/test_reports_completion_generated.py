"""The completion report on generated actions against the same figures counted in Python.

The hand-counted fixture (test_reports_completion.py) is eight actions; PostgreSQL's path
(completion_pg: one GROUPING SETS scan, cells rolled up with numpy, an action under every
service of its incident) has more room to go wrong on many rows: cells with no completed
action, groups with one value, null teams and priorities, incidents with no service or
three, ties. Here 400 actions are made from a seeded RNG and every figure of every
breakdown, with and without filters, is compared with a plain Python count of the rows
written (percentiles as percentile_cont defines them), on both databases.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from app.models import Action, Incident
from app.runtime import Runtime
from app.schemas.reports import CompletionQuery
from app.services.reports import completion_report

NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)
STATUSES = ["open", "in_progress", "blocked", "done", "verified", "wont_do"]
SERVICES = ["checkout", "payments", "search", "ledger"]
COUNTED = ["open", "in_progress", "blocked", "done", "verified", "wont_do", "overdue"]


def generate(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    incidents = [
        {
            "key": f"INC-{i}",
            "severity": rng.choice(["SEV1", "SEV2", "SEV3"]),
            "services": rng.sample(SERVICES, rng.choice([0, 1, 1, 2, 3])),
        }
        for i in range(1, 31)
    ]
    actions = []
    for n in range(1, 401):
        created = NOW - timedelta(days=rng.randint(0, 200), minutes=rng.randint(0, 1439))
        status = rng.choice(STATUSES)
        completed = None
        if status in ("done", "verified", "wont_do") and rng.random() < 0.9:
            # whole hours, some repeated, so groups hold ties
            completed = created + timedelta(hours=rng.choice([6, 24, 36]) * rng.randint(0, 20))
        due = None if rng.random() < 0.2 else (created + timedelta(days=rng.randint(-5, 30))).date()
        actions.append(
            {
                "key": f"ACT-{n}",
                "incident": rng.choice(incidents),
                "team": rng.choice(["web", "db", "ops", None]),
                "priority": rng.choice(["P1", "P2", "P3", None]),
                "type": rng.choice(["prevent", "detect", "mitigate"]),
                "status": status,
                "created": created,
                "completed": completed,
                "due": due,
            }
        )
    return actions


def store(rt: Runtime, actions: list[dict[str, Any]]) -> None:
    with rt.db.sessions() as session:
        made: dict[str, Incident] = {}
        for a in actions:
            inc = a["incident"]
            if inc["key"] not in made:
                made[inc["key"]] = Incident(
                    key=inc["key"],
                    title=inc["key"],
                    severity=inc["severity"],
                    services=inc["services"],
                    created_at=NOW - timedelta(days=300),
                )
            session.add(
                Action(
                    key=a["key"],
                    incident=made[inc["key"]],
                    title=a["key"],
                    type=a["type"],
                    team=a["team"],
                    priority=a["priority"],
                    status=a["status"],
                    created_at=a["created"],
                    completed_at=a["completed"],
                    due_date=a["due"],
                )
            )
        session.commit()


def percentile(values: list[float], fraction: float) -> float:
    """percentile_cont: position p * (n - 1) between its two neighbours."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lo, hi = ordered[math.floor(position)], ordered[math.ceil(position)]
    return lo + (hi - lo) * (position - math.floor(position))


def expected(rows: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """Every figure of one group, counted row by row."""
    out: dict[str, Any] = {"total": len(rows), **dict.fromkeys(COUNTED, 0)}
    days, with_due, on_time = [], 0, 0
    for a in rows:
        out[a["status"]] += 1
        if a["status"] in ("open", "in_progress", "blocked") and a["due"] and a["due"] < today:
            out["overdue"] += 1
        if a["status"] in ("done", "verified") and a["completed"] is not None:
            days.append((a["completed"] - a["created"]).total_seconds() / 86400)
            if a["due"] is not None:
                with_due += 1
                on_time += a["completed"].date() <= a["due"]
    out["on_time_rate"] = round(on_time / with_due, 4) if with_due else None
    out["median_days_to_complete"] = round(percentile(days, 0.5), 2) if days else None
    out["p90_days_to_complete"] = round(percentile(days, 0.9), 2) if days else None
    return out


def keys_of(a: dict[str, Any], breakdown: str) -> list[Any]:
    if breakdown == "service":
        return list(a["incident"]["services"])
    if breakdown == "severity":
        return [a["incident"]["severity"]]
    if breakdown == "month":
        return [a["created"].strftime("%Y-%m")]
    return [a[breakdown]]


def counted(actions: list[dict[str, Any]]) -> dict[str, Any]:
    by: dict[str, dict[Any, dict[str, Any]]] = {}
    for breakdown in ("team", "service", "severity", "priority", "type", "month"):
        groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for a in actions:
            for key in keys_of(a, breakdown):
                groups[key].append(a)
        by[breakdown] = {k: expected(rows, NOW.date()) for k, rows in groups.items()}
    return {"totals": expected(actions, NOW.date()), "by": by}


def reported(rt: Runtime, **query: Any) -> dict[str, Any]:
    report = completion_report(rt, CompletionQuery(**query), now=NOW).model_dump()
    figures = [*COUNTED, "total", "on_time_rate", "median_days_to_complete"]
    figures.append("p90_days_to_complete")

    def pick(f: dict[str, Any]) -> dict[str, Any]:
        return {k: f[k] for k in figures}

    by = {n: {f["key"]: pick(f) for f in rows} for n, rows in report["by"].items()}
    return {"totals": pick(report["totals"]), "by": by}


SINCE, UNTIL = NOW - timedelta(days=120), NOW - timedelta(days=30)
QUERIES = [
    {},
    {"team": "web"},
    {"service": "payments"},
    {"since": SINCE, "until": UNTIL},
    {"team": "db", "service": "search", "since": SINCE},
]


@pytest.mark.parametrize("query", QUERIES, ids=["all", "team", "service", "period", "mixed"])
def test_every_figure_equals_a_count_in_python(rt: Runtime, query: dict[str, Any]) -> None:
    actions = generate(seed=9)
    store(rt, actions)
    chosen = [
        a
        for a in actions
        if query.get("team") in (None, a["team"])
        and (query.get("service") is None or query["service"] in a["incident"]["services"])
        and (query.get("since") is None or a["created"] >= query["since"])
        and (query.get("until") is None or a["created"] < query["until"])
    ]
    assert len(chosen) >= 10  # each query selects enough rows to be worth comparing
    assert reported(rt, **query) == counted(chosen)
