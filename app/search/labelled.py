"""A labelled, generated set of hard incidents for the repeat matcher.

Run `python -m app.search.labelled` for the threshold, precision and recall.

Built to be hard: every service has several mechanisms, two of them in the same
cause category (same service, other mechanism); each mechanism happens in
several services (same mechanism, other service); every text carries the same
buzzwords and its service's name; a repeat is told in other words (another draw
from the mechanism's vocabulary and other sentence shapes); start times are drawn
at random, not in the order of generation (date-order traps); clusters run to
chains of three. A true pair is (later, earlier) of one service and one mechanism
(in a chain A, B, C: B -> A, C -> B and C -> A). `precision`/`recall` measure the
matcher on every pair; `report_precision`/`report_recall` the recurrence report's
answer, which names each repeat once, against its latest match.

Two sets from two seeds: the threshold is chosen on the first (best F1 over a
grid) and precision and recall are reported on the second.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from .similarity import Profile, latest_repeats, scored_pairs

SERVICES = ["checkout", "search", "payments", "auth", "catalog", "ledger", "mail", "video"]
# mechanism -> (cause category, its own words)
MECHANISMS = {
    "disk": ("capacity", "disk volume full logs rotation inode partition filesystem"),
    "pool": ("capacity", "connection pool exhausted database connections leak maxconn"),
    "cert": ("config", "certificate expired tls renewal x509 handshake ssl chain"),
    "flag": ("config", "feature flag toggle default rollout percentage misconfigured switch"),
    "dns": ("dependency", "dns resolver nameserver lookup ttl record resolution upstream"),
    "queue": ("dependency", "queue broker consumer backlog kafka partition lag offsets"),
    "deploy": ("change", "deploy release rollback migration schema canary build artifact"),
    "cache": ("architecture", "cache stampede eviction redis hot keys thundering herd"),
    "alert": ("monitoring", "alert threshold dashboard paging silent missing metric probe"),
    "memory": ("capacity", "memory heap oom killer garbage collection leak container limit"),
}
BUZZ = [
    "outage",
    "customers",
    "degraded",
    "errors",
    "latency",
    "incident",
    "production",
    "impact",
    "users",
    "spike",
]
SHAPES = [
    "{a} {b} in {svc} caused {x} and {y}; {c} {d}.",
    "Customers saw {x} on {svc}: the {a} was {b}, then {c} {d} made {y} worse.",
    "{svc} {x}. Root cause: {c} {a}. Contributing: {b} {d}; {y} followed.",
    "After {a} {d}, {svc} had {y}; {b} and {c} were involved ({x}).",
]


def _text(rng: random.Random, svc: str, words: list[str]) -> str:
    a, b, c, d = rng.sample(words, 4)
    x, y = rng.sample(BUZZ, 2)
    return rng.choice(SHAPES).format(a=a, b=b, c=c, d=d, x=x, y=y, svc=svc)


def generate(seed: int, clusters: int = 90) -> tuple[list[Profile], set[tuple[str, str]]]:
    """Incidents and the true (later, earlier) pairs: same service and same mechanism."""
    rng = random.Random(seed)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    profiles: list[Profile] = []
    mechanism: dict[str, tuple[str, str]] = {}
    for n in range(clusters):
        svc, mech = rng.choice(SERVICES), rng.choice(sorted(MECHANISMS))
        category, vocabulary = MECHANISMS[mech]
        size = rng.choice([1, 1, 2, 2, 3])
        for m in range(size):
            key = f"S{seed}-{n}-{m}"
            started = base + timedelta(days=rng.uniform(0, 700))
            extra = rng.choice(sorted({c for c, _ in MECHANISMS.values()} - {category}))
            cats = frozenset({category, extra} if rng.random() < 0.3 else {category})
            text = _text(rng, svc, vocabulary.split())
            profiles.append(Profile(key, started, frozenset({svc}), cats, text))
            mechanism[key] = (svc, mech)
    truth = {
        (later.key, earlier.key)
        for later in profiles
        for earlier in profiles
        if mechanism[later.key] == mechanism[earlier.key] and earlier.started < later.started
    }
    return profiles, truth


def precision_recall(
    profiles: Sequence[Profile], truth: set[tuple[str, str]], threshold: float
) -> tuple[float, float]:
    found = {(p.incident, p.repeat_of) for p in scored_pairs(profiles) if p.score >= threshold}
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall


def report_precision_recall(
    profiles: Sequence[Profile], truth: set[tuple[str, str]], threshold: float
) -> tuple[float, float]:
    """The report's answer (each repeat once, against its latest match) on the same labels.

    A reported (incident, repeat_of) is right when the labels hold the pair (the same
    service and mechanism, earlier); recall is over the incidents the labels make a
    repeat of something, found as a repeat at all. The labels themselves are unchanged:
    in a chain A, B, C they hold C -> A as well as C -> B, and either is a right answer.
    """
    found = latest_repeats(profiles, threshold)
    repeating = {later for later, _ in truth}
    right = sum(1 for p in found if (p.incident, p.repeat_of) in truth)
    precision = right / len(found) if found else 1.0
    recall = len({p.incident for p in found} & repeating) / len(repeating) if repeating else 1.0
    return precision, recall


def choose_threshold(profiles: Sequence[Profile], truth: set[tuple[str, str]]) -> float:
    """The threshold with the best F1 on this set (a grid of 0.01 steps)."""
    pairs = scored_pairs(profiles)
    best, best_f1 = 0.0, -1.0
    for step in range(5, 90):
        t = step / 100
        found = {(p.incident, p.repeat_of) for p in pairs if p.score >= t}
        hits = len(found & truth)
        p = hits / len(found) if found else 1.0
        r = hits / len(truth) if truth else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if f1 > best_f1:
            best, best_f1 = t, f1
    return best


def evaluate() -> dict[str, float]:
    train, train_truth = generate(seed=1)
    test, test_truth = generate(seed=2)
    threshold = choose_threshold(train, train_truth)
    precision, recall = precision_recall(test, test_truth, threshold)
    report_p, report_r = report_precision_recall(test, test_truth, threshold)
    return {
        "incidents": len(train) + len(test),
        "threshold": threshold,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "report_precision": round(report_p, 4),
        "report_recall": round(report_r, 4),
    }


if __name__ == "__main__":
    for name, value in evaluate().items():
        print(f"{name}: {value}")
