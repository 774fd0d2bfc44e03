"""Repeats, similar incidents and suggested actions: what came back, and what worked."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.models import Action, Incident
from app.reports import charts, render
from app.reports.recurrence import CHUNK, Judged, actions_of, judge, judged_in_sql, judged_one
from app.reports.sql import dialect_of
from app.runtime import Runtime
from app.schemas.earlier_actions import EarlierActions
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
from app.search.corpus import Corpus, load_corpus
from app.search.similarity import Pair, repeats, similar_to

from .common import load_incident
from .repeats import Matched, gc_paused, matched

MIN_SIMILARITY = 0.2


def _rates(matched: Matched, found: list[Repeat]) -> Rates:
    def rates(total: Counter[str], repeating: list[frozenset[str]]) -> list[Rate]:
        rep: Counter[str] = Counter(v for values in repeating for v in values)
        return [
            Rate(key=k, incidents=n, repeats=rep[k], rate=round(rep[k] / n, 4))
            for k, n in sorted(total.items())
        ]

    repeated = {p.incident for p in matched.pairs}
    done_first = {
        r.incident
        for r in found
        if r.earlier_actions and all(v == "ineffective" for v in r.earlier_actions.verdicts())
    }
    return Rates(
        by_service=rates(matched.incidents_by_service, matched.services),
        by_category=rates(matched.incidents_by_category, matched.categories),
        repeats=len(repeated),
        after_actions_done=len(done_first),
        with_actions_not_done=len(repeated - done_first),
    )


def recurrence_report(runtime: Runtime, *, now: datetime) -> RecurrenceReport:
    found = matched(runtime)  # each repeat once, against the latest earlier one
    with runtime.db.sessions() as session, gc_paused():
        repeats_ = _repeats(session, found.pairs, found.started)
    return RecurrenceReport.model_construct(
        computed_at=now, repeats=repeats_, rates=_rates(found, repeats_)
    )


def _repeat(p: Pair, actions: EarlierActions) -> Repeat:
    return Repeat(p.incident, p.repeat_of, p.score, list(p.reasons), actions)


NONE = EarlierActions.of([])


def _repeats(session: Any, pairs: list[Pair], started: list[datetime]) -> list[Repeat]:
    """`started[n]`: when the repeat `pairs[n]` began."""
    if dialect_of(session) == "postgresql":
        return _repeats_in_sql(session, pairs, started)
    return _repeats_in_python(session, pairs, started)


def _repeats_in_sql(session: Any, pairs: list[Pair], started: list[datetime]) -> list[Repeat]:
    """The repeats in `pairs` order, each earlier action judged by PostgreSQL (streamed)."""
    actions = [NONE] * len(pairs)
    earlier = [(p.repeat_of, at) for p, at in zip(pairs, started, strict=True)]
    for n, count, packed in judged_in_sql(session, earlier):
        # a key holding a separator character cannot be packed: that repeat is read apart
        actions[n] = EarlierActions.packed(count, packed) or EarlierActions.of(
            judged_one(session, *earlier[n])
        )
    return [_repeat(p, a) for p, a in zip(pairs, actions, strict=True)]


def _repeats_in_python(session: Any, pairs: list[Pair], started: list[datetime]) -> list[Repeat]:
    """The repeats in `pairs` order, their earlier actions read and judged chunk by chunk.

    Only one chunk of earlier incidents' actions (with their history) is held at a time:
    the judged verdicts, packed, are all the report keeps.
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
                judged = (judge(a, started[n]) for a in actions.get(key, []))
                out[n] = _repeat(p, EarlierActions.of(_fields(j) for j in judged))
    return [r for r in out if r is not None]


def _fields(judged: Judged) -> tuple[str, str, str]:
    return judged.key, judged.status_at_repeat, judged.verdict


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


def _profiles_and_key(runtime: Runtime, key: str) -> tuple[Corpus, str]:
    """Every incident, compactly, and the incident's stored key (`inc-1` names INC-1)."""
    with runtime.db.sessions() as session:
        # NotFound, also for keys no row can hold (NUL, too long)
        stored = load_incident(session, key).key or key
        return load_corpus(session), stored


def similar(runtime: Runtime, key: str, limit: int = 10) -> SimilarIncidents:
    corpus, key = _profiles_and_key(runtime, key)
    pairs = similar_to(corpus, key, limit)
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
    corpus, key = _profiles_and_key(runtime, key)
    started = dict(zip(corpus.keys, corpus.started, strict=True))
    past: list[Pair] = [
        p
        for p in similar_to(corpus, key, 5)
        if p.score >= MIN_SIMILARITY and started[p.repeat_of] < started[key]
    ]
    back: dict[str, list[datetime]] = {}
    for pair in repeats(corpus):
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
