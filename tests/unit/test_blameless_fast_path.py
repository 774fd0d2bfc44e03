"""The fast scan (word-mask prefilter, precomputed model weights) must change nothing but speed.

A straightforward reference of ``ensemble.detect`` lives here: every rule's regex on every text
(``_find_blame_reference``), and each sentence scored from the model file itself, as the full
sublinear tf-idf vector of ``features.features``. The packaged detector must give the same
findings, kinds, spans, phrases, advice and rule ids, and scores to 1e-9, on every corpus row and
on the texts ``bench/rules.py`` scans. Nothing is hard-coded, so it keeps holding when the model
file is retrained.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace
from importlib import resources
from typing import Any

import pytest

from app.rules.blameless import BlameMatch, advice, detect
from app.rules.blameless import model as blame_model
from app.rules.blameless.detector import _find_blame_reference, participants
from app.rules.blameless.features import features
from app.rules.blameless.sentences import sentences

from .test_blameless_speed import _bench_cases, _corpus_cases

_DATA: dict[str, Any] = json.loads(
    resources.files("app.rules.blameless").joinpath(blame_model.MODEL_FILE).read_text("utf-8")
)


def _reference_score(sentence: str, names: tuple[str, ...], as_cause: bool) -> float:
    rows = _DATA["features"]
    counts = Counter(f for f in features(sentence, names, as_cause) if f in rows)
    vec = {f: (1.0 + math.log(n)) * rows[f][0] for f, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values()))
    margin = _DATA["intercept"] + (
        sum(v * rows[f][1] for f, v in vec.items()) / norm if norm else 0
    )
    return 1.0 / (1.0 + math.exp(-margin))


def _reference_detect(text: str, people: tuple[str, ...], as_cause: bool) -> list[BlameMatch]:
    if not text.strip():
        return []
    model = blame_model.load()
    cut, veto = float(_DATA["card"]["threshold"]), float(_DATA["card"].get("veto", 0.0))
    names = participants(people)
    pointed = _find_blame_reference(text, people=people, as_cause=as_cause)
    out: list[BlameMatch] = []
    for sent in sentences(text):
        score = _reference_score(sent.text, names, as_cause)
        inside = [m for m in pointed if sent.start <= m.start < sent.end]
        if inside and score >= veto:
            out += [replace(m, score=score) for m in inside]
        elif score >= cut and len(sent.text.split()) >= 3:
            verdict = model.verdict(sent.text, names, as_cause)
            lo, hi = model.point(sent.text, names, as_cause)
            message, suggestion = advice.for_model(verdict.kind, sent.text, as_cause)
            start, end = sent.start + lo, sent.start + hi
            out.append(
                BlameMatch(
                    verdict.kind,
                    start,
                    end,
                    text[start:end],
                    message,
                    suggestion,
                    model.id,
                    verdict.score,
                )
            )
    return out


def _same(text: str, people: tuple[str, ...], as_cause: bool) -> None:
    fast = detect(text, people=people, as_cause=as_cause)
    slow = _reference_detect(text, people, as_cause)
    assert [replace(m, score=0.0) for m in fast] == [replace(m, score=0.0) for m in slow], text
    for a, b in zip(fast, slow, strict=True):
        assert abs(a.score - b.score) <= 1e-9, (text, a, b)


def test_fast_detect_equals_reference_on_the_corpus() -> None:
    for text, people, as_cause in _corpus_cases():
        _same(text, people, as_cause)


@pytest.mark.slow
def test_fast_detect_equals_reference_on_the_bench_texts() -> None:
    for text, people, as_cause in _bench_cases(40):
        _same(text, people, as_cause)


def test_fast_margin_equals_full_vector_margin() -> None:
    model = blame_model.load()
    for text, people, as_cause in _corpus_cases():
        names = participants(people)
        for sent in sentences(text):
            fast = model.decision(sent.text, names, as_cause)
            assert abs(fast - model.margin(sent.text, names, as_cause)) <= 1e-9, sent.text
