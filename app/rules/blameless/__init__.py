"""Blameless-language detection for postmortem prose.

A blameless postmortem explains an incident through the conditions that made an action reasonable
at the time (tooling, signals, process), because naming a culprit ends the investigation early and
teaches people to hide mistakes. This module flags three kinds of wording that undo that:

* ``individual_blame``: a person, role or pronoun is the subject of an omission or a character
  judgement ("Bob forgot to", "the on-call engineer was careless", "should have known").
* ``person_as_cause``: a participant is named as the cause ("root cause: Bob", "the intern broke
  prod", "Alice's change caused the outage").
* ``human_error``: "human/operator/user error" offered as the explanation.

It is deliberately heuristic (regular expressions plus a few context checks), not NLP: it needs no
model or I/O, costs tens of microseconds per sentence (each rule's regex only runs when the text
holds the words the regex cannot match without, see ``prefilter``), and is predictable
enough that authors can see why a phrase was flagged. The rules lean on *who the grammatical subject
is*: "the deploy failed to complete" is a system fact, "Kenji failed to acknowledge the page" is
blame. Verbs that are ambiguous between people and systems ("failed to", "ignored", "broke") only
count with a person subject; verbs that only people do ("forgot", "neglected", "didn't bother")
count unless the subject is clearly a system. Negated and quoted uses ("this was not anyone's
fault", avoid 'careless') are mentions, not blame, and are skipped.

The rules are a table (``table.TABLE``: ``rows_subject``, ``rows_phrases``, ``rows_causes``), one
row per rule with a stable id, its kind, its regex (built from the shared fragments of
``vocabulary``), the keywords it cannot match without, its advice and an optional context check
(``checks``); ``detector`` runs them.

Measured against ``tests/unit/data/blameless_corpus.yaml`` by ``python -m tests.blameless_eval``.
Precision holds up on unseen text (~0.94 on the never-tuned "blind" rows); recall does not (~0.6):
blame has a long tail of paraphrases ("Nobody bothered to", "the fault of the release engineer",
"chose to ignore") that a phrase list only covers once someone has seen them. Treat a clean result
as "no known blame pattern", not as "blameless".
"""

from __future__ import annotations

from .detector import BlameKind, BlameMatch, find_blame, is_blameful
from .ensemble import detect

__all__ = ["BlameKind", "BlameMatch", "detect", "find_blame", "is_blameful"]
