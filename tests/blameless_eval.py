"""Score app.rules.blameless against the labelled corpus.

Run from the repo root::

    python -m tests.blameless_eval                 # all / tune / holdout / blind, no misses listed
    python -m tests.blameless_eval --split tune --misses

Misses are only listed for the split you ask for, so tuning can be done on the ``tune`` rows without
reading holdout or blind failures (which would silently turn them into training data). ``blind``
rows are written by someone apart from the model and appended after it is frozen; they are the
honest estimate for unseen phrasing. Between a blind set being folded into training and the next
one being appended the blind split is empty, and its line says "not measured".
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from app.rules.blameless import BlameMatch, detect, find_blame

CORPUS_PATH = Path(__file__).resolve().parent / "unit" / "data" / "blameless_corpus.yaml"

Label = Literal["blameful", "blameless"]
SplitName = Literal["all", "tune", "holdout", "blind"]
_CONTEXTS = frozenset({"summary", "cause", "timeline", "lesson"})
_CATEGORIES = frozenset(
    {
        "individual_blame",
        "person_as_cause",
        "human_error",
        "system_subject",
        "neutral_person",
        "negation",
        "collective",
        "meta",
        "local_rationality",
    }
)


@dataclass(frozen=True)
class Example:
    text: str
    label: Label
    context: str
    category: str
    people: tuple[str, ...] = ()
    split: str = "tune"

    @property
    def as_cause(self) -> bool:
        # A cause statement is judged more strictly, so the corpus context drives the API flag.
        return self.context == "cause"


@dataclass(frozen=True)
class Outcome:
    example: Example
    matches: tuple[BlameMatch, ...]

    @property
    def predicted(self) -> bool:
        return bool(self.matches)

    @property
    def correct(self) -> bool:
        return self.predicted == (self.example.label == "blameful")


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    kind_agree: int = 0
    misses: list[Outcome] = field(default_factory=list)
    missed_by_category: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        # With no positive predictions precision is vacuous; report it as perfect only when nothing
        # was missed either, so an empty detector cannot pass the threshold.
        if self.tp + self.fp == 0:
            return 1.0 if self.fn == 0 else 0.0
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        if self.tp + self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def load_corpus(path: Path = CORPUS_PATH) -> list[Example]:
    """Parse and validate the corpus; a typo in a label would otherwise skew the scores silently."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a YAML list of rows")
    examples: list[Example] = []
    for i, row in enumerate(raw):
        where = f"{path.name} row {i + 1}"
        if not isinstance(row, dict):
            raise ValueError(f"{where}: expected a mapping")
        unknown = set(row) - {"text", "label", "context", "category", "people", "split"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        label = row.get("label")
        if label not in ("blameful", "blameless"):
            raise ValueError(f"{where}: bad label {label!r}")
        if row.get("context") not in _CONTEXTS:
            raise ValueError(f"{where}: bad context {row.get('context')!r}")
        if row.get("category") not in _CATEGORIES:
            raise ValueError(f"{where}: bad category {row.get('category')!r}")
        split = row.get("split", "tune")
        if split not in ("tune", "holdout", "blind"):
            raise ValueError(f"{where}: bad split {split!r}")
        examples.append(
            Example(
                text=str(row["text"]),
                label=label,
                context=row["context"],
                category=row["category"],
                people=tuple(str(p) for p in row.get("people") or ()),
                split=split,
            )
        )
    return examples


def select(examples: Iterable[Example], split: SplitName) -> list[Example]:
    return [e for e in examples if split == "all" or e.split == split]


Detector = Callable[..., list[BlameMatch]]
DETECTORS: dict[str, Detector] = {"detect": detect, "rules": find_blame}


def evaluate(examples: Sequence[Example], detector: Detector = detect) -> Scores:
    """Score ``detector`` (the shipped one, rules + model, unless told) on ``examples``."""
    scores = Scores()
    for ex in examples:
        matches = tuple(detector(ex.text, people=ex.people, as_cause=ex.as_cause))
        outcome = Outcome(ex, matches)
        gold = ex.label == "blameful"
        if gold and outcome.predicted:
            scores.tp += 1
            if any(m.kind == ex.category for m in matches):
                scores.kind_agree += 1
        elif gold:
            scores.fn += 1
        elif outcome.predicted:
            scores.fp += 1
        else:
            scores.tn += 1
        if not outcome.correct:
            scores.misses.append(outcome)
            scores.missed_by_category[ex.category] += 1
    return scores


def format_scores(name: str, scores: Scores) -> str:
    if scores.total == 0:
        # An empty split has no figure: say so rather than print a vacuous P=1.000 R=1.000.
        return f"{name:<8} n=0    no rows: not measured"
    kind = f"{scores.kind_agree}/{scores.tp}" if scores.tp else "n/a"
    return (
        f"{name:<8} n={scores.total:<4} P={scores.precision:.3f} R={scores.recall:.3f} "
        f"F1={scores.f1:.3f}  tp={scores.tp} fp={scores.fp} fn={scores.fn} tn={scores.tn}  "
        f"kind-agreement={kind}"
    )


def format_misses(scores: Scores) -> str:
    lines = []
    if scores.missed_by_category:
        per_cat = ", ".join(f"{c}={n}" for c, n in sorted(scores.missed_by_category.items()))
        lines.append(f"  misses by category: {per_cat}")
    for o in scores.misses:
        tag = "FP" if o.predicted else "FN"
        ex = o.example
        hits = "; ".join(f"{m.kind}:{m.phrase!r}" for m in o.matches)
        suffix = f" -> {hits}" if hits else ""
        lines.append(f"  {tag} [{ex.category}/{ex.context}] {ex.text!r}{suffix}")
    return "\n".join(lines)


def report(
    examples: Sequence[Example],
    *,
    misses_for: SplitName | None = None,
    detector: Detector = detect,
) -> str:
    """Whole-corpus and per-split figures, plus misses for one split on request."""
    parts = [
        format_scores(name, evaluate(select(examples, name), detector))
        for name in ("all", "tune", "holdout", "blind")
    ]
    if misses_for is not None:
        detail = format_misses(evaluate(select(examples, misses_for), detector))
        parts.append(f"misses ({misses_for}):\n{detail or '  none'}")
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS_PATH)
    parser.add_argument("--split", choices=("all", "tune", "holdout", "blind"), default="tune")
    parser.add_argument("--misses", action="store_true", help="list misses for --split")
    parser.add_argument(
        "--detector",
        choices=sorted(DETECTORS),
        default="detect",
        help="detect: the shipped detector (rules + model); rules: the table alone",
    )
    args = parser.parse_args(argv)
    examples = load_corpus(args.corpus)
    detector = DETECTORS[args.detector]
    print(report(examples, misses_for=args.split if args.misses else None, detector=detector))
    return 0


if __name__ == "__main__":
    sys.exit(main())
