"""Necessary-keyword prefilter for the blameless-language rules (app/rules/blameless.py).

Each blame rule is a large regular expression, and most of its cost is the regex engine trying
the rule's subject alternation ("a name, a pronoun, or a role phrase") at every position of every
text, even though nearly all texts lack the rule's fixed words ("fail", "forgot", "fault"). This
module derives, from the parsed pattern itself, words that any match *must* contain, so a rule whose
words are all absent from a text can be skipped: the skip is only ever taken when the regex could
not have matched, so results do not change.

Derivation walks ``re._parser`` output (the tree ``re.compile`` builds from):

* a run of literal characters in a sequence must appear in the matched text;
* every element of a sequence is required, so a sequence needs all of its elements' words (a
  conjunction of clauses);
* a branch needs "one of" its alternatives, so it contributes a single clause, the union of one
  clause from each alternative; one alternative without requirements makes the branch free;
* a repeat that may match zero times, a lookaround, or anything else contributes nothing;
* the empty negative lookahead ``(?!)`` (blameless uses it for "no participant names") never
  matches, so a sequence holding it is impossible and a branch simply loses that alternative.

Leaving a clause out (a one-letter keyword, which nearly every text holds, or a non-ASCII one) only
weakens the filter, so it is always safe; putting a wrong keyword into a clause is not, and the
tests check each rule's keywords against its regex on thousands of texts.

Parsing ~60 long patterns costs about as much as compiling them (~50 ms), and blameless builds a
rule set per set of names present in a text (compiling a rule only once it first passes this
filter). So the keywords are derived once, from the name-less rule set,
as *templates* in which ``(?!)`` stands for "the participant-name alternation matched here"
(:data:`SLOT`); :func:`fill` then puts in what a given name alternation needs. That is sound
whatever ``(?!)`` stood for: it never matches, so any condition is necessary for it.

A keyword may also be *anchored*: it must start (or end) a word when the pattern puts ``\\b``,
whitespace or other non-word characters next to it ("he" in ``\\b(?:he|she)\\b``). Anchored keywords
are looked up in a copy of the text with non-word characters turned into spaces, so " he " does
not hit "the".

Matching is case-insensitive, so the text and the keywords are folded the way the regex engine
compares characters: ``str.lower()`` plus the few characters ``re.IGNORECASE`` also equates with
ASCII letters ("ı", "İ" with "i"; "ſ" with "s"; the Kelvin sign already lowers to "k"). Only
ASCII keywords are kept, so only these equivalences matter; ``tests/unit/test_blameless_speed.py``
checks the folding against the regex engine for every code point.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

# re._parser / re._constants are the (private, stable since 3.11) modules ``re.compile`` itself
# uses; typeshed has no stubs for them, hence Any.
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser as _sre_parse  # type: ignore[attr-defined]
from typing import Any

__all__ = [
    "SLOT",
    "Clause",
    "Derived",
    "FoldedText",
    "Keyword",
    "Requirement",
    "derive",
    "fill",
    "fold",
    "requirements",
    "satisfied",
]

_IS_WORD = re.compile(r"\w")
_NONWORD = re.compile(r"\W")
_ALL_WORD = re.compile(r"\w+")
# Characters that re.IGNORECASE matches against an ASCII letter but str.lower() does not turn into
# it (re._casefix lists the first two; "İ" lowers to two characters, "i" + a combining dot).
_FOLD_EXTRA = str.maketrans({"ı": "i", "ſ": "s", "İ": "i"})


def fold(text: str) -> str:
    """Case-fold ``text`` so an IGNORECASE match of an ASCII literal is a substring match."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD_EXTRA).lower()


@dataclass(frozen=True, order=True)
class Keyword:
    """A folded literal that a match must contain, optionally at a word start and/or end."""

    text: str
    word_start: bool = False
    word_end: bool = False

    @property
    def anchored(self) -> bool:
        return self.word_start or self.word_end

    @property
    def needle(self) -> str:
        """What to look for: in :attr:`FoldedText.spaced` if anchored, else in ``folded``."""
        if not self.anchored:
            return self.text
        return (" " if self.word_start else "") + self.text + (" " if self.word_end else "")


_Keywords = frozenset[Keyword]  # during derivation: at least one of these occurs
# What :func:`derive` returns: all clauses must hold; None: the pattern never matches.
Derived = tuple[_Keywords, ...] | None
# Stands for a participant-name alternation in templates (see the module docstring). Keywords
# with a non-word character are never anchored, so no real keyword equals this one.
SLOT = Keyword("\0", word_start=True, word_end=True)


class Clause:
    """At least one of these keywords occurs: ``words`` as whole words of the text, ``spaced``
    (keywords anchored on one side) in the spaced text, ``plain`` anywhere in the folded text.
    Built by :func:`requirements`."""

    __slots__ = ("words", "spaced", "plain")

    def __init__(self, keywords: _Keywords) -> None:
        self.words = frozenset(k.text for k in keywords if k.word_start and k.word_end)
        partial = sorted(keywords, key=lambda k: (-len(k.needle), k.needle))  # rarer ones first
        self.spaced = tuple(
            k.needle for k in partial if k.anchored and not (k.word_start and k.word_end)
        )
        self.plain = tuple(k.needle for k in partial if not k.anchored)

    def __repr__(self) -> str:
        return f"Clause({sorted(self.words)!r}, {self.spaced!r}, {self.plain!r})"


# All clauses must hold; None means the pattern can never match.
Requirement = tuple[Clause, ...] | None


class FoldedText:
    """One text as keywords are tested against it: folded, and "spaced" (folded, with every
    non-word character and both ends a space, so " he " is the word "he" and not part of "the")
    together with the set of its words. Clause lookups are memoised (by identity: clauses are
    shared within one rule set, see :func:`requirements`)."""

    __slots__ = ("folded", "spaced", "words", "memo")

    def __init__(self, text: str) -> None:
        self.folded = fold(text)
        self.spaced = " " + fold(_NONWORD.sub(" ", text)) + " "
        # Split on " " only: a word is then exactly what sits between two spaces of ``spaced``.
        self.words = frozenset(self.spaced.split(" "))
        self.memo: dict[Clause, bool] = {}

    def has(self, clause: Clause) -> bool:
        if not self.words.isdisjoint(clause.words):
            return True
        spaced = self.spaced
        for needle in clause.spaced:
            if needle in spaced:
                return True
        folded = self.folded
        for needle in clause.plain:  # noqa: SIM110 - a plain loop is faster than any() here
            if needle in folded:
                return True
        return False


def satisfied(req: Requirement, text: FoldedText) -> bool:
    """False only when ``text`` lacks a keyword the pattern needs, so the pattern cannot match."""
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


# --------------------------------------------------------------------------------------------
# Derivation
# --------------------------------------------------------------------------------------------

_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT}
_ZERO_WIDTH = {_c.AT, _c.ASSERT, _c.ASSERT_NOT}
_NONWORD_CATEGORIES = {_c.CATEGORY_SPACE, _c.CATEGORY_NOT_WORD}
_WORD_EDGES_BEFORE = {_c.AT_BOUNDARY, _c.AT_BEGINNING, _c.AT_BEGINNING_STRING}
_WORD_EDGES_AFTER = {_c.AT_BOUNDARY, _c.AT_END, _c.AT_END_STRING}


class _Edge(Enum):
    """What an element puts at one of its ends, for deciding whether a neighbour is anchored."""

    NONWORD = 1  # always consumes, and the character at that end is a non-word character
    MAYBE_EMPTY = 2  # consumes nothing, or ends in a non-word character
    OTHER = 3


def _nonword_char(code: int) -> bool:
    """A non-word character that IGNORECASE matches only against itself (it has no case)."""
    char = chr(code)
    return _IS_WORD.match(char) is None and char.lower() == char == char.upper()


def _in_is_nonword(items: list[tuple[Any, Any]]) -> bool:
    """A character class all of whose members are non-word characters."""
    for op, av in items:
        if op is _c.LITERAL and _nonword_char(av):
            continue
        if op is _c.CATEGORY and av in _NONWORD_CATEGORIES:
            continue
        return False
    return bool(items)


def _edge(item: tuple[Any, Any], last: bool) -> _Edge | None:
    """The kind of character ``item`` ends (``last``) or starts with; None if zero-width."""
    op, av = item
    if op in _ZERO_WIDTH:
        return None
    if op is _c.LITERAL:
        return _Edge.NONWORD if _nonword_char(av) else _Edge.OTHER
    if op is _c.IN:
        return _Edge.NONWORD if _in_is_nonword(av) else _Edge.OTHER
    if op is _c.SUBPATTERN:
        return _seq_edge(av[3], last)
    if op is _c.ATOMIC_GROUP:
        return _seq_edge(av, last)
    if op in _REPEATS:
        lo, hi, sub = av
        inner = _seq_edge(sub, last)
        if hi == 0 or inner is None:
            return None
        if inner is _Edge.NONWORD and lo >= 1:
            return _Edge.NONWORD
        return _Edge.MAYBE_EMPTY if inner is not _Edge.OTHER else _Edge.OTHER
    if op is _c.BRANCH:
        edges = [_seq_edge(alt, last) for alt in av[1]]
        if all(e is _Edge.NONWORD for e in edges):
            return _Edge.NONWORD
        if all(e is not _Edge.OTHER for e in edges):
            return _Edge.MAYBE_EMPTY
        return _Edge.OTHER
    return _Edge.OTHER


def _seq_edge(items: list[tuple[Any, Any]], last: bool) -> _Edge | None:
    """Edge of a whole sequence; None when it never consumes anything."""
    result: _Edge | None = None
    for item in reversed(items) if last else items:
        e = _edge(item, last)
        if e is None:
            continue
        if e is not _Edge.MAYBE_EMPTY:
            return e
        result = _Edge.MAYBE_EMPTY
    return result


def _word_edge(items: list[tuple[Any, Any]], i: int, before: bool, outer: bool) -> bool:
    """True when the text right before (or after) element ``i`` is a word boundary.

    Walks away from ``i`` over zero-width and maybe-empty elements; ``outer`` is the answer for
    the enclosing sequence when the walk runs off this one.
    """
    step = -1 if before else 1
    j = i + step
    while 0 <= j < len(items):
        op, av = items[j]
        if op is _c.AT and av in (_WORD_EDGES_BEFORE if before else _WORD_EDGES_AFTER):
            return True
        if op is _c.ASSERT_NOT and av[0] == step and _excludes_word(av[1]):
            return True  # (?<![\w@]) before, (?!\w) after: no word character there
        e = _edge(items[j], last=before)
        if e is _Edge.NONWORD:
            return True
        if e is _Edge.OTHER:
            return False
        j += step
    return outer


def _excludes_word(sub: list[tuple[Any, Any]]) -> bool:
    """A lookahead body that matches any word character, e.g. ``\\w`` or ``[\\w@]``."""
    if len(sub) != 1:
        return False
    op, av = sub[0]
    if op is _c.IN and all(o is not _c.NEGATE for o, _ in av):
        return any(o is _c.CATEGORY and a is _c.CATEGORY_WORD for o, a in av)
    return False


def _clause_rank(clause: _Keywords) -> tuple[int, int]:
    """Prefer clauses whose shortest keyword is long (rarely present) and that are small."""
    return (-min(len(k.needle) for k in clause), len(clause))


def _keyword(chars: list[int], start: bool, end: bool) -> Keyword | None:
    text = fold("".join(map(chr, chars)))
    if not text.isascii():
        return None  # only ASCII folding is verified against the regex engine
    if not _ALL_WORD.fullmatch(text):
        start = end = False  # anchors are checked in a text whose non-word chars are spaces
    kw = Keyword(text, start, end)
    # A one-character unanchored keyword is in nearly every text: checking it is a waste.
    return kw if len(kw.needle) >= 2 else None


@dataclass(frozen=True)
class _Walk:
    """One derivation; ``slot``: read ``(?!)`` as :data:`SLOT` instead of "never matches"."""

    slot: bool

    def seq(self, tree: Any, start: bool, end: bool) -> Derived:
        """A sequence; ``start``/``end``: whether a word boundary surrounds it."""
        items: list[tuple[Any, Any]] = list(tree)
        clauses: list[_Keywords] = []
        i = 0
        while i < len(items):
            op, av = items[i]
            if op is _c.LITERAL:
                j = i
                while j < len(items) and items[j][0] is _c.LITERAL:
                    j += 1
                kw = _keyword(
                    [code for _, code in items[i:j]],
                    _word_edge(items, i, True, start),
                    _word_edge(items, j - 1, False, end),
                )
                if kw is not None:
                    clauses.append(frozenset({kw}))
                i = j
                continue
            if op is _c.ASSERT_NOT and not av[1]:  # (?!)
                if not self.slot:
                    return None
                clauses.append(frozenset({SLOT}))
                i += 1
                continue
            sub = self.item(items, i, start, end)
            if sub is None:
                return None
            clauses.extend(sub)
            i += 1
        return tuple(dict.fromkeys(clauses))

    def item(self, items: list[tuple[Any, Any]], i: int, start: bool, end: bool) -> Derived:
        op, av = items[i]
        if op in (_c.SUBPATTERN, _c.ATOMIC_GROUP, _c.BRANCH):
            before, after = _word_edge(items, i, True, start), _word_edge(items, i, False, end)
            if op is _c.SUBPATTERN:
                return self.seq(av[3], before, after)
            if op is _c.ATOMIC_GROUP:
                return self.seq(av, before, after)
            return self.branch(av[1], before, after)
        if op in _REPEATS:
            lo, _hi, sub = av
            if lo == 0:
                return ()
            # Repeated: the neighbours of a later iteration are the previous one, so no anchors.
            return self.seq(sub, False, False)
        return ()

    def branch(self, alts: list[Any], start: bool, end: bool) -> Derived:
        reqs = [r for r in (self.seq(alt, start, end) for alt in alts) if r is not None]
        if not reqs:
            return None
        if any(not r for r in reqs):
            return ()  # an alternative with no fixed words: the branch needs nothing
        union: set[Keyword] = set()
        for r in reqs:
            best: _Keywords = min(r, key=_clause_rank)
            union |= best
        return (frozenset(union),)


_UNSUPPORTED_FLAGS = re.ASCII | re.LOCALE


def derive(source: str, flags: int = 0, *, slot: bool = False) -> Derived:
    """Clauses of keywords every match of ``re.compile(source, flags)`` contains; None if it can
    never match. With ``slot``, ``(?!)`` is read as :data:`SLOT` (a template for :func:`fill`).
    """
    tree = _sre_parse.parse(source, flags)
    if tree.state.flags & _UNSUPPORTED_FLAGS or _scoped_flags(tree) & _UNSUPPORTED_FLAGS:
        # \b, \w and \s would then disagree with the Unicode ones FoldedText uses.
        raise ValueError("only Unicode word boundaries are modelled, not ASCII or LOCALE")
    return _Walk(slot).seq(tree, False, False)


def _scoped_flags(tree: Any) -> int:
    """Every flag turned on by a scoped group, ``(?a:...)``, anywhere in ``tree``."""
    flags = 0
    for op, av in tree:
        if op is _c.SUBPATTERN:
            flags |= av[1] | _scoped_flags(av[3])
        elif op is _c.ATOMIC_GROUP:
            flags |= _scoped_flags(av)
        elif op in _REPEATS:
            flags |= _scoped_flags(av[2])
        elif op is _c.BRANCH:
            for alt in av[1]:
                flags |= _scoped_flags(alt)
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            flags |= _scoped_flags(av[1])
    return flags


def fill(template: Derived, slot: Derived) -> Derived:
    """Put the requirement of a name alternation (``slot``) into a template's :data:`SLOT`.

    A clause holding SLOT reads "one of these words, or a name matched here"; a name matching
    implies every clause of ``slot``, so any one of them may stand in for SLOT. No names at all
    (``slot`` None) removes the alternative; a slot with no checkable words frees the clause.
    """
    if template is None:
        return None
    out: list[_Keywords] = []
    for clause in template:
        if SLOT not in clause:
            out.append(clause)
            continue
        rest = clause - {SLOT}
        if slot is None:
            if not rest:
                return None  # a name is required and none can match
            out.append(rest)
        elif not slot:
            continue
        elif not rest:
            out.extend(slot)  # the name itself is required: so is all it needs
        else:
            best: _Keywords = min(slot, key=_clause_rank)
            out.append(rest | best)
    return tuple(dict.fromkeys(out))


def requirements(derived: Iterable[Derived]) -> tuple[Requirement, ...]:
    """The run-time form of each of ``derived``: cheap and selective clauses first, so a failing
    rule is usually rejected by its first lookup; equal clauses become one object, so rules that
    share a clause (the subject alternation) share its memoised lookup in :class:`FoldedText`."""
    interned: dict[_Keywords, Clause] = {}
    out: list[Requirement] = []
    for req in derived:
        if req is None:
            out.append(None)
            continue
        if any(SLOT in clause for clause in req):
            raise ValueError("fill() the template first")
        ordered = sorted(req, key=lambda c: (len(c), _clause_rank(c)))
        out.append(tuple(interned.setdefault(c, Clause(c)) for c in ordered))
    return tuple(out)
