"""Repeats and similar incidents: same service, same failure mechanism, later in time.

Pure of Flask and of the services. An incident is a `Profile` (its services, its
cause categories, its cause and summary text, when it started), or a row of a compact
`Corpus` (app/search/corpus.py: what the database streams); `repeats` pairs
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
from typing import Any

import numpy as np

from .corpus import Corpus, Profile, from_profiles

TEXT_WEIGHT = 0.7
THRESHOLD = 0.43  # chosen by `python -m app.search.labelled` on the training half
SLACK = 1e-3  # the array pre-filter keeps a margin; the exact test is on the rounded score
Incidents = Sequence[Profile] | Corpus  # profiles are turned into a corpus first

__all__ = ["Corpus", "Pair", "Profile", "latest_repeats", "repeats", "similar_to"]


@dataclass(frozen=True, slots=True)
class Pair:
    incident: str
    repeat_of: str
    score: float
    reasons: tuple[str, ...]


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _blocks(corpus: Corpus) -> dict[tuple[str, str], list[int]]:
    """Candidates share a service and a cause category: one block per (service, category).

    Blocking is exact, not a heuristic: a pair outside every block can never be a
    repeat, so only the blocks' own squares are ever compared (near-linear in the
    incidents when services and categories are many, instead of the square of a
    whole service).
    """
    out: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, (services, categories) in enumerate(
        zip(corpus.services, corpus.categories, strict=True)
    ):
        for service in services:
            for category in categories:
                out[(service, category)].append(i)
    return out


def _masks(corpus: Corpus) -> tuple[Any, Any]:
    """Each incident's categories as a bit set and their count, for a vectorised Jaccard."""
    bits = {c: n for n, c in enumerate(sorted({c for cs in corpus.categories for c in cs}))}
    if len(bits) > 63:  # more categories than a word holds: no vectorised Jaccard
        return None, None
    masks = np.array([sum(1 << bits[c] for c in cs) for cs in corpus.categories], np.uint64)
    return masks, np.array([len(cs) for cs in corpus.categories], np.int64)


def _block_scores(
    corpus: Corpus, min_score: float | None
) -> Iterator[tuple[list[int], Any, Any, Any]]:
    """Per block: its members, its cosines, and the (later, earlier) positions worth a look.

    With `min_score` only the positions whose score can reach it (a margin of SLACK: the
    exact test is on the rounded score). Each block's matrices are dropped before the next.
    """
    matrix, started = corpus.matrix, corpus.micros()
    masks, sizes = _masks(corpus)
    for members in _blocks(corpus).values():
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


def scored_pairs(incidents: Incidents, min_score: float | None = None) -> list[Pair]:
    """Every (later, earlier) candidate sharing a service and a category, with its score.

    With `min_score`, only the pairs whose (rounded) score reaches it: the scores of
    each block are computed as arrays and only the pairs that can reach the bound
    become `Pair` objects (a report at scale holds its repeats, not every candidate).
    """
    corpus = from_profiles(incidents)
    if not len(corpus):
        return []
    seen: set[tuple[int, int]] = set()
    out: list[Pair] = []
    for members, cosines, later, earlier in _block_scores(corpus, min_score):
        for a, b in zip(later.tolist(), earlier.tolist(), strict=True):
            i, j = members[a], members[b]
            if (i, j) in seen:
                continue
            seen.add((i, j))
            pair = _pair(corpus, i, j, float(cosines[a, b]))
            if min_score is None or pair.score >= min_score:
                out.append(pair)
    return out


ROWS = 256  # later incidents scored at a time against their block: bounds the arrays held


def latest_repeats(incidents: Incidents, threshold: float = THRESHOLD) -> list[Pair]:
    """Each repeating incident once, with the most recent earlier incident it repeats.

    The recurrence report's rule: in a chain A, B, C of one mechanism in one service,
    C repeats B and B repeats A (C is not also listed against A). Of the earlier
    incidents whose score with it reaches the threshold (as in `repeats`), the one that
    started last; equal start times go to the one loaded last (the higher id). Best first.
    Each block is scored ROWS later incidents at a time, so no square of a block is held.
    """
    corpus = from_profiles(incidents)
    if not len(corpus):
        return []
    matrix, started = corpus.matrix, corpus.micros()
    order = np.empty(len(corpus), np.int64)
    order[np.lexsort((np.arange(len(corpus)), started))] = np.arange(len(corpus))
    masks, sizes = _masks(corpus)
    best: dict[int, tuple[int, float]] = {}  # later -> (earlier, cosine)
    for members in _blocks(corpus).values():
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
                sure = score >= threshold + SLACK  # far enough above that rounding cannot matter
            else:
                valid = np.ones(cosines.shape, bool)  # every earlier one is checked exactly
                sure = np.zeros(cosines.shape, bool)
            valid &= started[rows][:, None] > started[idx][None, :]
            recency = np.where(valid, order[idx][None, :], -1)
            for r in np.flatnonzero(valid.any(axis=1)).tolist():
                i = int(rows[r])
                row = (idx, cosines[r], recency[r], sure[r])
                _take_latest(corpus, i, row, order, best, threshold)
    found = [_pair(corpus, i, j, c) for i, (j, c) in best.items()]
    return sorted(found, key=lambda p: (-p.score, p.incident, p.repeat_of))


def _take_latest(
    corpus: Corpus,
    i: int,
    row: tuple[Any, Any, Any, Any],
    order: Any,
    best: dict[int, tuple[int, float]],
    threshold: float,
) -> None:
    """Incident i's most recent earlier candidate in this block that truly matches, if more
    recent than the one held from another block (candidates are tried latest first).

    `row` is the block's members, i's cosines with them, their recency (-1: no candidate)
    and whether the array score is surely above the threshold; only the others get the
    exact (rounded) test in Python."""
    idx, cosines, recency, sure = row
    held = best.get(i)
    floor = -1 if held is None else int(order[held[0]])
    while True:
        b = int(recency.argmax())
        if recency[b] <= floor:
            return
        j, cosine = int(idx[b]), float(cosines[b])
        if sure[b] or _score(corpus, i, j, cosine) >= threshold:
            best[i] = (j, cosine)
            return
        recency[b] = -1


def _score(corpus: Corpus, i: int, j: int, cosine: float) -> float:
    jaccard = _jaccard(corpus.categories[i], corpus.categories[j])
    return round(TEXT_WEIGHT * cosine + (1 - TEXT_WEIGHT) * jaccard, 4)


def _pair(corpus: Corpus, i: int, j: int, cosine: float) -> Pair:
    """(incident i, earlier j) with its score and reasons (each reason string shared)."""
    shared = (corpus.services[i] & corpus.services[j], corpus.categories[i] & corpus.categories[j])
    reasons = _REASONS.get(shared)
    if reasons is None:
        services, categories = shared
        reasons = (
            f"same service: {', '.join(sorted(services))}",
            f"same cause category: {', '.join(sorted(categories))}",
        )
        if len(_REASONS) < 10_000:  # a report names few services and categories
            _REASONS[shared] = reasons
    text = f"text similarity {cosine:.2f}"
    return Pair(
        corpus.keys[i],
        corpus.keys[j],
        _score(corpus, i, j, cosine),
        (*reasons, _TEXTS.get(text, text)),
    )


_REASONS: dict[tuple[frozenset[str], frozenset[str]], tuple[str, str]] = {}
_TEXTS = {f"text similarity {c / 100:.2f}": f"text similarity {c / 100:.2f}" for c in range(101)}


def repeats(incidents: Incidents, threshold: float = THRESHOLD) -> list[Pair]:
    """The pairs whose score reaches the threshold, best first."""
    found = scored_pairs(incidents, min_score=threshold)
    return sorted(found, key=lambda p: (-p.score, p.incident, p.repeat_of))


def similar_to(incidents: Incidents, key: str, limit: int = 10) -> list[Pair]:
    """Incidents (earlier or later, any service) most alike to one: text and categories."""
    corpus = from_profiles(incidents)
    index = {k: i for i, k in enumerate(corpus.keys)}
    if key not in index or len(corpus) < 2:
        return []
    me = index[key]
    cosines = (corpus.matrix[me] @ corpus.matrix.T).toarray()[0]
    out = []
    for i, other in enumerate(corpus.keys):
        if other == key or cosines[i] <= 0:
            continue
        pair = _pair(corpus, me, i, float(cosines[i]))
        reasons = tuple(r for r in pair.reasons if not r.endswith(": "))
        out.append(Pair(key, other, pair.score, reasons))
    return sorted(out, key=lambda p: (-p.score, p.repeat_of))[:limit]
