"""The streamed corpus weighs terms exactly as TfidfVectorizer; earlier actions stay packed."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from pydantic import ValidationError
from sklearn.feature_extraction.text import TfidfVectorizer

from app.schemas.earlier_actions import EarlierAction, EarlierActions
from app.schemas.recurrence import RecurrenceReport, Repeat
from app.search import labelled
from app.search.corpus import Profile, Terms, from_profiles


def test_terms_give_the_vectorizers_matrix_number_for_number() -> None:
    """Counted text by text (as the database streams them), the rows are TfidfVectorizer's."""
    profiles, _ = labelled.generate(seed=2)
    texts = [p.text for p in profiles]
    terms = Terms()
    for text in texts:
        terms.add(text)
    ours = terms.matrix()
    theirs = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
    assert ours.shape == theirs.shape
    assert np.array_equal(ours.toarray(), theirs.toarray())


def test_texts_without_a_word_give_one_empty_column() -> None:
    terms = Terms()
    for text in ["the", "", "a an"]:
        terms.add(text)
    matrix = terms.matrix()
    assert matrix.shape == (3, 1) and matrix.nnz == 0


def test_equal_sets_are_shared_between_incidents() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    corpus = from_profiles(
        [
            Profile("INC-1", at, frozenset({"search"}), frozenset({"capacity"}), "disk full"),
            Profile("INC-2", at, frozenset({"search"}), frozenset({"capacity"}), "disk full"),
        ]
    )
    assert corpus.services[0] is corpus.services[1]
    assert corpus.categories[0] is corpus.categories[1]
    assert corpus.keys == ["INC-1", "INC-2"] and corpus.matrix.shape[0] == 2


ACTIONS = [("ACT-1", "done", "ineffective"), ("ACT-2", "open", "open")]


def report(actions: EarlierActions) -> RecurrenceReport:
    body = {
        "computed_at": datetime(2026, 1, 1, tzinfo=UTC),
        "repeats": [Repeat("INC-2", "INC-1", 0.9, ["same service: a"], actions)],
        "rates": {
            "by_service": [],
            "by_category": [],
            "repeats": 1,
            "after_actions_done": 0,
            "with_actions_not_done": 1,
        },
    }
    return RecurrenceReport.model_validate(body)


def test_packed_actions_read_and_serialise_as_a_list_of_objects() -> None:
    packed = EarlierActions.of(ACTIONS)
    assert len(packed) == 2 and packed[1] == EarlierAction("ACT-2", "open", "open")
    assert packed.verdicts() == ["ineffective", "open"]
    first = report(packed)
    dumped = first.model_dump(mode="json")["repeats"][0]["earlier_actions"]
    assert dumped == [
        {"key": "ACT-1", "status_at_repeat": "done", "verdict": "ineffective"},
        {"key": "ACT-2", "status_at_repeat": "open", "verdict": "open"},
    ]
    again = RecurrenceReport.model_validate_json(first.model_dump_json())  # as the cache does
    assert isinstance(again.repeats[0].earlier_actions, EarlierActions)
    assert again == first
    assert EarlierActions.of([]).verdicts() == [] and list(EarlierActions.of([])) == []


def test_a_key_holding_a_separator_is_kept_whole() -> None:
    odd = [("ACT\x1f1", "done", "too_late"), ("ACT\x1e2", "open", "open")]
    packed = EarlierActions.columns(*(list(c) for c in zip(*odd, strict=True)))
    assert [(a.key, a.status_at_repeat, a.verdict) for a in packed] == odd
    assert packed.verdicts() == ["too_late", "open"]


def test_bad_earlier_actions_are_refused_with_their_path() -> None:
    body = report(EarlierActions.of(ACTIONS)).model_dump(mode="json")
    body["repeats"][0]["earlier_actions"] = [{"key": "ACT-1"}]
    with pytest.raises(ValidationError) as caught:
        RecurrenceReport.model_validate(body)
    assert "verdict" in str(caught.value)
