"""The keyword prefilter in app.rules.blameless must change nothing but speed.

``find_blame`` skips rules whose mandatory words (derived by app.rules.blameless_prefilter from
each pattern) are absent from a text; ``_find_blame_reference`` runs every rule as before. These
tests compare the two on the labelled corpus, on the texts bench/rules.py scans and on seeded
random recombinations, check per rule that no text a pattern matches is ever filtered out, check
the case folding the filter relies on against the regex engine, and measure the speed-up in the
same run (a ratio, not a wall-clock bound).
"""

from __future__ import annotations

import importlib.util
import random
import re
import string
import sys
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.rules import blameless
from app.rules.blameless import BlameMatch, _find_blame_reference, find_blame
from app.rules.blameless_prefilter import (
    SLOT,
    Derived,
    FoldedText,
    Keyword,
    derive,
    fill,
    fold,
    requirements,
    satisfied,
)

ROOT = Path(__file__).resolve().parents[2]
CORPUS = yaml.safe_load((ROOT / "tests" / "unit" / "data" / "blameless_corpus.yaml").read_text())

Case = tuple[str, tuple[str, ...], bool]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _check(text: str, people: Collection[str], as_cause: bool, *, per_rule: bool = True) -> None:
    """Same findings either way, and (``per_rule``) no rule a text matches is skipped."""
    fast = find_blame(text, people=people, as_cause=as_cause)
    slow = _find_blame_reference(text, people=people, as_cause=as_cause)
    assert fast == slow, (text, people, as_cause)
    if per_rule and text.strip():
        _check_rules(text, people)


def _check_rules(text: str, people: Collection[str]) -> None:
    """Every rule (cause-only ones too) whose regex matches ``text`` passes the prefilter, so
    a skipped rule can never have mattered; checked directly, not only through the findings,
    which context checks and de-duplication could make agree by luck."""
    names = blameless._normalise_people(people)
    folded = FoldedText(text)
    present = blameless._present(names, text)
    assert blameless._present(names, text, folded) == present, (text, people)
    for i, rule in enumerate(blameless._rules(present)):
        if rule.pattern.search(text):
            assert satisfied(rule.needs, folded), (i, rule.pattern.pattern[:80], text, present)
    if names:
        scanner, needs = blameless._name_scanner(names)
        if scanner.search(text):
            assert satisfied(needs, folded), (text, names)


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
    sentences = [row["text"] for row in CORPUS]
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
# Equivalence
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_corpus_same_findings() -> None:
    n = 0
    for text, people, as_cause in _corpus_cases():
        _check(text, people, as_cause, per_rule=as_cause)  # the rule check ignores as_cause
        n += 1
    assert n == 4 * len(CORPUS)


@pytest.mark.slow
def test_bench_texts_same_findings(bench_cases: list[Case]) -> None:
    assert len(bench_cases) > 300
    for case in bench_cases:
        _check(*case)
    # The bench only plants blame in ~2% of causes; make sure every planted phrase is covered.
    for planted in (
        "The on-call engineer forgot to drain the node.",
        "Root cause: human error.",
        "Ravi Menon failed to check the dashboard before the push.",
    ):
        for as_cause in (True, False):
            _check(planted, bench_cases[0][1], as_cause)
            assert find_blame(planted, people=bench_cases[0][1], as_cause=as_cause)


@pytest.mark.slow
def test_random_recombinations_same_findings() -> None:
    cases = _random_cases(2000)
    flagged = 0
    for text, people, as_cause in cases:
        _check(text, people, as_cause)
        flagged += bool(find_blame(text, people=people, as_cause=as_cause))
    assert flagged > 400  # the generator exercises the matching paths, not just the skips


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
            _check(text, people, as_cause)


@pytest.mark.parametrize("text", ["", " ", "\n\t", ".", "ı", "İİ", "x" * 500])
def test_degenerate_texts_same_findings(text: str) -> None:
    for as_cause in (True, False):
        _check(text, ("Bob",), as_cause)


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


def _derived(pattern: str, slot: bool = False) -> Derived:
    return derive(pattern, re.IGNORECASE, slot=slot)


def test_derivation_examples() -> None:
    kw = Keyword
    assert _derived(r"\bforgot\b") == (frozenset({kw("forgot", True, True)}),)
    assert _derived(r"fail(?:ed|s)?\s+to") == (
        frozenset({kw("fail")}),
        frozenset({kw("to", True)}),
    )
    assert _derived(r"\b(?:he|she)\s+left") == (
        frozenset({kw("he", True, True), kw("she", True, True)}),
        frozenset({kw("left", True)}),
    )
    assert _derived(r"(?:foo|\w+)bar") == (frozenset({kw("bar")}),)  # \w+ alternative: free
    assert _derived(r"(?:foo)?bar") == (frozenset({kw("bar")}),)
    assert _derived(r"x(?!)") is None
    assert _derived(r"(?:(?!)|foo)bar") == (frozenset({kw("foo")}), frozenset({kw("bar")}))
    assert _derived(r"(?<![\w@])bob(?![\w@])") == (frozenset({kw("bob", True, True)}),)
    assert _derived(r"(?![^\w])bob") == (frozenset({kw("bob")}),)  # NEGATE: not an anchor
    assert _derived(r"don[’']t") == (  # the apostrophe ends "don" and starts "t"
        frozenset({kw("don", False, True)}),
        frozenset({kw("t", True, False)}),
    )
    assert _derived(r"zoë") == ()  # non-ASCII keywords are not kept
    for flags, source in ((re.ASCII, r"\bfoo"), (0, r"(?a)\bfoo"), (0, r"(?a:\bfoo)")):
        with pytest.raises(ValueError):
            derive(source, flags)


@pytest.mark.slow
def test_fill_matches_direct_derivation() -> None:
    template = _derived(r"(?:(?!)|\bhe\b)\s+forgot", slot=True)
    assert template is not None and any(SLOT in c for c in template)
    assert fill(template, None) == _derived(r"(?:(?!)|\bhe\b)\s+forgot")
    names = r"(?<![\w@])@?(?:Emma\s+Larsen|Emma)(?![\w@])"
    direct = _derived(rf"(?:{names}|\bhe\b)\s+forgot")
    assert fill(template, _derived(names)) == direct
    # Every real rule set: templates filled with the names equal deriving the rules directly.
    for names_set in ((), ("Bob",), ("Emma", "Emma Larsen", "Larsen"), ("O'Brien", "Zoë")):
        rules = blameless._rules(names_set)
        direct_needs = requirements(derive(rule.source, rule.pattern.flags) for rule in rules)
        for rule, need in zip(rules, direct_needs, strict=True):
            assert _clause_sets(rule.needs) == _clause_sets(need), rule.pattern.pattern[:80]


def _clause_sets(req: Any) -> Any:
    if req is None:
        return None
    return {(c.words, c.spaced, c.plain) for c in req}


def test_anchored_words_do_not_hit_inside_words() -> None:
    (needs,) = requirements([_derived(r"\b(?:he|she)\b")])
    assert not satisfied(needs, FoldedText("The thermal shed"))
    assert satisfied(needs, FoldedText("then SHE’d"))
    assert satisfied(needs, FoldedText("(he)"))


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
def test_prefilter_is_faster(bench_cases: list[Case]) -> None:
    cases = bench_cases[:300]
    for text, people, as_cause in cases:  # warm the rule-set caches for both paths
        find_blame(text, people=people, as_cause=as_cause)
    ratio = _seconds(_find_blame_reference, cases) / _seconds(find_blame, cases)
    assert ratio >= 3, f"prefiltered find_blame only {ratio:.1f}x faster than the reference"
