"""The scan: which rules run on a text, which matches survive, and the public API."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

from .checks import ScanContext, name_is_word, negated, quoted
from .prefilter import Clause, FoldedText, TextWords, name_clause, text_words
from .rule import BlameKind
from .table import ActiveRule, name_body, rule_set
from .vocabulary import FLAGS

__all__ = ["BlameKind", "BlameMatch", "find_blame", "is_blameful"]


@dataclass(frozen=True)
class BlameMatch:
    """One flagged phrase; offsets index into the text passed to :func:`find_blame`.

    ``rule`` is the id of the table rule that pointed at the phrase (``blame.omission.failed_to``)
    or, when no rule did, the id of the model that flagged the sentence (``model.blame_lr.<hash>``).
    ``score`` is the model's probability that the sentence is blame (1.0 from the rules alone)."""

    kind: BlameKind
    start: int
    end: int
    phrase: str
    message: str
    suggestion: str
    rule: str = ""
    score: float = 1.0


def _normalise_people(people: Collection[str]) -> tuple[str, ...]:
    """Full names plus their parts, so "Emma Larsen" also matches "Larsen didn't wait"."""
    if isinstance(people, str):  # a bare string is a Collection[str] of letters; mean one name
        people = (people,)
    out: set[str] = set()
    for raw in people:
        full = " ".join(str(raw).strip().lstrip("@").split())
        if len(full) < 2:
            continue
        out.add(full)
        for part in full.split():
            if len(part) >= 2:
                out.add(part)
    return tuple(sorted(out, key=str.lower))


@lru_cache(maxsize=256)
def _participants(people: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    """Normalised names and their lower-cased set; callers pass the same catalogue every time."""
    names = _normalise_people(people)
    return names, frozenset(n.lower() for n in names)


@lru_cache(maxsize=64)
def _name_scanner(names: tuple[str, ...]) -> tuple[re.Pattern[str], Clause | None]:
    """The names regex, and words it needs (most texts name nobody: skip the scan)."""
    return re.compile(name_body(names), FLAGS), name_clause(names)


def _present(
    names: tuple[str, ...], text: str, folded: FoldedText | TextWords | None = None
) -> tuple[str, ...]:
    """The participant names that occur in ``text``.

    Rules are compiled per name set, and a whole people catalogue baked into every rule makes
    both compiling and matching slow; texts mention a handful of people at most, so the rules only
    ever see those (and rule sets are shared between texts that mention the same people).
    With ``folded``, the scan is skipped when no name's words occur in the text.
    """
    if not names:
        return ()
    scanner, needs = _name_scanner(names)
    if folded is not None and needs is not None and not folded.has(needs):
        return ()
    seen = {" ".join(m.group(0).lstrip("@").split()).lower() for m in scanner.finditer(text)}
    return tuple(n for n in names if n.lower() in seen)


def _dedupe(matches: list[BlameMatch]) -> list[BlameMatch]:
    """Keep the widest of overlapping matches so one phrase yields one finding."""
    ordered = sorted(matches, key=lambda b: (b.start, -(b.end - b.start)))
    kept: list[BlameMatch] = []
    for b in ordered:
        if kept and b.start < kept[-1].end:
            if b.end - b.start > kept[-1].end - kept[-1].start:
                kept[-1] = b
            continue
        kept.append(b)
    return kept


def find_blame(
    text: str, *, people: Collection[str] = (), as_cause: bool = False
) -> list[BlameMatch]:
    """Return blameful phrases in ``text``, ordered by position.

    people: participant names known for this incident (case-insensitive). as_cause: the text is a
    cause statement, so any named person or 'human error' is blame.

    ``people`` matters because "failed to" is only blame when a person is the subject, and only
    the incident knows that "Kafka" is a system and "Kenji" a responder. Names that are also
    common words ("Will", "Mark") only match when capitalised.
    """
    return _scan(text, people, as_cause, prefilter=True)


def _find_blame_reference(
    text: str, *, people: Collection[str] = (), as_cause: bool = False
) -> list[BlameMatch]:
    """:func:`find_blame` without the keyword prefilter: every rule's regex runs on every text.

    The prefilter must never change a result; tests compare the two on many texts.
    """
    return _scan(text, people, as_cause, prefilter=False)


def _scan(
    text: str, people: Collection[str], as_cause: bool, *, prefilter: bool
) -> list[BlameMatch]:
    if not text or not text.strip():
        return []
    key = (people,) if isinstance(people, str) else tuple(people)
    # The same people list comes with every text of an incident, so normalise it once. Only
    # all-str keys are shared: equal keys must mean equal input, and 1 == True but "1" != "True".
    if prefilter and all(type(p) is str for p in key):
        names, lowered = _participants(key)
    else:
        names = _normalise_people(people)
        lowered = frozenset(n.lower() for n in names)
    ctx = ScanContext(as_cause=as_cause, names=lowered)
    folded = text_words(text) if prefilter else None
    rules = rule_set(_present(names, text, folded))
    if folded is not None and not folded.current:  # the rule set interned new clauses
        folded = text_words(text)
    found: list[BlameMatch] = []
    for rule in rules:
        if rule.row.cause_only and not as_cause:
            continue
        # Most texts lack the fixed words of most rules ("forgot", "fault", "without"); skipping
        # those rules is what makes the scan cheap. Skips only rules that cannot match: the
        # text's words hold every clause of ``rule.needs`` exactly when they hold its mask.
        if folded is not None and (rule.mask is None or rule.mask & folded.bits != rule.mask):
            continue
        found += _matches(rule, text, ctx)
    return _dedupe(found)


def _matches(rule: ActiveRule, text: str, ctx: ScanContext) -> list[BlameMatch]:
    """The rule's matches in ``text`` that its own check and the shared filters keep."""
    row = rule.row
    out: list[BlameMatch] = []
    for m in rule.pattern.finditer(text):
        start, end = m.start(), m.end()
        if start == end or name_is_word(text, m):
            continue
        if row.check is not None and not row.check(text, m, ctx):
            continue
        if negated(text, start) or quoted(text, start, end):
            continue
        message, suggestion = row.advice
        out.append(BlameMatch(row.kind, start, end, text[start:end], message, suggestion, row.id))
    return out


def is_blameful(text: str, *, people: Collection[str] = (), as_cause: bool = False) -> bool:
    """True if :func:`find_blame` finds anything; for gates that only need a yes/no."""
    return bool(find_blame(text, people=people, as_cause=as_cause))


def participants(people: Collection[str]) -> tuple[str, ...]:
    """Participant names as the detector reads them: full names and their parts."""
    key = (people,) if isinstance(people, str) else tuple(people)
    if all(type(p) is str for p in key):
        return _participants(key)[0]
    return _normalise_people(people)
