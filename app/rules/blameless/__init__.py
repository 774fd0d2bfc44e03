"""Blameless-language detection for postmortem prose.

A blameless postmortem explains an incident through the conditions that made an action reasonable
at the time (tooling, signals, process), because naming a culprit ends the investigation early and
teaches people to hide mistakes. This module flags three kinds of wording that undo that:

* ``individual_blame``: a person, role or pronoun is the subject of an omission or a character
  judgement ("Bob forgot to", "the on-call engineer was careless", "should have known").
* ``person_as_cause``: a participant is named as the cause ("root cause: Bob", "the intern broke
  prod", "Alice's change caused the outage").
* ``human_error``: "human/operator/user error" offered as the explanation.

Two parts, one decision (``ensemble.detect``, which ``hindsight lint`` and the language policy
behind the API findings both call):

* the **rules table** (``table.TABLE``: ``rows_subject``, ``rows_phrases``, ``rows_causes``), one
  row per rule with a stable id, its kind, its regex (built from the shared fragments of
  ``vocabulary``), the keywords it cannot match without (checked by ``prefilter`` before the
  regex runs), its advice and an optional context check (``checks``); ``detector.find_blame``
  runs them. Rules are precise and good at *pointing*: the phrase, the kind, the advice. They
  lean on who the grammatical subject is ("the deploy failed to complete" is a system fact,
  "Kenji failed to acknowledge the page" is blame) and skip negated and quoted mentions.
* the **learned classifier** (``model``, ``features``): logistic regression over word,
  role-class and character n-grams, trained by ``tools/train_blame.py`` on the labelled corpus
  and shipped as ``blame_model.json``. It is good at *deciding*: it catches paraphrases no rule
  has seen ("Nobody bothered to", "the fault of the release engineer").

A sentence is blame when a rule matches in it or the model scores it at the threshold
(``language.threshold`` in ``config/policy.yaml``). Measured against
``tests/unit/data/blameless_corpus.yaml`` by ``python -m tests.blameless_eval``: on the holdout
rows with a model trained on tune alone, precision 0.904, recall 0.941 (the rules alone: 0.975 /
0.627); the blind figure is measured once the fresh blind set (v4) is appended (see the README).
Text is cut into sentences by :mod:`.sentences` (a paragraph's wrapped lines are joined).
Treat a clean result as "nothing that reads as blame to this detector", not as proof.
"""

from __future__ import annotations

from .detector import BlameKind, BlameMatch, find_blame, is_blameful
from .ensemble import detect

__all__ = ["BlameKind", "BlameMatch", "detect", "find_blame", "is_blameful"]
