"""Incidents as the repeat matcher needs them, compactly: keys, times, sets and TF-IDF rows.

A `Profile` holds an incident's whole text; at 100,000 incidents all the texts at once
are hundreds of megabytes. A `Corpus` keeps only what matching needs afterwards: each
incident's key, start time, services and categories (equal sets shared, not repeated),
and its TF-IDF row. `load_corpus` streams the incidents and their causes from the
database in chunks and turns each text into term counts as it arrives, so no more
than one chunk of text is ever held.

The TF-IDF is scikit-learn's `TfidfVectorizer(stop_words="english", sublinear_tf=True)`
computed in two steps: its own analyzer counts the terms text by text (the vocabulary
grows as texts come), then its `TfidfTransformer` weighs the counts. The columns are
put in the vectorizer's (sorted) order, so the rows are the vectorizer's, number for
number (a test holds this), and the shipped threshold keeps its meaning.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Cause, Incident

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STREAM = 2000  # incident rows fetched at a time while loading


@dataclass(frozen=True)
class Profile:
    key: str
    started: datetime
    services: frozenset[str]
    categories: frozenset[str]
    text: str


@dataclass(frozen=True)
class Corpus:
    """Incident i is keys[i], started[i], services[i], categories[i] and matrix row i."""

    keys: list[str]
    started: list[datetime]
    services: list[frozenset[str]]
    categories: list[frozenset[str]]
    matrix: Any  # scipy CSR, one L2-normalised TF-IDF row per incident

    def __len__(self) -> int:
        return len(self.keys)

    def micros(self) -> Any:
        """Start times as int64 microseconds since the epoch (naive times taken as UTC)."""
        return np.array([_micros(at) for at in self.started], np.int64)


def _micros(at: datetime) -> int:
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return (at - EPOCH) // timedelta(microseconds=1)


class Terms:
    """Term counts of texts added one by one, then their TF-IDF matrix (see the module doc)."""

    def __init__(self) -> None:
        self.analyze = TfidfVectorizer(stop_words="english", sublinear_tf=True).build_analyzer()
        # a new term gets the next number, as in CountVectorizer (numbered as first seen)
        self.vocabulary: defaultdict[str, int] = defaultdict()
        self.vocabulary.default_factory = self.vocabulary.__len__
        self.indices, self.counts, self.indptr = array("i"), array("i"), array("q", [0])

    def add(self, text: str) -> None:
        counts = Counter(self.analyze(text))  # in first-seen order, as the vectorizer counts
        self.indices.extend(map(self.vocabulary.__getitem__, counts))
        self.counts.extend(counts.values())
        self.indptr.append(len(self.indices))

    def matrix(self) -> Any:
        rows = len(self.indptr) - 1
        if not self.vocabulary:  # no word at all: as the vectorizer's empty vocabulary
            return csr_matrix((rows, 1))
        counts = csr_matrix(
            (
                np.frombuffer(self.counts, np.intc).astype(np.float64),
                np.frombuffer(self.indices, np.intc),
                np.frombuffer(self.indptr, np.int64),
            ),
            shape=(rows, len(self.vocabulary)),
        )
        # as CountVectorizer: sorted by first-seen term number, then renumbered in term order
        # (the sums of each row then run in the vectorizer's order, to the last bit)
        counts.sort_indices()
        terms = sorted(self.vocabulary)
        column = np.empty(len(terms), np.int64)
        column[[self.vocabulary[t] for t in terms]] = np.arange(len(terms))
        counts.indices = column.take(counts.indices).astype(counts.indices.dtype)
        counts.has_sorted_indices = False
        self.indices, self.counts = array("i"), array("i")  # the counts live on in the matrix
        return TfidfTransformer(sublinear_tf=True).fit_transform(counts)


class _Builder:
    """A corpus grown incident by incident; equal service and category sets are shared."""

    def __init__(self) -> None:
        self.terms = Terms()
        self.sets: dict[frozenset[str], frozenset[str]] = {}
        self.keys: list[str] = []
        self.started: list[datetime] = []
        self.services: list[frozenset[str]] = []
        self.categories: list[frozenset[str]] = []

    def add(
        self,
        key: str,
        started: datetime,
        services: Iterable[str],
        categories: Iterable[str],
        text: str,
    ) -> None:
        self.keys.append(key)
        self.started.append(started)
        self.services.append(self._shared(frozenset(services)))
        self.categories.append(self._shared(frozenset(categories)))
        self.terms.add(text)

    def _shared(self, values: frozenset[str]) -> frozenset[str]:
        return self.sets.setdefault(values, values)

    def corpus(self) -> Corpus:
        matrix = self.terms.matrix()
        return Corpus(self.keys, self.started, self.services, self.categories, matrix)


def from_profiles(profiles: Sequence[Profile] | Corpus) -> Corpus:
    if isinstance(profiles, Corpus):
        return profiles
    build = _Builder()
    for p in profiles:
        build.add(p.key, p.started, p.services, p.categories, p.text)
    return build.corpus()


def load_corpus(session: Session) -> Corpus:
    """Every incident with its causes' categories and text, streamed (one query, in chunks).

    Incidents and their causes come joined, in incident order, a chunk of rows at a time;
    each incident's text is counted and dropped before the next one is read.
    """
    rows = session.execute(
        select(Incident.id, Incident.key, Incident.title, Incident.summary, Incident.services)
        .add_columns(func.coalesce(Incident.started_at, Incident.created_at).label("started"))
        .add_columns(Cause.category, Cause.statement)
        .outerjoin(Cause, Cause.incident_id == Incident.id)
        .order_by(Incident.id, Cause.id)
        .execution_options(yield_per=STREAM)
    )
    build = _Builder()
    for _, group in groupby(rows, key=lambda r: r.id):
        causes = list(group)
        r = causes[0]
        build.add(
            r.key or f"#{r.id}",
            r.started,
            r.services or [],
            (c.category for c in causes if c.category is not None),
            " ".join(
                [
                    r.title,
                    r.summary or "",
                    *(c.statement for c in causes if c.statement is not None),
                ]
            ),
        )
    return build.corpus()
