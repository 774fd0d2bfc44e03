"""The repeat matcher's answer over every incident, computed once for the reports that need it.

The recurrence report lists the repeats; the learning report needs only which
incidents repeat (its repeat rate). Matching 100,000 incidents takes seconds, so both
call `matched`, which keeps the last answer per runtime with a fingerprint of what
it read: the audit chain's last seq (every write through a unit of work moves it), the
count and highest id of incidents and causes, the incidents' latest change, and the
total length of the texts matched. The answer is reused while the fingerprint is the
same, and recomputed when anything moved (one cheap query per call checks it). What it
cannot see is an edit made outside a unit of work that keeps every count, id, incident
time and text length, as the report cache (which trusts the audit seq alone) cannot.

What is kept is small: the pairs, and each repeating incident's start time and sets
(services, categories) in lists beside them, plus the per-service and per-category
incident counts. The
texts and TF-IDF rows are freed once matched.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import func, select

from app.models import AuditHead, Cause, Incident
from app.runtime import Runtime
from app.search.corpus import Corpus, load_corpus
from app.search.similarity import Pair, latest_repeats


@dataclass(frozen=True)
class Matched:
    """Each repeat once, against its latest earlier match, best first; and of each pair's
    later incident (same position) its start, services and categories. Lists, not an
    object per repeat: a large report has 100,000."""

    pairs: list[Pair]
    started: list[datetime]
    services: list[frozenset[str]]
    categories: list[frozenset[str]]
    incidents_by_service: Counter[str]
    incidents_by_category: Counter[str]


_LAST: WeakKeyDictionary[Runtime, tuple[tuple[Any, ...], Matched]] = WeakKeyDictionary()
_LOCK = Lock()


def _length(*columns: Any) -> Any:
    return func.coalesce(func.sum(sum(func.coalesce(func.length(c), 0) for c in columns)), 0)


def _fingerprint(session: Any) -> tuple[Any, ...]:
    incidents = session.execute(
        select(func.count(), func.max(Incident.id), func.max(Incident.updated_at)).add_columns(
            _length(Incident.title, Incident.summary)
        )
    ).one()
    causes = session.execute(
        select(func.count(), func.max(Cause.id), _length(Cause.category, Cause.statement))
    ).one()
    head = session.get(AuditHead, 1)
    return (head.last_seq if head else 0, *incidents, *causes)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hundreds of thousands of small, acyclic objects are built here: the cyclic collector
    would walk them again and again while they are built, so it is paused for the build."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def matched(runtime: Runtime) -> Matched:
    """The repeats of every incident (the last answer while nothing has changed)."""
    with runtime.db.sessions() as session:
        seen = _fingerprint(session)
        with _LOCK:
            held = _LAST.get(runtime)
        if held is not None and held[0] == seen:
            return held[1]
        with gc_paused():
            corpus = load_corpus(session)
    with gc_paused():
        result = _matched(corpus)
    with _LOCK:
        _LAST[runtime] = (seen, result)
    return result


def _matched(corpus: Corpus) -> Matched:
    pairs = latest_repeats(corpus)
    index = {k: i for i, k in enumerate(corpus.keys)}
    later = [index[p.incident] for p in pairs]
    return Matched(
        pairs,
        [corpus.started[i] for i in later],
        [corpus.services[i] for i in later],
        [corpus.categories[i] for i in later],
        Counter(s for services in corpus.services for s in services),
        Counter(c for categories in corpus.categories for c in categories),
    )
