"""The learned sentence classifier: logistic regression over word and character n-grams.

Trained by ``tools/train_blame.py`` from the labelled corpus (tune rows only) and shipped as
package data (``blame_model.json``: weights, the corpus hash, the seed and the measured figures).
Scoring is plain Python over :mod:`.features`, so the runtime needs neither scikit-learn nor
NumPy; the model file is read once per process (:func:`load`).

Two heads share one tf-idf vector: a binary head says how likely the sentence is blame
(``score``), and a three-way head, trained on blameful rows only, says which kind. When no rule of
the table points at a phrase, :meth:`BlameModel.point` picks the words that pushed the score up
most, so a finding always highlights something.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, cast

from .features import (
    ACTORS,
    NEGATIONS,
    Token,
    char_grams,
    class_grams,
    context_features,
    skip_grams,
    tokens,
    word_class,
    word_grams,
    words,
)
from .prefilter import Clause, name_clause, text_words
from .rule import KINDS, BlameKind

MODEL_FILE = "blame_model.json"
FORMAT = 1
_MAX_SPAN = 6  # words in a pointed phrase
_WORD_CACHE = 50_000  # words whose known character grams are remembered


@dataclass(frozen=True, slots=True)
class Verdict:
    """The model's reading of one sentence."""

    score: float  # probability that the sentence is blame, 0..1
    kind: BlameKind


class BlameModel:
    """A trained model; build one with :func:`load` or :meth:`from_dict`."""

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("format") != FORMAT:
            raise ValueError(f"blame model format {data.get('format')!r}, expected {FORMAT}")
        self.id: str = data["id"]
        self.card: dict[str, Any] = data["card"]
        self.kinds: tuple[BlameKind, ...] = tuple(data["kinds"])
        if set(self.kinds) != KINDS:
            raise ValueError(f"blame model kinds {self.kinds} are not {sorted(KINDS)}")
        self._bias: float = data["intercept"]
        self._kind_bias: tuple[float, ...] = tuple(data["kind_intercepts"])
        # feature -> (idf, blame weight, one weight per kind): one lookup per feature
        self._rows: dict[str, tuple[float, ...]] = {
            f: tuple(row) for f, row in data["features"].items()
        }
        # Derived at load, so any model file of this format works: per feature idf * weight
        # and idf ** 2 (the binary head's numerator and norm terms), per word its entry.
        self._nw: dict[str, float] = {f: r[0] * r[1] for f, r in self._rows.items()}
        self._nq: dict[str, float] = {f: r[0] * r[0] for f, r in self._rows.items()}
        self._entries: dict[str, tuple[tuple[str, ...], float, float, bool]] = {}
        self._names: dict[tuple[str, ...], Clause | None] = {}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BlameModel:
        return cls(data)

    def _vector(self, counts: Counter[str]) -> tuple[dict[str, float], float]:
        """Sublinear tf-idf of the known features, and its L2 norm (scikit-learn's recipe)."""
        rows = self._rows
        vec = {f: (1.0 + math.log(n)) * rows[f][0] for f, n in counts.items() if f in rows}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        return vec, norm

    def _features(self, words: list[str], as_cause: bool) -> Counter[str]:
        counts: Counter[str] = Counter(g for g, _, _ in word_grams(words))
        counts.update(g for g, _, _ in class_grams(words))
        counts.update(g for g, _, _ in skip_grams(words))
        for w in words:
            counts.update(char_grams(w))
        counts.update(context_features(words, as_cause))
        return counts

    def decision(self, sentence: str, names: tuple[str, ...] = (), as_cause: bool = False) -> float:
        """The binary head's raw margin (log-odds) for one sentence.

        The fast path every sentence takes (the same number as the full tf-idf vector,
        :meth:`margin`, gives): per word, its unigram and known character grams and their sums
        are remembered; word 2- and 3-grams are looked up in a table of ``idf * weight`` and
        ``idf ** 2`` built at load; class and skip grams are only built when a role, pronoun,
        participant or negation occurs; and only features that occur more than once are
        corrected for the sublinear tf."""
        need = self._name_words(names)
        if need is False or (need is not None and not text_words(sentence).has(need)):
            names = ()  # no participant can match in the sentence: masking would change nothing
        seq = words(sentence, names)
        known: list[str] = []
        num = sq = 0.0
        special = False
        entries = self._entries
        for w in seq:
            hit = entries.get(w) or self._entry(w)
            known += hit[0]
            num, sq = num + hit[1], sq + hit[2]
            special = special or hit[3]
        nw, nq = self._nw, self._nq
        seq0 = ["<s>", *seq]
        grams = [f"w:{a} {b}" for a, b in zip(seq0, seq, strict=False)]
        grams += [f"w:{a} {b} {c}" for a, b, c in zip(seq0, seq, seq[1:], strict=False)]
        if special:  # a role, pronoun, participant or negation: class and skip grams
            grams += [g for g, _, _ in class_grams(seq)]
            grams += [g for g, _, _ in skip_grams(seq)]
        grams += context_features(seq, as_cause)
        found = [g for g in grams if g in nw]
        num += sum(map(nw.__getitem__, found))
        sq += sum(map(nq.__getitem__, found))
        known += found
        if len(set(known)) != len(known):
            for g, c in Counter(known).items():
                if c > 1:
                    k = 1.0 + math.log(c)
                    num += (k - c) * nw[g]
                    sq += (k * k - c) * nq[g]
        return self._bias + num / math.sqrt(sq) if sq > 0 else self._bias

    def _entry(self, word: str) -> tuple[tuple[str, ...], float, float, bool]:
        """A word's known unigram and character grams, their ``idf * weight`` and ``idf ** 2``
        sums, and whether it makes class or skip grams (an actor or a negation)."""
        nw, nq = self._nw, self._nq
        grams = tuple(g for g in (f"w:{word}", *char_grams(word)) if g in nw)
        special = word_class(word) in ACTORS or word in NEGATIONS
        hit = (grams, sum(nw[g] for g in grams), sum(nq[g] for g in grams), special)
        if len(self._entries) < _WORD_CACHE:
            self._entries[word] = hit
        return hit

    def _name_words(self, names: tuple[str, ...]) -> Clause | None | Literal[False]:
        """The words a participant-name match needs (``prefilter.name_clause``), per name set:
        a sentence without them needs no masking. False: no names; None: no such words."""
        if not names:
            return False
        if names in self._names:
            return self._names[names]
        hit = name_clause(names)
        if len(self._names) < 64:
            self._names[names] = hit
        return hit

    def score(self, sentence: str, names: tuple[str, ...] = (), as_cause: bool = False) -> float:
        """Probability (0..1) that the sentence is blame."""
        return _sigmoid(self.decision(sentence, names, as_cause))

    def margin(self, sentence: str, names: tuple[str, ...] = (), as_cause: bool = False) -> float:
        """:meth:`decision` the slow way, over the whole tf-idf vector (tests compare the two)."""
        seq = [t.word for t in tokens(sentence, names)]
        vec, norm = self._vector(self._features(seq, as_cause))
        rows = self._rows
        return self._bias + (sum(v * rows[f][1] for f, v in vec.items()) / norm if norm else 0.0)

    def verdict(
        self, sentence: str, names: tuple[str, ...] = (), as_cause: bool = False
    ) -> Verdict:
        """Probability of blame and the likeliest kind for one sentence."""
        words = [t.word for t in tokens(sentence, names)]
        vec, norm = self._vector(self._features(words, as_cause))
        rows = self._rows
        scale = 1.0 / norm if norm else 0.0
        margin = self._bias + scale * sum(v * rows[f][1] for f, v in vec.items())
        logits = [
            b + scale * sum(v * rows[f][2 + k] for f, v in vec.items())
            for k, b in enumerate(self._kind_bias)
        ]
        kind = self.kinds[max(range(len(logits)), key=logits.__getitem__)]
        return Verdict(_sigmoid(margin), kind)

    def point(
        self, sentence: str, names: tuple[str, ...] = (), as_cause: bool = False
    ) -> tuple[int, int]:
        """Offsets (into ``sentence``) of the few words that raise the blame score most."""
        toks = tokens(sentence, names)
        if not toks:
            return 0, len(sentence)
        words = [t.word for t in toks]
        counts = self._features(words, as_cause)
        vec, norm = self._vector(counts)
        if not norm:
            return toks[0].start, toks[-1].end
        share = [0.0] * len(toks)
        rows = self._rows
        for gram, lo, hi in (*word_grams(words), *class_grams(words), *skip_grams(words)):
            if gram in vec:
                covered = range(max(lo, 0), hi)
                part = vec[gram] * rows[gram][1] / norm / counts[gram] / len(covered)
                for i in covered:
                    share[i] += part
        for i, w in enumerate(words):
            for gram in char_grams(w):
                if gram in vec:
                    share[i] += vec[gram] * rows[gram][1] / norm / counts[gram]
        lo, hi = _best_window(share)
        return _span(toks, lo, hi)


def _best_window(share: list[float]) -> tuple[int, int]:
    """The contiguous run of at most ``_MAX_SPAN`` words with the largest total contribution."""
    best, where = -math.inf, (0, 1)
    for i in range(len(share)):
        total = 0.0
        for j in range(i, min(i + _MAX_SPAN, len(share))):
            total += share[j]
            if total > best:
                best, where = total, (i, j + 1)
    return where


def _span(toks: list[Token], lo: int, hi: int) -> tuple[int, int]:
    return toks[lo].start, toks[hi - 1].end


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@cache
def load() -> BlameModel:
    """The packaged model, read once per process."""
    raw = resources.files(__package__).joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return BlameModel(cast(dict[str, Any], json.loads(raw)))
