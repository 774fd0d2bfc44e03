"""Train the blame classifier from the labelled corpus and compare it with the alternatives.

    .venv/bin/python tools/train_blame.py            # train, compare, write the model file
    .venv/bin/python tools/train_blame.py --check    # retrain and fail if the file would change

Needs the ``train`` extra (scikit-learn); the embedding candidate also needs ``embed`` and is
skipped, saying so, when it is not installed. Training is seeded and deterministic, so the same
corpus always gives the same file (``--check`` proves it). Regularisation is chosen by stratified
5-fold cross-validation on tune, the decision threshold by the out-of-fold scores on tune, the
candidate by the holdout figures of models trained on tune alone; the shipped model is then refit
on tune + holdout with those settings. The blind rows are scored and printed, and used for
nothing else.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

from app.rules.blameless import detector  # noqa: E402
from app.rules.blameless.features import features, words  # noqa: E402
from app.rules.blameless.model import FORMAT, MODEL_FILE, BlameModel  # noqa: E402
from app.rules.blameless.rule import KINDS  # noqa: E402
from app.rules.blameless.sentences import sentences  # noqa: E402
from tests.blameless_eval import CORPUS_PATH, Example, load_corpus, select  # noqa: E402

OUT = ROOT / "app" / "rules" / "blameless" / MODEL_FILE
SEED = 1729
C_GRID = (4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
KIND_ORDER = tuple(sorted(KINDS))
Units = list[list[tuple[str, tuple[str, ...], bool]]]  # per row: its sentences, names, as_cause


@dataclass(frozen=True)
class Figures:
    precision: float
    recall: float

    def __str__(self) -> str:
        return f"P={self.precision:.3f} R={self.recall:.3f}"


def figures(pred: Sequence[bool], gold: Sequence[bool]) -> Figures:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    return Figures(tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 1.0)


def units(rows: Sequence[Example]) -> Units:
    """Each row as the sentences the detector will see, with its participants and statement kind."""
    out: Units = []
    for ex in rows:
        names = detector.participants(ex.people)
        out.append([(s.text, names, ex.as_cause) for s in sentences(ex.text)])
    return out


def row_features(rows: Sequence[Example]) -> list[list[str]]:
    """Training features: a row is one document (its label is the row's, not a sentence's)."""
    out = []
    for ex in rows:
        out.append(features(ex.text, detector.participants(ex.people), ex.as_cause))
    return out


def fit(docs: list[list[str]], y: Sequence[int], c: float) -> tuple[Any, Any]:
    vec = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True, min_df=2, lowercase=False)
    x = vec.fit_transform(docs)
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, solver="liblinear")
    clf.fit(x, y)
    return vec, clf


_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "was",
        "were",
        "is",
        "are",
        "be",
        "been",
        "it",
        "this",
        "that",
    ]
)


def phrasing_groups(rows: Sequence[Example]) -> list[int]:
    """Rows written from one phrasing template share a group: content words (participant names
    masked) overlapping by Jaccard >= 0.5 link two rows, and groups are the linked components.

    Cross-validation folds keep a group together, so a row's out-of-fold score never comes from a
    model that saw its near-twin ("Bob forgot to renew the certificate" / "Bob forgot to renew the
    domain"): the figure then estimates phrasing the model has not seen, not memory."""
    bags = [
        frozenset(w for w in words(e.text, detector.participants(e.people)) if w not in _STOP)
        for e in rows
    ]
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(bags):
        for j in range(i + 1, len(bags)):
            b = bags[j]
            if a and b and len(a & b) >= 0.5 * len(a | b):
                parent[root(i)] = root(j)
    return [root(i) for i in range(len(rows))]


def folds_of(y: Sequence[int], groups: Sequence[int]) -> list[tuple[Any, Any]]:
    """Five stratified folds that keep each phrasing group whole (seeded)."""
    cv = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=SEED)
    return list(cv.split(np.zeros(len(y)), y, groups))


def oof_scores(
    rows: Sequence[Example], docs: list[list[str]], y: Sequence[int], c: float, folds: list
):
    """Out-of-fold scores on tune, each row scored as the detector scores it (its most blameful
    sentence), folds grouped by phrasing: the honest tune figure for a learned model."""
    out = np.zeros(len(docs))
    for train, test in folds:
        vec, clf = fit([docs[i] for i in train], [y[i] for i in train], c)
        for i in test:
            x = vec.transform([features(*s) for s in units([rows[i]])[0]])
            out[i] = clf.predict_proba(x)[:, 1].max()
    return out


def choose_c(
    rows: Sequence[Example], docs: list[list[str]], y: Sequence[int], folds: list
) -> tuple[float, np.ndarray]:
    from sklearn.metrics import log_loss

    best: tuple[float, float, np.ndarray] | None = None
    for c in C_GRID:
        scores = oof_scores(rows, docs, y, c, folds)
        loss = log_loss(y, scores)
        print(f"  C={c:<5} out-of-fold log-loss {loss:.4f}")
        if best is None or loss < best[0]:
            best = (loss, c, scores)
    assert best is not None
    return best[1], best[2]


def choose_threshold(
    rule_hits: Sequence[bool], scores: np.ndarray, gold: Sequence[bool], veto: bool = False
) -> tuple[float, float]:
    """The (threshold, veto) pair with the best F1 on out-of-fold scores: a sentence is flagged
    when the model scores it at the threshold or above, or when a rule matches it and the model
    scores it at the veto or above. Ties go to the lower threshold and the lower veto."""
    best = (-1.0, 0.5, 0.0)
    vetoes = np.arange(0.0, 0.51, 0.05) if veto else np.array([0.0])
    for t in np.arange(0.30, 0.91, 0.01):
        for v in vetoes:
            pred = [(r and s >= v) or s >= t for r, s in zip(rule_hits, scores, strict=True)]
            f = figures(pred, gold)
            f1 = 2 * f.precision * f.recall / (f.precision + f.recall or 1)
            if f1 > best[0] + 1e-9:
                best = (f1, round(float(t), 2), round(float(v), 2))
    return best[1], best[2]


def choose_operating_point(
    rule_hits: Sequence[bool], scores: Sequence[float], gold: Sequence[bool], floor: float = 0.93
) -> tuple[float, float]:
    """The (threshold, veto) pair with the most precision at recall >= ``floor`` on the holdout
    (ties to the higher recall, then the lower threshold): issue 11 asks for 0.9 of each on unseen
    phrasing. On the v4 blind set the model chosen the other way (most recall at holdout
    precision >= 0.9) kept its recall (0.937) but lost precision (0.892); on v5 the model chosen
    this way with a 0.92 floor kept precision (0.953) but lost recall (0.829, holdout 0.923).
    Precision held up on both new writers and recall fell on both, so the floor is now 0.93: the
    holdout (mostly rows by the corpus's own writers, plus a quarter of v5) overstates recall on
    new writers more than it overstates precision. The veto lets the model overrule a rule hit
    it scores low (a quoted "human error", a system that "forgot")."""
    best = (-1.0, -1.0, 0.5, 0.0)
    for t in np.arange(0.30, 0.91, 0.01):
        for v in np.arange(0.0, 0.31, 0.05):
            pred = [(r and s >= v) or s >= t for r, s in zip(rule_hits, scores, strict=True)]
            f = figures(pred, gold)
            if f.recall >= floor and (f.precision, f.recall) > best[:2]:
                best = (f.precision, f.recall, round(float(t), 2), round(float(v), 2))
    return best[2], best[3]


def export(vec: Any, clf: Any, kind_clf: Any, card: dict[str, Any]) -> dict[str, Any]:
    names = vec.get_feature_names_out()
    kind_rows = [list(kind_clf.classes_).index(k) for k in KIND_ORDER]
    rows = {}
    for j, name in enumerate(names):
        kw = [float(kind_clf.coef_[r][j]) for r in kind_rows]
        rows[str(name)] = [_r(vec.idf_[j]), _r(clf.coef_[0][j]), *map(_r, kw)]
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
    return {
        "format": FORMAT,
        "id": f"model.blame_lr.{digest[:8]}",
        "card": card,
        "kinds": list(KIND_ORDER),
        "intercept": _r(clf.intercept_[0]),
        "kind_intercepts": [_r(kind_clf.intercept_[r]) for r in kind_rows],
        "features": rows,
    }


def _r(x: float) -> float:
    return float(f"{float(x):.6g}")


def fit_kinds(rows: Sequence[Example], vec: Any, c: float) -> Any:
    blameful = [ex for ex in rows if ex.label == "blameful"]
    x = vec.transform(row_features(blameful))
    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    clf.fit(x, [ex.category for ex in blameful])
    return clf


def rows_flagged(score: Callable[[str, tuple[str, ...], bool], float], u: Units, t: float) -> list:
    return [any(score(*s) >= t for s in row) for row in u]


def rule_flags(rows: Sequence[Example]) -> list[bool]:
    return [bool(detector.find_blame(e.text, people=e.people, as_cause=e.as_cause)) for e in rows]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the model file would change")
    parser.add_argument("--no-embed", action="store_true", help="skip the embedding candidate")
    args = parser.parse_args(argv)
    corpus = load_corpus()
    split = {name: select(corpus, name) for name in ("tune", "holdout", "blind")}  # type: ignore
    gold = {k: [e.label == "blameful" for e in v] for k, v in split.items()}
    tune = split["tune"]
    docs, y = row_features(tune), [int(g) for g in gold["tune"]]
    print(f"corpus: {len(tune)} tune, {len(split['holdout'])} holdout, {len(split['blind'])} blind")
    groups = phrasing_groups(tune)
    print(f"  {len(set(groups))} phrasing groups among {len(tune)} tune rows")
    folds = folds_of(y, groups)
    c, oof = choose_c(tune, docs, y, folds)
    rules_tune = rule_flags(tune)
    vec, clf = fit(docs, y, c)
    card: dict[str, Any] = {"trained_by": "tools/train_blame.py", "seed": SEED, "C": c}
    card["cv"] = "5 folds, stratified, grouped by phrasing (Jaccard >= 0.5 of content words)"
    card["corpus_sha256"] = hashlib.sha256(CORPUS_PATH.read_bytes()).hexdigest()
    card["rows"] = {k: len(v) for k, v in split.items()}
    model = BlameModel(export(vec, clf, fit_kinds(tune, vec, c), card))
    _check_agreement(model, vec, clf, tune)
    hold = [max(model.verdict(*s).score for s in row) for row in units(split["holdout"])]
    threshold, veto = choose_operating_point(rule_flags(split["holdout"]), hold, gold["holdout"])
    card["threshold"], card["veto"] = threshold, veto
    print(f"  operating point on holdout: threshold {threshold}, veto {veto}")
    from compare_blame import compare  # the candidate table: tools/compare_blame.py

    chosen = (threshold, veto)
    card["figures"] = compare(model, split, gold, oof, rules_tune, chosen, not args.no_embed)
    # Chosen: refit on every row that is not blind (tune + holdout) with the same C, threshold
    # and seed; the holdout column above is the tune-only model's, the blind rows stay unseen.
    train = tune + split["holdout"]
    vec, clf = fit(row_features(train), [int(e.label == "blameful") for e in train], c)
    card["trained_on"] = ["tune", "holdout"]
    data = export(vec, clf, fit_kinds(train, vec, c), card)
    text = json.dumps(data, indent=0, sort_keys=False, ensure_ascii=False) + "\n"
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print("model file is up to date" if same else f"{OUT} would change: retrain")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text) / 1024:.0f} KiB), id {data['id']}")
    return 0


def _check_agreement(model: BlameModel, vec: Any, clf: Any, tune: Sequence[Example]) -> None:
    """The plain-Python scorer must give scikit-learn's margins (to the file's rounding)."""
    sample = list(tune[:300])
    want = clf.decision_function(vec.transform(row_features(sample)))
    worst = max(
        abs(model.decision(ex.text, detector.participants(ex.people), ex.as_cause) - w)
        for ex, w in zip(sample, want, strict=True)
    )
    print(f"plain-Python scorer vs scikit-learn: largest margin difference {worst:.2e}")
    if worst > 1e-3:
        raise SystemExit("the runtime scorer disagrees with the trained model")


if __name__ == "__main__":
    sys.exit(main())
