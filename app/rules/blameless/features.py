"""Sentence features for the learned blame classifier, in plain Python.

The same function turns a sentence into features when the model is trained (``tools/
train_blame.py`` hands these lists to scikit-learn) and when it is used (``model``), so the two
cannot drift apart and the runtime needs no scikit-learn. Features of one sentence:

* ``w:`` word 1-, 2- and 3-grams over lower-cased words, with ``<s>`` marking the start, so
  "<s> xperson failed" differs from "the job failed";
* ``k:`` word 2- and 3-grams in which role nouns and pronouns are replaced by their class;
* ``c:`` character 5-grams inside each word, padded with a space at each end (scikit-learn's
  ``char_wb``), which carry misspellings and inflections ("forgot", "forget", "forgets"); 3- and
  4-grams were dropped when grouped cross-validation preferred 5-grams alone (log-loss 0.276 with
  3-5, 0.266 with 4-5, 0.262 with none, 0.252 with 5 alone): the short ones mostly fitted noise
  ("pit" in "hospitals");
* ``s:`` skip-grams from a participant, role or pronoun to each of the next five words
  ("s:xrole>forgot" in "the DBA, tired after a long shift, forgot"), and ``n:`` each of the four
  words after a negation ("n:fault" in "not anyone's fault"): who did what, and what is denied,
  across the words in between that no fixed n-gram spans (chosen by grouped cross-validation);
  words of omission, slip and neglect also count as the class ``xfault`` in ``k:`` grams and
  in skip-grams from an actor ("s:xrole>xfault"), grouped-CV log-loss 0.2363 -> 0.2312;
* ``ctx:`` the statement kind: a cause statement, and a cause statement that names a participant
  (the guideline makes any participant in a cause blame); ``ctx:noactor`` when no participant,
  role or pronoun occurs, ``ctx:long`` over 20 words (grouped-CV log-loss 0.283 -> 0.276).

Participant names are replaced by the word ``xperson`` before anything else, so the model learns
"a participant did X" instead of memorising names from many cultures it will never see again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from .feature_words import FAULTS as _FAULTS
from .feature_words import NEGATIONS as _NEGATIONS
from .feature_words import PRONOUNS as _PRONOUNS
from .feature_words import ROLES as _ROLES
from .vocabulary import FLAGS

PERSON = "xperson"
WORD_NGRAMS = (1, 2, 3)
CHAR_NGRAMS = (5,)

_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
# Words that name a person by role, and personal pronouns: besides the word itself, each also
# counts as its class (``xrole``, ``xpron``) in ``k:`` n-grams, so "the DBA forgot" teaches the
# model about "the contractor forgot" too.
ROLE = "xrole"
PRONOUN = "xpron"
# Words of omission, slip and neglect also count as one class (``xfault``) in ``k:`` grams and in
# skip-grams from an actor, so "the supervisor failed to notice" teaches the model about "the
# clerk neglected", "the nurse overlooked" too: v5's misses were mostly such pairs that no
# training row had spelled with those exact words.
FAULT = "xfault"
_SKIP_SUBJECT, _SKIP_NEGATION = 5, 4  # how many following words a skip-gram reaches
_ACTORS = frozenset((PERSON, ROLE, PRONOUN))
ACTORS, NEGATIONS = _ACTORS, _NEGATIONS  # what makes a word yield class or skip grams
_LONG = 20  # words in a sentence that counts as long
# Curly quotes and backticks read as apostrophes; "İ" as "i", because it is the one character
# whose lower case is two characters ("i" + a combining dot): lowering it would shift every
# offset after it, and :func:`tokens` indexes the original sentence with the lowered one's spans.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u0130": "i"})


def person_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """A regex for any participant name (longest first, whole words, optionally @-mentioned)."""
    if not names:
        return None
    return _person_pattern(names)


@lru_cache(maxsize=64)
def _person_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    parts = sorted(set(names), key=len, reverse=True)
    alt = "|".join(r"\s+".join(map(re.escape, p.split())) for p in parts)
    return re.compile(rf"(?<![\w@])@?(?:{alt})(?![\w@])", FLAGS)


@dataclass(frozen=True, slots=True)
class Token:
    """A word of the masked sentence and the span of the original sentence it came from."""

    word: str
    start: int
    end: int


def tokens(sentence: str, names: tuple[str, ...] = ()) -> list[Token]:
    """Lower-cased words with participant names replaced by :data:`PERSON`, with offsets."""
    pattern = person_pattern(names)
    spans: list[tuple[int, int]] = []
    if pattern is not None:
        spans = [(m.start(), m.end()) for m in pattern.finditer(sentence)]
    lowered = sentence.translate(_APOSTROPHES).lower()
    out: list[Token] = []
    pos = 0
    for start, end in spans:
        out += _words(lowered, pos, start)
        possessive = lowered.startswith("'s", end)
        out.append(Token(PERSON + ("'s" if possessive else ""), start, end + 2 * possessive))
        pos = end + 2 * possessive
    out += _words(lowered, pos, len(lowered))
    return out


@lru_cache(maxsize=64)
def _masking_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """A name, and the possessive 's after it that :func:`tokens` folds into the token."""
    return re.compile(rf"(?:{_person_pattern(names).pattern})(?P<s>['\u2019\u2018`][sS])?", FLAGS)


def _mask(m: re.Match[str]) -> str:
    return f" {PERSON}'s " if m.group("s") else f" {PERSON} "


def words(sentence: str, names: tuple[str, ...] = ()) -> list[str]:
    """``[t.word for t in tokens(sentence, names)]`` without the offsets, several times faster:
    the model scores every sentence, and only a flagged one needs offsets."""
    if names:
        sentence = _masking_pattern(names).sub(_mask, sentence)
    return _WORD.findall(sentence.translate(_APOSTROPHES).lower())


def _words(lowered: str, start: int, end: int) -> Iterator[Token]:
    for m in _WORD.finditer(lowered, start, end):
        yield Token(m.group(0), m.start(), m.end())


@lru_cache(maxsize=16384)
def char_grams(word: str) -> tuple[str, ...]:
    """The in-word character n-grams of one word (memoised: words repeat across texts)."""
    padded = f" {word} "
    grams: list[str] = []
    for n in CHAR_NGRAMS:
        if len(padded) < n:
            break
        grams += [f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1)]
    return tuple(grams)


def word_grams(words: list[str]) -> Iterator[tuple[str, int, int]]:
    """Word n-grams with the index range of the words they cover (``<s>`` is index -1)."""
    seq = ["<s>", *words]
    for n in WORD_NGRAMS:
        for i in range(len(seq) - n + 1):
            if n == 1 and i == 0:
                continue  # "<s>" alone says nothing
            yield "w:" + " ".join(seq[i : i + n]), i - 1, i - 1 + n


def gram_names(words: list[str]) -> list[str]:
    """The names of :func:`word_grams` and :func:`class_grams`, built the fast way (the model
    scores every sentence; only a flagged one needs to know which words a gram covers)."""
    seq = ["<s>", *words]
    out = [f"w:{w}" for w in words]
    out += [f"w:{a} {b}" for a, b in zip(seq, seq[1:], strict=False)]
    out += [f"w:{a} {b} {c}" for a, b, c in zip(seq, seq[1:], seq[2:], strict=False)]
    classes = ["<s>", *map(word_class, words)]
    if ROLE in classes or PRONOUN in classes:
        out += [g for g, _, _ in class_grams(words)]
    out += [g for g, _, _ in skip_grams(words)]
    return out


@lru_cache(maxsize=65536)
def word_class(word: str) -> str:
    """The class a word counts as in ``k:`` n-grams: a participant, a role, a pronoun, itself
    (memoised: every sentence asks it of each word several times, and words repeat)."""
    if word.startswith(PERSON):
        return PERSON
    if word in _ROLES or word.removesuffix("'s") in _ROLES:
        return ROLE
    if word in _PRONOUNS:
        return PRONOUN
    if word in _FAULTS:
        return FAULT
    return word


def class_grams(words: list[str]) -> Iterator[tuple[str, int, int]]:
    """2- and 3-grams over word classes that contain a role or a pronoun."""
    seq = ["<s>", *(word_class(w) for w in words)]
    for n in (2, 3):
        for i in range(len(seq) - n + 1):
            window = seq[i : i + n]
            if ROLE in window or PRONOUN in window:
                yield "k:" + " ".join(window), max(i - 1, 0), i - 1 + n


def skip_grams(words: list[str]) -> Iterator[tuple[str, int, int]]:
    """Skip-grams from a person-like word, and after a negation, with the words they cover."""
    for i, w in enumerate(words):
        cls = word_class(w)
        if cls in (PERSON, ROLE, PRONOUN):
            for j in range(i + 1, min(i + 1 + _SKIP_SUBJECT, len(words))):
                yield f"s:{cls}>{words[j]}", i, j + 1
                if words[j] in _FAULTS:
                    yield f"s:{cls}>{FAULT}", i, j + 1
        if w in _NEGATIONS:
            for j in range(i + 1, min(i + 1 + _SKIP_NEGATION, len(words))):
                yield f"n:{words[j]}", i, j + 1


def context_features(words: list[str], as_cause: bool) -> list[str]:
    """Whole-sentence features: the statement kind, and whether anyone acts in the sentence.

    ``ctx:noactor`` marks a sentence with no participant, role or pronoun in it (plain technical
    narrative, remedies, evidence); ``ctx:long`` one of more than 20 words. Most prose is of that
    kind and is not blame, but without a feature for it the model only ever sees cue words."""
    classes = {word_class(w) for w in words}
    out = [] if classes & _ACTORS else ["ctx:noactor"]
    if len(words) > _LONG:
        out.append("ctx:long")
    if as_cause:
        out += ["ctx:cause", "ctx:cause+person"] if PERSON in classes else ["ctx:cause"]
    return out


def features(sentence: str, names: tuple[str, ...] = (), as_cause: bool = False) -> list[str]:
    """Every feature of one sentence, repeated as often as it occurs."""
    seq = words(sentence, names)
    out = [g for g, _, _ in word_grams(seq)]
    out += [g for g, _, _ in class_grams(seq)]
    out += [g for g, _, _ in skip_grams(seq)]
    for w in seq:
        out += char_grams(w)
    out += context_features(seq, as_cause)
    return out
