"""Keyword prefilter: skip a rule whose declared keywords are absent, without running its regex.

Most of a rule's cost is the regex engine trying the rule's subject alternation ("a name, a
pronoun, or a role phrase") at every position of every text, although nearly all texts lack the
rule's fixed words ("fail", "forgot", "fault"). So each rule in the table *declares* the words its
regex cannot match without, as groups: every group must be present, and a group is present when
any one of its keywords is. The declaration is checked, not trusted: the tests run every rule's
regex over the labelled corpus, the benchmark's texts and thousands of seeded random texts and
assert that each text a regex matches holds the rule's keywords, so the filter never changes a
result (and ``find_blame`` is compared with an unfiltered scan on the same texts).

A keyword is looked for in the text *spaced*: case-folded, with every non-word character turned
into a space and a space added at each end. So a leading or trailing space in a keyword anchors it
at a word edge: ``" he "`` is the word "he" (not part of "the"), ``" fail"`` a word starting with
"fail", ``"ed "`` a word ending in "ed", and ``"call"`` "call" anywhere. Keywords are lower-case
ASCII letters and digits, which is what makes the folding below sufficient. :data:`NAME` in a group
stands for "a participant name matched here"; it holds whenever the text names a participant (the
rule set is built for exactly the names a text contains).

Matching is case-insensitive, so the text is folded the way the regex engine compares characters:
``str.lower()`` plus the few characters ``re.IGNORECASE`` also equates with ASCII letters ("ı",
"İ" with "i"; "ſ" with "s"; the Kelvin sign already lowers to "k"). ``tests/unit/test_blameless_
speed.py`` checks that folding against the regex engine for every code point.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

__all__ = [
    "NAME",
    "Clause",
    "FoldedText",
    "TextWords",
    "Requirement",
    "fold",
    "in_lookup_order",
    "mask",
    "name_clause",
    "requirement",
    "satisfied",
    "text_words",
]

# Stands for a participant-name match in a declared group (see the module docstring).
NAME = "<name>"

_KEYWORD = re.compile(r" ?[a-z0-9]+ ?")
_NONWORD = re.compile(r"\W")
_WORD_RUN = re.compile(r"\w+")
_ASCII_HEAD = re.compile(r"[A-Za-z0-9_]+")
# Characters that re.IGNORECASE matches against an ASCII letter but str.lower() does not turn into
# it (re._casefix lists the first two; "İ" lowers to two characters, "i" + a combining dot).
_FOLD_EXTRA = str.maketrans({"ı": "i", "ſ": "s", "İ": "i"})


def fold(text: str) -> str:
    """Case-fold ``text`` so an IGNORECASE match of an ASCII literal is a substring match."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD_EXTRA).lower()


class Clause:
    """At least one of these keywords occurs: ``words`` as whole words of the text, ``needles``
    (keywords anchored on one side or not at all) as substrings of the spaced text."""

    __slots__ = ("words", "needles", "bit")

    def __init__(self, keywords: Iterable[str], bit: int = -1) -> None:
        keywords = frozenset(keywords)
        self.bit = bit  # its place in a word's bit mask (see WordIndex); -1 if not interned
        self.words = frozenset(k.strip() for k in keywords if k[0] == " " and k[-1] == " ")
        partial = (k for k in keywords if not (k[0] == " " and k[-1] == " "))
        self.needles = tuple(sorted(partial, key=lambda k: (-len(k), k)))  # rarer ones first

    def __repr__(self) -> str:
        return f"Clause({sorted(self.words)!r}, {self.needles!r})"


# All clauses must hold; None means the rule can never match (it needs a name and none is known).
Requirement = tuple[Clause, ...] | None


class FoldedText:
    """One text as keywords are tested against it: spaced (folded, every non-word character and
    both ends a space) together with the set of its words. Clause lookups are memoised by
    identity: clauses are interned (see :func:`requirement`), so the subject group that thirty
    rules share is looked up once per text."""

    __slots__ = ("spaced", "words", "memo")

    def __init__(self, text: str) -> None:
        self.spaced = " " + fold(_NONWORD.sub(" ", text)) + " "
        # Split on " " only: a word is then exactly what sits between two spaces of ``spaced``.
        self.words = frozenset(self.spaced.split(" "))
        self.memo: dict[Clause, bool] = {}

    def has(self, clause: Clause) -> bool:
        if not self.words.isdisjoint(clause.words):
            return True
        spaced = self.spaced
        for needle in clause.needles:  # noqa: SIM110 - a plain loop is faster than any() here
            if needle in spaced:
                return True
        return False


def satisfied(req: Requirement, text: FoldedText) -> bool:
    """False only when ``text`` lacks a keyword the rule needs, so its regex cannot match."""
    if req is None:
        return False
    memo = text.memo
    for clause in req:
        hit = memo.get(clause)
        if hit is None:
            hit = memo[clause] = text.has(clause)
        if not hit:
            return False
    return True


# Several keywords of which any one will do: a tuple, or one string of "|"-separated keywords
# (which keeps a rule's declaration on one line: " ignored| overlooked| missed").
Group = str | Sequence[str]
_interned: dict[frozenset[str], Clause] = {}


def check_groups(groups: Sequence[Group]) -> tuple[frozenset[str], ...]:
    """The declared groups as keyword sets, refusing keywords the filter cannot look up."""
    out = []
    for group in groups:
        keywords = frozenset(group.split("|") if isinstance(group, str) else group)
        bad = [k for k in keywords if k != NAME and not _KEYWORD.fullmatch(k)]
        if not keywords or bad:
            raise ValueError(f"keywords must be lower-case ASCII words, got {sorted(keywords)}")
        out.append(keywords)
    return tuple(out)


def requirement(groups: Sequence[frozenset[str]], names_present: bool) -> Requirement:
    """The run-time form of a rule's declared groups, for a text that does or does not name a
    participant: a group with :data:`NAME` then holds outright, or loses that alternative."""
    clauses: list[Clause] = []
    for keywords in groups:
        if NAME in keywords:
            if names_present:
                continue
            keywords = keywords - {NAME}
            if not keywords:
                return None  # the rule needs a name and the text names nobody
        clause = _interned.get(keywords)
        if clause is None:
            clause = _interned[keywords] = Clause(keywords, bit=len(_interned))
        clauses.append(clause)
    return tuple(dict.fromkeys(clauses))


def in_lookup_order(reqs: Sequence[Requirement]) -> tuple[Requirement, ...]:
    """The requirements of one rule set with each one's clauses in the order to test them.

    A clause several rules share (the subject groups) comes first: its lookup is memoised per
    text, so it costs one lookup for all those rules, and when it fails they are all skipped at
    once. Then whole-word clauses (a set lookup), then by how many substrings must be searched.
    The order changes only how fast a rule is rejected, never whether it is.
    """
    uses = Counter(c for req in reqs if req for c in req)

    def key(c: Clause) -> tuple[int, int, int]:
        return (-uses[c] if uses[c] > 1 else 0, len(c.needles), len(c.words))

    return tuple(None if req is None else tuple(sorted(req, key=key)) for req in reqs)


def name_clause(names: Sequence[str]) -> Clause | None:
    """Words any match of the participant-name alternation contains; None if there are none.

    A name matches as a whole word (the alternation is fenced by ``(?<![\\w@])`` and
    ``(?![\\w@])``, and its parts are joined by whitespace), so every run of word characters in
    a name is a whole word of the text; the longest ASCII one is taken, or, for a run with
    non-ASCII letters ("Zoë"), its ASCII start. A name without one makes the scan unavoidable.
    """
    keywords = set()
    for name in names:
        best = ""
        for run in _WORD_RUN.findall(name):
            if run.isascii():
                candidate = f" {run.lower()} "
            else:  # only ASCII letters are known to fold like the regex engine compares them
                head = _ASCII_HEAD.match(run)
                candidate = f" {head.group().lower()}" if head else ""
            if len(candidate) > len(best):
                best = candidate
        if not best:
            return None
        keywords.add(best)
    return Clause(keywords) if keywords else None


# --------------------------------------------------------------------------------------------
# One pass over a text's words: which clauses hold (the fast form of FoldedText + satisfied)
# --------------------------------------------------------------------------------------------

_WORD_CACHE = 50_000  # distinct words whose clause bits are remembered


class TextWords:
    """A text's words, folded, and the bit mask of the interned clauses that hold in it.

    A keyword is ``" ?[a-z0-9]+ ?"``: its letters sit inside one word of the spaced text, and a
    space at its edge means that word's edge, so a clause holds in a text exactly when it holds in
    one of the text's words on its own (``" " + word + " "``). Each word's mask is worked out once
    (words repeat across texts) and a text's mask is the OR of its words' masks: one pass over the
    words, after which each rule is one integer test instead of a lookup per clause."""

    __slots__ = ("bits", "folded", "size")

    def __init__(self, bits: int, folded: frozenset[str], size: int) -> None:
        self.bits = bits
        self.folded = folded
        self.size = size  # clauses interned when the mask was made (later ones are not in it)

    @property
    def current(self) -> bool:
        """The mask covers every clause interned so far."""
        return self.size == len(_interned)

    def has(self, clause: Clause) -> bool:
        """The clause holds in the text (for clauses outside the index: participant names)."""
        if not self.folded.isdisjoint(clause.words):
            return True
        return any(needle in f" {word} " for word in self.folded for needle in clause.needles)


class WordIndex:
    """Word -> (folded word, mask of the interned clauses it satisfies), cached per word.

    The masks cover the clauses interned when they were computed; interning another clause (a
    new declaration) rebuilds the index, so a cached mask never misses a clause."""

    def __init__(self) -> None:
        self._size = -1
        self._whole: dict[str, int] = {}
        self._needles: tuple[tuple[str, int], ...] = ()
        self._words: dict[str, tuple[str, int]] = {}

    def _refresh(self) -> None:
        whole: dict[str, int] = {}
        needles: dict[str, int] = {}
        for clause in _interned.values():
            bit = 1 << clause.bit
            for word in clause.words:
                whole[word] = whole.get(word, 0) | bit
            for needle in clause.needles:
                needles[needle] = needles.get(needle, 0) | bit
        self._whole, self._needles = whole, tuple(needles.items())
        self._words = {}
        self._size = len(_interned)

    def _word(self, run: str) -> tuple[str, int]:
        folded = fold(run)
        bits = self._whole.get(folded, 0)
        padded = f" {folded} "
        for needle, bit in self._needles:
            if needle in padded:
                bits |= bit
        hit = (folded, bits)
        if len(self._words) < _WORD_CACHE:
            self._words[run] = hit
        return hit

    def scan(self, text: str) -> TextWords:
        if self._size != len(_interned):
            self._refresh()
        words, bits, folded = self._words, 0, set()
        for run in set(_WORD_RUN.findall(text)):
            hit = words.get(run) or self._word(run)
            folded.add(hit[0])
            bits |= hit[1]
        return TextWords(bits, frozenset(folded), self._size)


_INDEX = WordIndex()


def text_words(text: str) -> TextWords:
    """The words of ``text`` and the interned clauses that hold in it."""
    return _INDEX.scan(text)


def mask(req: Requirement) -> int | None:
    """The bits of a requirement's clauses (None: it can never hold); a text whose mask has all
    of them satisfies the requirement, exactly as :func:`satisfied` would say."""
    if req is None:
        return None
    bits = 0
    for clause in req:
        if clause.bit < 0:
            raise ValueError(f"{clause!r} is not interned, so no word mask covers it")
        bits |= 1 << clause.bit
    return bits
