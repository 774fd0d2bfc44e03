"""Repeats, similar incidents and suggested actions: what came back, and what worked."""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.models import Action, Incident
from app.reports import charts, render
from app.reports.recurrence import CHUNK, Judged, actions_of, judge, judged_in_sql
from app.reports.sql import dialect_of
from app.runtime import Runtime
from app.schemas.recurrence import (
    EarlierAction,
    Rate,
    Rates,
    RecurrenceReport,
    Repeat,
    Similar,
    SimilarIncidents,
    SuggestedActions,
    Suggestion,
)
from app.search.similarity import (
    Pair,
    Profile,
    latest_repeats,
    load_profiles,
    repeats,
    similar_to,
)

from .common import load_incident

MIN_SIMILARITY = 0.2


def _rates(profiles: list[Profile], found: list[Repeat]) -> Rates:
    repeated = {r.incident for r in found}
    by_key = {p.key: p for p in profiles}

    def rates(attr: str) -> list[Rate]:
        total: Counter[str] = Counter(v for p in profiles for v in getattr(p, attr))
        rep: Counter[str] = Counter(v for k in repeated for v in getattr(by_key[k], attr))
        return [
            Rate(key=k, incidents=n, repeats=rep[k], rate=round(rep[k] / n, 4))
            for k, n in sorted(total.items())
        ]

    done_first = {
        r.incident
        for r in found
        if r.earlier_actions and all(a.verdict == "ineffective" for a in r.earlier_actions)
    }
    return Rates(
        by_service=rates("services"),
        by_category=rates("categories"),
        repeats=len(repeated),
        after_actions_done=len(done_first),
        with_actions_not_done=len(repeated - done_first),
    )


def recurrence_report(runtime: Runtime, *, now: datetime) -> RecurrenceReport:
    with runtime.db.sessions() as session:
        profiles = load_profiles(session)
        pairs = latest_repeats(profiles)  # each repeat once, against the latest earlier one
        started = {p.key: p.started for p in profiles}
        # Hundreds of thousands of small, acyclic objects: the cyclic collector would walk
        # them again and again while they are built; it is paused for the build only.
        gc.disable()
        try:
            found = _repeats(session, pairs, started)
        finally:
            gc.enable()
    return RecurrenceReport(computed_at=now, repeats=found, rates=_rates(profiles, found))


EARLIER_FIELDS = set(EarlierAction.model_fields)  # one set shared by every verdict


def _earlier(key: str, status: str, verdict: str) -> EarlierAction:
    """A verdict of our own strings: constructed, not validated, its fields-set shared
    (a set per object would be the largest part of a million verdicts)."""
    return EarlierAction.model_construct(
        EARLIER_FIELDS, key=key, status_at_repeat=status, verdict=verdict
    )


def _fields(judged: Judged) -> tuple[str, str, str]:
    return judged.key, judged.status_at_repeat, judged.verdict


def _repeats(session: Any, pairs: list[Pair], started: dict[str, datetime]) -> list[Repeat]:
    if dialect_of(session) == "postgresql":
        return _repeats_in_sql(session, pairs, started)
    return _repeats_in_python(session, pairs, started)


def _repeats_in_sql(session: Any, pairs: list[Pair], started: dict[str, datetime]) -> list[Repeat]:
    """The repeats in `pairs` order, each earlier action judged by PostgreSQL (streamed)."""
    out = [
        Repeat.model_construct(
            incident=p.incident,
            repeat_of=p.repeat_of,
            score=p.score,
            reasons=list(p.reasons),
            earlier_actions=[],
        )
        for p in pairs
    ]
    earlier = [(p.repeat_of, started[p.incident]) for p in pairs]
    for n, key, status, verdict in judged_in_sql(session, earlier):
        out[n].earlier_actions.append(_earlier(key, status, verdict))
    return out


def _repeats_in_python(
    session: Any, pairs: list[Pair], started: dict[str, datetime]
) -> list[Repeat]:
    """The repeats in `pairs` order, their earlier actions read and judged chunk by chunk.

    Only one chunk of earlier incidents' actions (with their history) is held at a time:
    the judged verdicts are all the report keeps. The verdicts are our own strings, so
    they are constructed, not validated.
    """
    waiting: dict[str, list[int]] = defaultdict(list)
    for n, p in enumerate(pairs):
        waiting[p.repeat_of].append(n)
    out: list[Repeat | None] = [None] * len(pairs)
    keys = sorted(waiting)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        actions = actions_of(session, chunk)
        for key in chunk:
            for n in waiting[key]:
                p = pairs[n]
                out[n] = Repeat(
                    incident=p.incident,
                    repeat_of=p.repeat_of,
                    score=p.score,
                    reasons=list(p.reasons),
                    earlier_actions=[
                        _earlier(*_fields(judge(a, started[p.incident])))
                        for a in actions.get(key, [])
                    ],
                )
    return [r for r in out if r is not None]


def render_recurrence(report: RecurrenceReport, fmt: str) -> str:
    header = ["incident", "repeat_of", "score", "action", "status_at_repeat", "verdict"]
    rows = [
        [r.incident, r.repeat_of, str(r.score), a.key, a.status_at_repeat, a.verdict]
        for r in report.repeats
        for a in r.earlier_actions or [EarlierAction(key="", status_at_repeat="", verdict="")]
    ]
    if fmt == "csv":
        return render.to_csv(header, rows)
    rates = report.rates
    lines = [
        f"Computed at {report.computed_at.isoformat()}; {rates.repeats} incidents repeat an "
        f"earlier one; {rates.after_actions_done} came back after every earlier action was done.",
    ]
    drawn = [charts.recurrence_chart(report, c) for c in charts.CHARTS["recurrence"]]
    return render.to_document(fmt, "Recurrence report", lines, header, rows, drawn)


def _profiles_and_key(runtime: Runtime, key: str) -> tuple[list[Profile], str]:
    """Every profile and the incident's stored key (`inc-1` names INC-1, as elsewhere)."""
    with runtime.db.sessions() as session:
        # NotFound, also for keys no row can hold (NUL, too long)
        stored = load_incident(session, key).key or key
        return load_profiles(session), stored


def similar(runtime: Runtime, key: str, limit: int = 10) -> SimilarIncidents:
    profiles, key = _profiles_and_key(runtime, key)
    pairs = similar_to(profiles, key, limit)
    return SimilarIncidents(
        similar=[
            Similar(incident=p.repeat_of, score=p.score, reasons=list(p.reasons))
            for p in pairs
            if p.score >= MIN_SIMILARITY
        ]
    )


def _evidence(action: Action, came_back: list[datetime]) -> tuple[str, str]:
    done = action.status in {"done", "verified"} and action.completed_at is not None
    if not done or action.completed_at is None:
        return "unproven", f"not done ({action.status})"
    after = [t for t in came_back if t > action.completed_at]
    if after:
        return "did_not_work", f"done {action.completed_at:%Y-%m-%d}; the incident came back after"
    return "worked", f"done {action.completed_at:%Y-%m-%d}; no repeat since"


def suggested_actions(runtime: Runtime, key: str) -> SuggestedActions:
    """Actions of similar past incidents, those that worked first: advice, never a write."""
    profiles, key = _profiles_and_key(runtime, key)
    me = next(p for p in profiles if p.key == key)
    started = {p.key: p.started for p in profiles}
    past: list[Pair] = [
        p
        for p in similar_to(profiles, key, 5)
        if p.score >= MIN_SIMILARITY and started[p.repeat_of] < me.started
    ]
    back: dict[str, list[datetime]] = {}
    for pair in repeats(profiles):
        back.setdefault(pair.repeat_of, []).append(started[pair.incident])
    order = {"worked": 0, "unproven": 1, "did_not_work": 2}
    out: list[Suggestion] = []
    with runtime.db.sessions() as session:
        for pair in past:
            rows = session.scalars(
                select(Action).join(Incident).where(Incident.key == pair.repeat_of)
            )
            for action in rows:
                verdict, why = _evidence(action, back.get(pair.repeat_of, []))
                out.append(
                    Suggestion(
                        title=action.title,
                        type=action.type,
                        action=action.key or "",
                        from_incident=pair.repeat_of,
                        similarity=pair.score,
                        verdict=verdict,
                        evidence=why,
                    )
                )
    out.sort(key=lambda s: (order[s.verdict], -s.similarity, s.action))
    return SuggestedActions(incident=key, suggestions=out)
