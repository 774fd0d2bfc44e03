"""Facts matched per second: RulesEngine against durable-rules used directly.

The product bench evaluates ~100,000 actions across ~10,000 incidents, one
engine call per incident (~10 facts), and must reach at least half of what
durable-rules does on its own. "On its own" is the library's documented,
idiomatic use: one `durable.lang` ruleset with the same conditions, every
fact asserted into one session, the session deleted at the end. Both sides
get the same fact dicts, as the policy modules build them (scalar fields the
rules test plus text the rules ignore), and must find the same matches.

    .venv/bin/python bench/rules_raw.py [--facts 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.rules.engine import Condition, Rule, RulesEngine  # noqa: E402

_OPEN = Condition("is_open", "is_true")
_SCORED = (_OPEN, Condition("is_compliance", "is_false"))

# Shaped like the shipped policy: a few flags per rule, overdue ladders, set membership.
BENCH_RULES: tuple[Rule, ...] = (
    Rule(
        "ownership.missing_owner",
        "action",
        (_OPEN, Condition("has_owner", "is_false"), Condition("default_owner", "==", "")),
    ),
    Rule(
        "ownership.unknown_owner",
        "action",
        (_OPEN, Condition("has_owner", "is_true"), Condition("owner_known", "is_false")),
    ),
    Rule(
        "ownership.assign_default",
        "action",
        (_OPEN, Condition("has_owner", "is_false"), Condition("default_owner", "!=", "")),
    ),
    Rule("deadlines.missing", "action", (_OPEN, Condition("has_due", "is_false"))),
    Rule(
        "deadlines.too_far@P1",
        "action",
        (*_SCORED, Condition("priority", "==", "P1"), Condition("due_span", ">", 14)),
    ),
    Rule(
        "deadlines.too_far@P2",
        "action",
        (*_SCORED, Condition("priority", "==", "P2"), Condition("due_span", ">", 30)),
    ),
    Rule(
        "deadlines.overdue@1",
        "action",
        (_OPEN, Condition("days_overdue", ">=", 1), Condition("days_overdue", "<", 8)),
    ),
    Rule(
        "deadlines.overdue@2",
        "action",
        (_OPEN, Condition("days_overdue", ">=", 8), Condition("days_overdue", "<", 30)),
    ),
    Rule("deadlines.overdue@3", "action", (_OPEN, Condition("days_overdue", ">=", 30))),
    Rule(
        "deadlines.stale@1",
        "action",
        (_OPEN, Condition("days_overdue", "<=", 0), Condition("days_idle", ">=", 21)),
    ),
    Rule("priority.below_score", "action", (*_SCORED, Condition("priority_gap", ">", 0))),
    Rule(
        "completeness.success_criteria",
        "action",
        (Condition("counts", "is_true"), Condition("has_criteria", "is_false")),
    ),
    Rule(
        "completeness.summary",
        "incident",
        (Condition("applies", "is_true"), Condition("has_summary", "is_false")),
    ),
    Rule(
        "completeness.root_cause",
        "incident",
        (Condition("applies", "is_true"), Condition("root_causes", "==", 0)),
    ),
    Rule(
        "completeness.review_late",
        "incident",
        (Condition("applies", "is_true"), Condition("review_days_late", ">", 0)),
    ),
    Rule(
        "completeness.facilitator",
        "incident",
        (
            Condition("applies", "is_true"),
            Condition("severity", "in", ("SEV1", "SEV2")),
            Condition("has_facilitator", "is_false"),
        ),
    ),
    Rule(
        "completeness.cause_unaddressed",
        "cause",
        (Condition("cause_kind", "==", "root_cause"), Condition("addressed_by", "==", 0)),
    ),
    Rule("completeness.decision_rationale", "decision", (Condition("has_rationale", "is_false"),)),
)

ACTIONS_PER_INCIDENT = 8  # + the incident and a cause: ~10 facts per evaluation


def make_facts(n_facts: int, seed: int = 7) -> list[list[dict[str, Any]]]:
    """Facts grouped per incident, ~n_facts in all, each with a unique `fid`."""
    rnd = random.Random(seed)
    groups: list[list[dict[str, Any]]] = []
    fids = itertools.count()
    total = 0
    while total < n_facts:
        inc = f"INC-{len(groups)}"
        group: list[dict[str, Any]] = [
            {
                "kind": "incident",
                "fid": str(next(fids)),
                "key": inc,
                "title": f"Checkout latency spike in eu-west ({inc})",
                "applies": rnd.random() < 0.8,
                "severity": rnd.choice(["SEV1", "SEV2", "SEV3"]),
                "has_summary": rnd.random() < 0.7,
                "root_causes": rnd.choice([0, 1, 1, 2]),
                "review_days_late": rnd.randint(-5, 10),
                "has_facilitator": rnd.random() < 0.6,
            }
        ]
        for a in range(ACTIONS_PER_INCIDENT):
            has_owner = rnd.random() < 0.8
            group.append(
                {
                    "kind": "action",
                    "fid": str(next(fids)),
                    "key": f"{inc}-A{a}",
                    "title": "Alert on replication lag above 30s",
                    "owner_email": "sre@example.com",
                    "is_open": rnd.random() < 0.7,
                    "is_compliance": rnd.random() < 0.1,
                    "has_owner": has_owner,
                    "owner_known": rnd.random() < 0.9,
                    "default_owner": rnd.choice(["", "", "platform-team"]),
                    "has_due": rnd.random() < 0.85,
                    "priority": rnd.choice(["P1", "P2", "P3"]),
                    "due_span": rnd.randint(1, 60),
                    "days_overdue": rnd.randint(-20, 45),
                    "days_idle": rnd.randint(0, 40),
                    "priority_gap": rnd.choice([0, 0, 0, 1, 2]),
                    "counts": rnd.random() < 0.9,
                    "has_criteria": rnd.random() < 0.75,
                }
            )
        group.append(
            {
                "kind": "cause",
                "fid": str(next(fids)),
                "key": f"{inc}-C0",
                "cause_kind": rnd.choice(["root_cause", "contributing"]),
                "addressed_by": rnd.choice([0, 1, 2]),
            }
        )
        groups.append(group)
        total += len(group)
    return groups


def _lang_expression(rule: Rule) -> Any:
    """The rule as a `durable.lang` expression, the way a user of the library writes it."""
    from durable.lang import m

    expr = m.kind == rule.kind
    for c in rule.when:
        v = getattr(m, c.field)
        if c.op == "is_true":
            test = v == True  # noqa: E712 - builds a durable expression, not a Python test
        elif c.op == "is_false":
            test = v == False  # noqa: E712
        elif c.op == "in":
            test = v == c.value[0]
            for other in c.value[1:]:
                test = test | (v == other)
        else:
            test = {
                "==": v.__eq__,
                "!=": v.__ne__,
                "<": v.__lt__,
                "<=": v.__le__,
                ">": v.__gt__,
                ">=": v.__ge__,
            }[c.op](c.value)
        expr = expr & test
    return expr


_raw_names = itertools.count()


def _raw_matches(rules: Sequence[Rule], facts: list[dict[str, Any]]) -> tuple[float, set[Any]]:
    from durable.engine import MessageNotHandledException
    from durable.lang import assert_fact, delete_state, get_host, ruleset, when_all

    found: set[tuple[str, str]] = set()

    def action(rule_id: str) -> Callable[[Any], None]:
        def run(c: Any) -> None:
            found.add((rule_id, c.m.fid))

        return run

    name = f"raw_bench_{next(_raw_names)}"  # durable.lang registers a name once per process
    with ruleset(name):
        for rule in rules:
            when_all(_lang_expression(rule))(action(rule.id))
    get_host()  # registration is not what is measured

    start = time.perf_counter()
    for fact in facts:
        # assert_facts would raise for the whole batch on the first fact no rule
        # handles, before running the other facts' actions; per-fact is the idiom.
        with contextlib.suppress(MessageNotHandledException):
            assert_fact(name, fact)
    delete_state(name)
    return time.perf_counter() - start, found


def _engine_matches(groups: list[list[dict[str, Any]]], batched: bool) -> tuple[float, set[Any]]:
    engine = RulesEngine(BENCH_RULES)
    engine.evaluate(groups[0])  # registration is not what is measured
    start = time.perf_counter()
    if batched:
        results = engine.evaluate_many(groups)
    else:
        results = [engine.evaluate(group) for group in groups]
    elapsed = time.perf_counter() - start
    return elapsed, {(m.rule_id, m.fact["fid"]) for ms in results for m in ms}


def raw_durable_throughput(n_facts: int) -> float:
    """Facts per second through durable-rules used directly (one session for all facts)."""
    facts = [f for group in make_facts(n_facts) for f in group]
    elapsed, _ = _raw_matches(BENCH_RULES, facts)
    return len(facts) / elapsed


def engine_throughput(n_facts: int, batched: bool = False) -> float:
    """Facts per second through RulesEngine, one `evaluate` per incident (or one batch)."""
    groups = make_facts(n_facts)
    elapsed, _ = _engine_matches(groups, batched)
    return sum(len(g) for g in groups) / elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    groups = make_facts(args.facts)
    flat = [f for g in groups for f in g]
    raw_rates, per_call_rates, batch_rates = [], [], []
    for _ in range(args.rounds):  # alternate, so drift on a noisy machine hits all three
        raw_s, raw_found = _raw_matches(BENCH_RULES, flat)
        call_s, call_found = _engine_matches(groups, batched=False)
        batch_s, batch_found = _engine_matches(groups, batched=True)
        if not raw_found == call_found == batch_found:
            print(
                f"MISMATCH: raw {len(raw_found)} engine {len(call_found)} "
                f"batched {len(batch_found)} matches",
                file=sys.stderr,
            )
            return 1
        raw_rates.append(len(flat) / raw_s)
        per_call_rates.append(len(flat) / call_s)
        batch_rates.append(len(flat) / batch_s)

    raw, per_call, batch = (statistics.median(r) for r in (raw_rates, per_call_rates, batch_rates))
    print(
        f"{len(flat)} facts, {len(groups)} evaluations (~{len(flat) / len(groups):.0f} facts "
        f"each), {len(BENCH_RULES)} rules, {len(raw_found)} matches, median of {args.rounds}"
    )
    print(f"raw durable-rules (one session, assert_fact each): {raw:>10,.0f} facts/s")
    print(
        f"RulesEngine.evaluate per incident:                {per_call:>10,.0f} facts/s"
        f"  ratio {per_call / raw:.2f}"
    )
    print(
        f"RulesEngine.evaluate_many (all incidents):        {batch:>10,.0f} facts/s"
        f"  ratio {batch / raw:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
