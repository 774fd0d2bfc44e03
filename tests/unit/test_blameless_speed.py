"""The keyword prefilter in app.rules.blameless must change nothing but speed.

Every rule in the blame table declares the words its regex cannot match without, and
``find_blame`` skips a rule whose words are absent from a text; ``_find_blame_reference`` runs
every rule's regex on every text. These tests check, for every rule, that each text its regex
matches (the labelled corpus, the texts bench/rules.py scans and seeded random recombinations)
holds every keyword group it declares; compare the two scans on the same texts; check the case
folding the filter relies on against the regex engine; and measure the speed-up in the same run
(a ratio, printed rather than asserted: it depends on the machine's load).
"""

from __future__ import annotations

import importlib.util
import random
import re
import string
import sys
import time
from collections import Counter
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.rules.blameless import BlameMatch, find_blame
from app.rules.blameless import detector as blameless
from app.rules.blameless.detector import _find_blame_reference
from app.rules.blameless.prefilter import (
    NAME,
    Clause,
    FoldedText,
    check_groups,
    fold,
    name_clause,
    requirement,
    satisfied,
)
from app.rules.blameless.table import TABLE, rule_set

ROOT = Path(__file__).resolve().parents[2]
CORPUS = yaml.safe_load((ROOT / "tests" / "unit" / "data" / "blameless_corpus.yaml").read_text())

Case = tuple[str, tuple[str, ...], bool]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _check(
    text: str, people: Collection[str], as_cause: bool, matched: Counter[str] | None = None
) -> None:
    """Same findings with and without the prefilter, and (with ``matched``) every declared
    keyword group holds wherever its rule's regex matches (see :func:`_check_keywords`)."""
    fast = find_blame(text, people=people, as_cause=as_cause)
    slow = _find_blame_reference(text, people=people, as_cause=as_cause)
    assert fast == slow, (text, people, as_cause)
    if matched is not None and text.strip():
        _check_keywords(text, people, matched)


def _check_keywords(text: str, people: Collection[str], matched: Counter[str]) -> None:
    """Every rule (cause-only ones too) whose regex matches ``text`` finds each keyword group it
    declares in the text, so the prefilter can never have skipped it; checked per rule and per
    group, not only through the findings, which context checks and de-duplication could make agree
    by luck. ``matched`` counts, per rule id, the texts its regex matched."""
    names = blameless._normalise_people(people)
    folded = FoldedText(text)
    present = blameless._present(names, text)
    assert blameless._present(names, text, folded) == present, (text, people)
    for rule in rule_set(present):
        if not rule.pattern.search(text):
            continue
        matched[rule.row.id] += 1
        assert satisfied(rule.needs, folded), (rule.row.id, text, present)
        for group in rule.row.groups:
            if NAME in group and present:
                continue  # a name is in the text: the group holds
            assert FoldedText(text).has(Clause(group - {NAME})), (rule.row.id, group, text)
    if names:
        scanner, needs = blameless._name_scanner(names)
        if scanner.search(text) and needs is not None:
            assert FoldedText(text).has(needs), (text, names)


def _corpus_cases() -> Iterator[Case]:
    for row in CORPUS:
        for people in (tuple(row.get("people") or ()), ()):
            for as_cause in (True, False):
                yield row["text"], people, as_cause


def _bench_cases(n_incidents: int) -> list[Case]:
    """The texts bench/rules.py scans, with the names and as_cause the pipeline passes."""
    spec = importlib.util.spec_from_file_location("_bench_rules", ROOT / "bench" / "rules.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from app.catalog import load_catalog
    from app.rules import language
    from app.rules.model import Context
    from app.rules.policy import load_policy

    ctx = Context(load_policy(ROOT / "config"), load_catalog(ROOT / "config"), bench.NOW)
    cases: list[Case] = []
    for view in bench.make_views(n_incidents, 10):
        names = language.people(view, ctx)
        cases += [(t.text, names, t.as_cause) for t in language.texts(view) if t.text.strip()]
    return cases


@pytest.fixture(scope="module")
def bench_cases() -> list[Case]:
    return _bench_cases(40)


_SEPARATORS = (" ", " ", ", ", "; ", ". ", " — ", " – ", "\n", " (", ") ", ": ", " - ", "! ", "? ")
_NAMES = ("Bob", "Priya", "Kenji Watanabe", "Will", "Mark", "O'Brien", "Zoë", "Ravi Menon", "Li")
_PEOPLE_POOLS: tuple[tuple[str, ...], ...] = (
    (),
    ("Bob",),
    ("Priya", "Kenji Watanabe", "Will"),
    ("Mark", "O'Brien", "Zoë", "Li"),
    ("Ravi Menon", "Bob", "Priya"),
)
# Characters re.IGNORECASE equates with ASCII letters although str.lower() does not map them so.
_ODD_CASE = {"i": ("ı", "İ"), "I": ("İ", "ı"), "s": ("ſ",), "S": ("ſ",), "k": ("\u212a",)}


def _mutate_word(rnd: random.Random, word: str) -> str:
    roll = rnd.random()
    if roll < 0.15:
        return word.upper()
    if roll < 0.3:
        return word.capitalize()
    if roll < 0.38:
        chars = [c for c in word if c in _ODD_CASE]
        if chars:
            c = rnd.choice(chars)
            return word.replace(c, rnd.choice(_ODD_CASE[c]), 1)
    if roll < 0.45:
        return word.replace("'", "’")
    if roll < 0.5:
        return rnd.choice(("'", "‘", '"', "“")) + word + rnd.choice(("'", "’", '"', "”"))
    if roll < 0.55:
        name = rnd.choice(_NAMES)
        return rnd.choice((name, "@" + name, name + "'s", name + "’s", name.lower()))
    return word


def _random_cases(n: int, seed: int = 20260601) -> list[Case]:
    """Recombined corpus fragments: whole sentences, clauses and word salads, with names, case
    changes, curly quotes, dashes and the characters case folding treats specially."""
    rnd = random.Random(seed)
    # The rows the rules were written against (v2 and blind rows came later, for the model): the
    # recombinations are meant to exercise every rule's matching path, not just its skips.
    sentences = [row["text"] for row in CORPUS[:577]]
    clauses = [c.strip() for s in sentences for c in re.split(r"[,;:.!?()—]", s) if c.strip()]
    words = [w for s in sentences for w in s.split()]
    cases: list[Case] = []
    for _ in range(n):
        parts: list[str] = []
        for _ in range(rnd.randint(1, 4)):
            kind = rnd.random()
            if kind < 0.3:
                piece = rnd.choice(sentences)
            elif kind < 0.65:
                piece = rnd.choice(clauses)
            else:
                piece = " ".join(rnd.choice(words) for _ in range(rnd.randint(2, 12)))
            parts.append(" ".join(_mutate_word(rnd, w) for w in piece.split()))
        text = parts[0]
        for part in parts[1:]:
            text += rnd.choice(_SEPARATORS) + part
        if rnd.random() < 0.1:
            text = rnd.choice((text.lower(), text.upper(), text.title()))
        if rnd.random() < 0.05:
            text = rnd.choice(("  ", "\n", "\t")) + text + rnd.choice((" ", ".", "\n"))
        cases.append((text, rnd.choice(_PEOPLE_POOLS), rnd.random() < 0.5))
    return cases


# --------------------------------------------------------------------------------------------
# Declared keywords are necessary, and the prefilter changes no finding
# --------------------------------------------------------------------------------------------


def _unmatched(matched: Counter[str]) -> list[str]:
    """Rules whose regex matched none of the texts: the keyword check said nothing about them."""
    return sorted(row.id for row in TABLE if not matched[row.id])


# Phrasings of the rules no corpus row happens to use, so every rule's keywords are checked.
_RULE_EXAMPLES: tuple[Case, ...] = (
    ("The outage was due to Bob's config change.", ("Bob",), True),
    ("The regression was traced back to the intern.", (), False),
)


@pytest.mark.slow
def test_corpus_keywords_hold_and_findings_agree() -> None:
    matched: Counter[str] = Counter()
    n = 0
    for text, people, as_cause in _corpus_cases():
        # The keyword check runs every regex and ignores as_cause: once per text is enough.
        _check(text, people, as_cause, matched if as_cause else None)
        n += 1
    assert n == 4 * len(CORPUS)
    for case in _RULE_EXAMPLES:
        _check(*case, matched)
    assert _unmatched(matched) == []  # every rule's regex matched something: not vacuous


@pytest.mark.slow
def test_bench_texts_keywords_hold_and_findings_agree(bench_cases: list[Case]) -> None:
    assert len(bench_cases) > 300
    matched: Counter[str] = Counter()
    for case in bench_cases:
        _check(*case, matched)
    # The bench only plants blame in ~2% of causes; make sure every planted phrase is covered.
    for planted in (
        "The on-call engineer forgot to drain the node.",
        "Root cause: human error.",
        "Ravi Menon failed to check the dashboard before the push.",
    ):
        for as_cause in (True, False):
            _check(planted, bench_cases[0][1], as_cause, matched)
            assert find_blame(planted, people=bench_cases[0][1], as_cause=as_cause)


@pytest.mark.slow
def test_random_recombinations_keywords_hold_and_findings_agree() -> None:
    matched: Counter[str] = Counter()
    flagged = 0
    for text, people, as_cause in _random_cases(2000):
        _check(text, people, as_cause, matched)
        flagged += bool(find_blame(text, people=people, as_cause=as_cause))
    assert flagged > 400  # the generator exercises the matching paths, not just the skips
    assert len(_unmatched(matched)) < 15, _unmatched(matched)


def test_table_rows_are_well_formed() -> None:
    ids = [row.id for row in TABLE]
    assert len(ids) == len(set(ids)) == 63
    assert {row.kind for row in TABLE} == {"individual_blame", "person_as_cause", "human_error"}
    for names in ((), ("Bob",), ("Emma Larsen", "Emma", "Larsen")):
        for rule in rule_set(names):
            assert "{" not in re.sub(r"\{\d*,?\d*\}", "", rule.source), rule.row.id
            assert rule.pattern.pattern == rule.source  # compiles
    with pytest.raises(ValueError):
        check_groups((" Fail",))
    with pytest.raises(ValueError):
        check_groups(("don't",))
    with pytest.raises(ValueError):
        check_groups(("",))


def _holds(group: str, text: str) -> bool:
    return satisfied(requirement(check_groups((group,)), names_present=False), FoldedText(text))


def test_keyword_anchors() -> None:
    assert not _holds(" he | she ", "The thermal shed")
    assert _holds(" he | she ", "then SHE’d") and _holds(" he | she ", "(he)")
    assert _holds(" fail", "FAILED to") and not _holds(" fail", "nofail")
    assert _holds("ed ", "it crashed.") and not _holds("ed ", "edit")
    assert _holds("call", "the oncall SRE") and _holds(" i ", "İ forgot")
    assert requirement(check_groups((NAME,)), names_present=False) is None
    # A group with NAME holds outright in a text that names a participant.
    assert requirement(check_groups(((NAME, " x", " y"),)), names_present=True) == ()


def test_name_keywords() -> None:
    clause = name_clause(("Emma Larsen", "O'Brien", "Zoë", "Li"))
    assert clause is not None
    assert clause.words == {"larsen", "brien", "li"} and clause.needles == (" zo",)
    assert name_clause(("--",)) is None  # no word in it: the names scan cannot be skipped
    assert FoldedText("@EMMA  LARSEN’s").has(name_clause(("Emma Larsen",)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Odd inputs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "people",
    [
        "Bob",  # a bare string means one name
        ["Bob", "Priya"],
        {"Kenji Watanabe"},
        [1, "Bob"],  # not str: normalised with str(), bypasses the participants cache
        ("bob", "Bob", "BOB"),
        ("@Bob", "  Priya   Raman "),
    ],
)
def test_people_shapes_same_findings(people: Collection[Any]) -> None:
    for text in ("Bob forgot to renew it.", "Root cause: priya raman.", "1 failed to page Bob"):
        for as_cause in (True, False):
            _check(text, people, as_cause, Counter())


@pytest.mark.parametrize("text", ["", " ", "\n\t", ".", "ı", "İİ", "x" * 500])
def test_degenerate_texts_same_findings(text: str) -> None:
    for as_cause in (True, False):
        _check(text, ("Bob",), as_cause, Counter())


def test_results_are_blame_matches() -> None:
    found = find_blame("Bob forgot to renew the TLS certificate.", people=["Bob"])
    assert found and all(isinstance(m, BlameMatch) for m in found)


# --------------------------------------------------------------------------------------------
# What the prefilter relies on
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def every_code_point() -> str:
    return "".join(map(chr, range(sys.maxunicode + 1)))


def test_fold_agrees_with_ignorecase(every_code_point: str) -> None:
    """Any character IGNORECASE matches against an ASCII letter folds to that letter."""
    for letter in string.ascii_lowercase:
        for pattern in (letter, letter.upper()):
            for m in re.finditer(pattern, every_code_point, re.IGNORECASE):
                assert fold(m.group()) == letter, (letter, hex(ord(m.group())))
                assert fold("x" + m.group() + "\u00e9") == "x" + letter + "\u00e9"


def test_uncased_literals_match_only_themselves(every_code_point: str) -> None:
    for char in string.digits + string.punctuation + " ’‘“”—–":
        hits = {m.group() for m in re.finditer(re.escape(char), every_code_point, re.IGNORECASE)}
        assert hits == {char}


def test_whitespace_is_never_a_word_character(every_code_point: str) -> None:
    # An element ending in \s makes the next keyword start a word.
    assert re.search(r"(?=\s)\w", every_code_point) is None


# --------------------------------------------------------------------------------------------
# Speed, measured against the reference in the same run
# --------------------------------------------------------------------------------------------


def _seconds(fn: Any, cases: list[Case]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for text, people, as_cause in cases:
            fn(text, people=people, as_cause=as_cause)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.slow
def test_prefilter_speed_up(bench_cases: list[Case]) -> None:
    cases = bench_cases[:300]
    for text, people, as_cause in cases:  # warm the rule-set caches for both paths
        find_blame(text, people=people, as_cause=as_cause)
    ratio = _seconds(_find_blame_reference, cases) / _seconds(find_blame, cases)
    print(f"prefiltered find_blame is {ratio:.1f}x faster than the unfiltered reference")
