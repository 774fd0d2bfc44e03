"""The naive baseline of bench/reports.py: load ORM objects, compute in Python.

What a first version of each report would do: select every Action / Incident as an
ORM object (with the relationships it needs) and count, sort and match in Python.
Each returns the same figures as the real report, so the bench can check them equal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.models import Action, Incident, SearchDocument
from app.reports.recurrence import ActionState, judge
from app.search.similarity import Profile, repeats

COMPLETED = ("done", "verified")
OPEN = ("open", "in_progress", "blocked")


def percentile(values: list[float], tenths: int) -> float | None:
    """percentile_cont: linear between the two neighbours of p * (n - 1)."""
    if not values:
        return None
    values = sorted(values)
    pos = tenths * (len(values) - 1) / 10
    low, high = int(pos), min(int(pos) + 1, len(values) - 1)
    return round(values[low] + (values[high] - values[low]) * (pos - low), 2)


def _month(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


def _on_time(a: Action) -> bool:
    if a.completed_at is None or a.due_date is None:
        return False
    return a.completed_at.astimezone(UTC).date() <= a.due_date


def _figures(actions: list[Action], now: datetime) -> dict[str, Any]:
    counts = Counter(a.status for a in actions)
    done = [a for a in actions if a.status in COMPLETED and a.completed_at is not None]
    with_due = [a for a in done if a.due_date is not None]
    on_time = len([a for a in with_due if _on_time(a)])
    days = [(a.completed_at - a.created_at).total_seconds() / 86400 for a in done if a.completed_at]
    return {
        "total": len(actions),
        **{s: counts[s] for s in ("open", "in_progress", "blocked", "done", "verified", "wont_do")},
        "overdue": sum(
            1 for a in actions if a.status in OPEN and a.due_date and a.due_date < now.date()
        ),
        "on_time_rate": round(on_time / len(with_due), 4) if with_due else None,
        "median_days_to_complete": percentile(days, 5),
        "p90_days_to_complete": percentile(days, 9),
    }


def completion(session: Session, now: datetime) -> dict[str, Any]:
    """Totals and every breakdown, keyed by str(key), from every Action object."""
    actions = list(session.scalars(select(Action).options(joinedload(Action.incident))))
    keys: dict[str, Callable[[Action], Iterable[Any]]] = {
        "team": lambda a: [a.team],
        "service": lambda a: a.incident.services,
        "severity": lambda a: [a.incident.severity],
        "priority": lambda a: [a.priority],
        "type": lambda a: [a.type],
        "month": lambda a: [_month(a.created_at)],
    }
    by: dict[str, dict[str, Any]] = {}
    for name, key in keys.items():
        groups: dict[str, list[Action]] = defaultdict(list)
        for a in actions:
            for k in key(a):
                groups[str(k)].append(a)
        by[name] = {k: _figures(v, now) for k, v in groups.items()}
    return {"totals": _figures(actions, now), "by": by}


def _profiles(incidents: list[Incident]) -> list[Profile]:
    return [
        Profile(
            key=i.key or f"#{i.id}",
            started=i.started_at or i.created_at,
            services=frozenset(i.services or []),
            categories=frozenset(c.category for c in i.causes),
            text=" ".join([i.title, i.summary or "", *(c.statement for c in i.causes)]),
        )
        for i in incidents
    ]


def _all_incidents(session: Session) -> list[Incident]:
    stmt = select(Incident).options(selectinload(Incident.causes)).order_by(Incident.id)
    return list(session.scalars(stmt))


def recurrence(session: Session) -> dict[str, Any]:
    """Repeats and the verdict of every earlier action, from Incident and Action objects."""
    profiles = _profiles(_all_incidents(session))
    started = {p.key: p.started for p in profiles}
    order = {p.key: (p.started, n) for n, p in enumerate(profiles)}
    latest: dict[str, Any] = {}
    for pair in repeats(profiles):  # every matching pair; the report keeps the latest earlier
        held = latest.get(pair.incident)
        if held is None or order[pair.repeat_of] > order[held.repeat_of]:
            latest[pair.incident] = pair
    pairs = list(latest.values())
    earlier = {p.repeat_of for p in pairs}
    actions: dict[str, list[ActionState]] = defaultdict(list)
    stmt = select(Action).options(joinedload(Action.incident), selectinload(Action.history))
    for a in session.scalars(stmt):
        if a.incident.key in earlier:
            hist = tuple(sorted((h.at, h.to_status) for h in a.history))
            state = ActionState(a.key or "", a.status, a.created_at, a.completed_at, hist)
            actions[a.incident.key or ""].append(state)
    verdicts: Counter[str] = Counter(
        judge(s, started[p.incident]).verdict for p in pairs for s in actions[p.repeat_of]
    )
    return {"pairs": sorted((p.incident, p.repeat_of) for p in pairs), "verdicts": dict(verdicts)}


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "mean_minutes": None, "median_minutes": None}
    mean = round(sum(values) / len(values), 2)
    return {"count": len(values), "mean_minutes": mean, "median_minutes": percentile(values, 5)}


def _metrics(incidents: list[Incident]) -> dict[str, Any]:
    def minutes(pairs: Iterable[tuple[Any, Any]]) -> list[float]:
        return [(e - s).total_seconds() / 60 for s, e in pairs if s and e and e >= s]

    pm = [(i.resolved_at, i.postmortem.published_at if i.postmortem else None) for i in incidents]
    return {
        "mttd": _stats(minutes((i.started_at, i.detected_at) for i in incidents)),
        "mtta": _stats(minutes((i.detected_at, i.acknowledged_at) for i in incidents)),
        "mttm": _stats(minutes((i.started_at, i.mitigated_at) for i in incidents)),
        "mttr": _stats(minutes((i.started_at, i.resolved_at) for i in incidents)),
        "postmortem": _stats(minutes(pm)),
    }


def learning(session: Session) -> dict[str, Any]:
    """Metrics overall and by month, action counts and the repeat rate, from ORM objects."""
    incidents = list(
        session.scalars(
            select(Incident).options(
                selectinload(Incident.causes),
                selectinload(Incident.postmortem),
                selectinload(Incident.actions),
            )
        )
    )
    months: dict[str, list[Incident]] = defaultdict(list)
    for i in incidents:
        months[_month(i.started_at or i.created_at)].append(i)
    actions = [a for i in incidents for a in i.actions]
    repeated = {p.incident for p in repeats(_profiles(incidents))}
    return {
        "incidents": len(incidents),
        "metrics": _metrics(incidents),
        "months": {m: _metrics(v) for m, v in sorted(months.items())},
        "actions_total": len(actions),
        "actions_completed": sum(1 for a in actions if a.status in COMPLETED),
        "actions_wont_do": sum(1 for a in actions if a.status == "wont_do"),
        "repeat_rate": round(len(repeated) / len(incidents), 4) if incidents else None,
    }


def search(session: Session, q: str) -> int:
    """Documents holding every word of the query (no stemming, no ranking): their count."""
    words = q.lower().split()
    docs = session.scalars(select(SearchDocument))
    return sum(1 for d in docs if all(w in d.body.lower() for w in words))
