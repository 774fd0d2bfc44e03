"""The one detector every reader uses: the rules table points, the model decides.

``detect`` reads a text sentence by sentence. The learned classifier (:mod:`.model`) scores each
sentence; the table rules (:func:`.detector.find_blame`) find the phrases they know. A sentence is
blame when the model's score reaches the threshold, or when a rule matches in it (and the model
does not score it below the veto, 0 unless the model card says otherwise). A flagged sentence is
reported through its rule matches when it has any (their kind, phrase and advice, with the
model's score); otherwise through the model: its kind head, the words that raised its score most,
and the advice for that kind. ``hindsight lint``, the language policy behind the API findings and
any other reader call this function, so they agree on every text.

Measured by ``python -m tests.blameless_eval``; how the design was chosen is in the README.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from . import advice
from .detector import BlameMatch, find_blame, participants
from .model import BlameModel, load
from .sentences import sentences

# The model alone does not decide on a fragment this short (a wrapped line's "once."): one or two
# words fill the whole tf-idf vector, so a single cue word reads as certainty. Rules still apply.
_MIN_WORDS = 3


def detect(
    text: str,
    *,
    people: Collection[str] = (),
    as_cause: bool = False,
    threshold: float | None = None,
    model: BlameModel | None = None,
) -> list[BlameMatch]:
    """Blame in ``text``, ordered by position; ``threshold`` None means the model card's."""
    if not text or not text.strip():
        return []
    model = model or load()
    cut = float(model.card["threshold"]) if threshold is None else threshold
    veto = float(model.card.get("veto", 0.0))
    names = participants(people)
    pointed = find_blame(text, people=people, as_cause=as_cause)
    out: list[BlameMatch] = []
    for sent in sentences(text):
        score = model.score(sent.text, names, as_cause)
        inside = [m for m in pointed if sent.start <= m.start < sent.end]
        if inside and score >= veto:
            out += [replace(m, score=score) for m in inside]
        elif score >= cut and len(sent.text.split()) >= _MIN_WORDS:
            verdict = model.verdict(sent.text, names, as_cause)  # the kind head, when needed
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
