"""Repeats and similar incidents: same service, same failure mechanism, later in time.

Pure of Flask and of the services. An incident is a `Profile` (its services, its
cause categories, its cause and summary text, when it started); `repeats` pairs
every later incident with the earlier ones it repeats:

- the two share a service (another service is never a repeat) and a cause
  category (a different mechanism has, at least, different causes);
- their text is alike by TF-IDF cosine (scikit-learn; words, English stop words
  out, sublinear term frequency), which tells two mechanisms of the
  same category apart, and finds a repeat told in new words by the words of the
  mechanism that stay (the disk, the certificate, the pool);
- score = TEXT_WEIGHT * cosine + (1 - TEXT_WEIGHT) * Jaccard(categories); a pair is a
  repeat when the score reaches the threshold, chosen on one half of the labelled
  set in app/search/labelled.py and measured on the other;
- the earlier incident started strictly before the later one: an earlier incident
  is never a repeat of a later one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Cause, Incident

TEXT_WEIGHT = 0.7
THRESHOLD = 0.43  # chosen by `python -m app.search.labelled` on the training half
SLACK = 1e-3  # the array pre-filter keeps a margin; the exact test is on the rounded score
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Profile:
    key: str
    started: datetime
    services: frozenset[str]
    categories: frozenset[str]
    text: str


@dataclass(frozen=True)
class Pair:
    incident: str
    repeat_of: str
    score: float
    reasons: tuple[str, ...]


def _vectors(profiles: Sequence[Profile]) -> Any:
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        return vectorizer.fit_transform([p.text for p in profiles])
    except ValueError:  # no word at all (only stop words, numbers, or empty texts)
        return csr_matrix((len(profiles), 1))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _blocks(profiles: Sequence[Profile]) -> dict[tuple[str, str], list[int]]:
    """Candidates share a service and a cause category: one block per (service, category).

    Blocking is exact, not a heuristic: a pair outside every block can never be a
    repeat, so only the blocks' own squares are ever compared (near-linear in the
    incidents when services and categories are many, instead of the square of a
    whole service).
    """
    out: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, p in enumerate(profiles):
        for service in p.services:
            for category in p.categories:
                out[(service, category)].append(i)
    return out


def _masks(profiles: Sequence[Profile]) -> tuple[Any, Any]:
    """Each profile's categories as a bit set and their count, for a vectorised Jaccard."""
    bits = {c: n for n, c in enumerate(sorted({c for p in profiles for c in p.categories}))}
    if len(bits) > 63:  # more categories than a word holds: no vectorised Jaccard
        return None, None
    masks = np.array([sum(1 << bits[c] for c in p.categories) for p in profiles], np.uint64)
    return masks, np.array([len(p.categories) for p in profiles], np.int64)


def _micros(at: datetime) -> int:
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return (at - EPOCH) // timedelta(microseconds=1)


def _block_scores(
    profiles: Sequence[Profile], min_score: float | None
) -> Iterator[tuple[list[int], Any, Any, Any]]:
    """Per block: its members, its cosines, and the (later, earlier) positions worth a look.

    With `min_score` only the positions whose score can reach it (a margin of SLACK: the
    exact test is on the rounded score). Each block's matrices are dropped before the next.
    """
    matrix = _vectors(profiles)
    started = np.array([_micros(p.started) for p in profiles], np.int64)
    masks, sizes = _masks(profiles)
    for members in _blocks(profiles).values():
        idx = np.array(members, np.int64)
        rows = matrix[idx]
        cosines = (rows @ rows.T).toarray().astype(np.float64, copy=False)
        later, earlier = np.nonzero(started[idx][:, None] > started[idx][None, :])
        if min_score is not None and masks is not None:
            both = np.bitwise_count(masks[idx][later] & masks[idx][earlier]).astype(np.int64)
            union = sizes[idx][later] + sizes[idx][earlier] - both
            score = TEXT_WEIGHT * cosines[later, earlier] + (1 - TEXT_WEIGHT) * both / union
            keep = score >= min_score - SLACK
            later, earlier = later[keep], earlier[keep]
        yield members, cosines, later, earlier


def scored_pairs(profiles: Sequence[Profile], min_score: float | None = None) -> list[Pair]:
    """Every (later, earlier) candidate sharing a service and a category, with its score.

    With `min_score`, only the pairs whose (rounded) score reaches it: the scores of
    each block are computed as arrays and only the pairs that can reach the bound
    become `Pair` objects (a report at scale holds its repeats, not every candidate).
    """
    if not profiles:
        return []
    seen: set[tuple[int, int]] = set()
    out: list[Pair] = []
    for members, cosines, later, earlier in _block_scores(profiles, min_score):
        for a, b in zip(later.tolist(), earlier.tolist(), strict=True):
            i, j = members[a], members[b]
            if (i, j) in seen:
                continue
            seen.add((i, j))
            pair = _pair(profiles[i], profiles[j], float(cosines[a, b]))
            if min_score is None or pair.score >= min_score:
                out.append(pair)
    return out


ROWS = 256  # later incidents scored at a time against their block: bounds the arrays held


def latest_repeats(profiles: Sequence[Profile], threshold: float = THRESHOLD) -> list[Pair]:
    """Each repeating incident once, with the most recent earlier incident it repeats.

    The recurrence report's rule: in a chain A, B, C of one mechanism in one service,
    C repeats B and B repeats A (C is not also listed against A). Of the earlier
    incidents whose score with it reaches the threshold (as in `repeats`), the one that
    started last; equal start times go to the one loaded last (the higher id). Best first.
    Each block is scored ROWS later incidents at a time, so no square of a block is held.
    """
    if not profiles:
        return []
    matrix = _vectors(profiles)
    started = np.array([_micros(p.started) for p in profiles], np.int64)
    order = np.empty(len(profiles), np.int64)
    order[np.lexsort((np.arange(len(profiles)), started))] = np.arange(len(profiles))
    masks, sizes = _masks(profiles)
    best: dict[int, tuple[int, float]] = {}  # later -> (earlier, cosine)
    for members in _blocks(profiles).values():
        idx = np.array(members, np.int64)
        block_t = matrix[idx].T.tocsr()
        for lo in range(0, len(idx), ROWS):
            rows = idx[lo : lo + ROWS]
            cosines = (matrix[rows] @ block_t).toarray()
            if masks is not None:
                both = np.bitwise_count(masks[rows][:, None] & masks[idx][None, :])
                union = sizes[rows][:, None] + sizes[idx][None, :] - both
                score = TEXT_WEIGHT * cosines + (1 - TEXT_WEIGHT) * both / union
                valid = score >= threshold - SLACK
            else:
                valid = np.ones(cosines.shape, bool)  # every earlier one is checked exactly
            valid &= started[rows][:, None] > started[idx][None, :]
            recency = np.where(valid, order[idx][None, :], -1)
            for r in np.flatnonzero(valid.any(axis=1)).tolist():
                i = int(rows[r])
                _take_latest(profiles, i, idx, cosines[r], recency[r], order, best, threshold)
    found = [_pair(profiles[i], profiles[j], c) for i, (j, c) in best.items()]
    return sorted(found, key=lambda p: (-p.score, p.incident, p.repeat_of))


def _take_latest(
    profiles: Sequence[Profile],
    i: int,
    idx: Any,
    cosines: Any,
    recency: Any,
    order: Any,
    best: dict[int, tuple[int, float]],
    threshold: float,
) -> None:
    """Incident i's most recent earlier candidate in this block that truly matches, if more
    recent than the one held from another block (candidates are tried latest first)."""
    held = best.get(i)
    floor = -1 if held is None else int(order[held[0]])
    while True:
        b = int(recency.argmax())
        if recency[b] <= floor:
            return
        j, cosine = int(idx[b]), float(cosines[b])
        if _pair(profiles[i], profiles[j], cosine).score >= threshold:
            best[i] = (j, cosine)
            return
        recency[b] = -1


def _pair(
    later: Profile, earlier: Profile, cosine: float, shared: frozenset[str] | None = None
) -> Pair:
    shared = later.categories & earlier.categories if shared is None else shared
    jaccard = _jaccard(later.categories, earlier.categories)
    score = TEXT_WEIGHT * cosine + (1 - TEXT_WEIGHT) * jaccard
    reasons = (
        f"same service: {', '.join(sorted(later.services & earlier.services))}",
        f"same cause category: {', '.join(sorted(shared))}",
        f"text similarity {cosine:.2f}",
    )
    return Pair(later.key, earlier.key, round(score, 4), reasons)


def repeats(profiles: Sequence[Profile], threshold: float = THRESHOLD) -> list[Pair]:
    """The pairs whose score reaches the threshold, best first."""
    found = scored_pairs(profiles, min_score=threshold)
    return sorted(found, key=lambda p: (-p.score, p.incident, p.repeat_of))


def similar_to(profiles: Sequence[Profile], key: str, limit: int = 10) -> list[Pair]:
    """Incidents (earlier or later, any service) most alike to one: text and categories."""
    index = {p.key: i for i, p in enumerate(profiles)}
    if key not in index or len(profiles) < 2:
        return []
    matrix = _vectors(profiles)
    me = profiles[index[key]]
    cosines = (matrix[index[key]] @ matrix.T).toarray()[0]
    out = []
    for i, other in enumerate(profiles):
        if other.key == key or cosines[i] <= 0:
            continue
        pair = _pair(me, other, float(cosines[i]), me.categories & other.categories)
        reasons = tuple(r for r in pair.reasons if not r.endswith(": "))
        out.append(Pair(key, other.key, pair.score, reasons))
    return sorted(out, key=lambda p: (-p.score, p.repeat_of))[:limit]


def load_profiles(session: Session) -> list[Profile]:
    """Every incident with a start time, with its causes' categories and text (two queries)."""
    causes: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in session.execute(select(Cause.incident_id, Cause.category, Cause.statement)):
        causes[row.incident_id].append((row.category, row.statement))
    rows = session.execute(
        select(Incident.id, Incident.key, Incident.title, Incident.summary)
        .add_columns(Incident.services, Incident.started_at, Incident.created_at)
        .order_by(Incident.id)
    )
    return [
        Profile(
            key=r.key or f"#{r.id}",
            started=r.started_at or r.created_at,
            services=frozenset(r.services or []),
            categories=frozenset(c for c, _ in causes[r.id]),
            text=" ".join([r.title, r.summary or "", *(s for _, s in causes[r.id])]),
        )
        for r in rows
    ]
