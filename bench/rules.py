"""Policy pipeline throughput: actions per second, against durable-rules' own raw rate.

Evaluates 100,000 actions across 10,000 synthetic incidents (10 actions each,
plus the incident, its causes, decisions, blame hits and obligations) through
the whole policy pipeline the service runs: views -> derived facts (scores,
effective due dates, catalog lookups, blameless-language scan) -> RulesEngine
-> findings with messages. In the same run it asserts exactly the facts the
pipeline built into durable-rules used directly (`bench/rules_raw.py`: one
`durable.lang` ruleset with the same compiled policy rules, `assert_fact` per
fact, the idiomatic use) and checks both find the same matches.

    ratio = pipeline actions/s / raw durable-rules actions/s      (target >= 0.5)

Pipeline rounds repeat in one process and resident memory is printed after
each, so a leak (sessions never deleted, caches without bounds) shows as
growth; the raw rounds run afterwards because durable.lang keeps every
ruleset it registers.

Two pipeline rates are printed. "re-evaluation" is the service's common case
(a write re-evaluates its incident; unchanged prose comes from the scan
cache). "first evaluation" scans every text with `blameless.find_blame`
(about 0.11 ms per bench text, the model's margin and the rules together, since the
word-mask prefilter and the model's load-time weight tables; 0.19 ms before them; measured
at load ~1 on 2 cores, 2,000 incidents).

    .venv/bin/python bench/rules.py [--incidents 10000] [--actions 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from app.catalog import load_catalog  # noqa: E402
from app.rules import facts as fact_builder  # noqa: E402
from app.rules import language  # noqa: E402
from app.rules.evaluate import compile_rules, engine_for, evaluate  # noqa: E402
from app.rules.model import Context  # noqa: E402
from app.rules.policy import load_policy  # noqa: E402
from app.rules.views import (  # noqa: E402
    ActionView,
    CauseView,
    IncidentView,
    ParticipantView,
    PostmortemView,
    RelatedIncident,
    TimelineView,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
_COMPONENTS = (
    "connection pool",
    "retry budget",
    "cache tier",
    "queue consumer",
    "TLS terminator",
    "schema migration",
    "feature flag",
    "autoscaler",
    "DNS resolver",
    "disk quota",
)
_CATEGORIES = ("change", "config", "capacity", "dependency", "monitoring", "testing", "process")
_BLAME = (
    "The on-call engineer forgot to drain the node.",
    "Root cause: human error.",
    "Ravi Menon failed to check the dashboard before the push.",
)


def _text(rnd: random.Random, n: int, service: str) -> str:
    """Prose that differs per incident, so no cache can make the language scan free."""
    part = rnd.choice(_COMPONENTS)
    return (
        f"The {service} {part} saturated {rnd.randint(2, 90)} minutes after change "
        f"CHG-{n}-{rnd.randint(100, 999)}; requests queued behind it until the "
        f"{rnd.choice(_COMPONENTS)} shed load."
    )


def make_views(n_incidents: int, actions_per: int, seed: int = 11) -> list[IncidentView]:
    rnd = random.Random(seed)
    catalog = load_catalog(ROOT / "config")
    services = [s.name for s in catalog.services]
    people = [p.name for p in catalog.people]
    views = []
    for n in range(n_incidents):
        key = f"INC-{n + 1}"
        svc = rnd.sample(services, rnd.randint(1, 2))
        resolved = NOW - timedelta(days=rnd.randint(1, 60), hours=rnd.randint(0, 23))
        causes = tuple(
            CauseView(
                f"{key}/{c}",
                "root_cause" if c < 2 else "contributing_factor",
                rnd.choice(_CATEGORIES),
                rnd.choice(_BLAME) if rnd.random() < 0.02 else _text(rnd, n, svc[0]),
            )
            for c in range(rnd.randint(1, 3))
        )
        timeline = tuple(
            TimelineView(
                f"{key}/t{t}",
                kind,
                _text(rnd, n, svc[0]),
                at=resolved - timedelta(hours=3 - t),
                is_decision=kind == "decision",
                rationale=None if rnd.random() < 0.2 else "Fastest safe option",
            )
            for t, kind in enumerate(
                (
                    "alert" if rnd.random() < 0.9 else "note",
                    "decision",
                    "mitigation",
                    "resolution" if rnd.random() < 0.9 else "note",
                )
            )
        )
        actions = tuple(_action(rnd, key, a, causes, people) for a in range(actions_per))
        views.append(
            IncidentView(
                key=key,
                title=f"{svc[0]} degradation {n}",
                severity=rnd.choice(("SEV1", "SEV2", "SEV3")),
                status="resolved",
                summary=_text(rnd, n, svc[0]),
                services=tuple(svc),
                regulatory=("gdpr",) if rnd.random() < 0.05 else (),
                started_at=resolved - timedelta(hours=4),
                detected_at=resolved - timedelta(hours=3),
                resolved_at=resolved,
                created_at=resolved - timedelta(hours=3),
                timeline=timeline,
                causes=causes,
                actions=actions,
                participants=tuple(
                    ParticipantView(role, rnd.choice(people))
                    for role in rnd.sample(
                        ("incident_commander", "responder", "business_stakeholder", "facilitator"),
                        2,
                    )
                ),
                postmortem=PostmortemView(
                    facilitator=rnd.choice((None, "Noor Haddad")),
                    review_held_at=resolved + timedelta(days=rnd.randint(1, 9)),
                    lessons=(_text(rnd, n, svc[-1]),),
                ),
                related=tuple(
                    RelatedIncident(
                        f"INC-{rnd.randint(1, n_incidents)}",
                        frozenset(svc),
                        frozenset(rnd.sample(_CATEGORIES, 2)),
                    )
                    for _ in range(rnd.randint(0, 3))
                ),
            )
        )
    return views


def _action(
    rnd: random.Random, key: str, a: int, causes: tuple[CauseView, ...], people: list[str]
) -> ActionView:
    created = NOW - timedelta(days=rnd.randint(1, 120))
    due = None if rnd.random() < 0.1 else (created + timedelta(days=rnd.randint(3, 200))).date()
    return ActionView(
        key=f"{key}-A{a}",
        title=f"Guard the {rnd.choice(_COMPONENTS)} ({key})",
        type=rnd.choice(("prevent", "detect", "mitigate", "process", "documentation")),
        owner=None if rnd.random() < 0.1 else rnd.choice([*people, "Someone Unknown"]),
        team=rnd.choice((None, "storefront", "sre")),
        due_date=due,
        priority=rnd.choice((None, "P0", "P1", "P2", "P3")),
        score=rnd.choice((None, 58.0)),
        effort=rnd.choice((None, "S", "M", "L")),
        success_criteria=None if rnd.random() < 0.15 else "p99 under 300 ms at peak",
        validation_method=None if rnd.random() < 0.2 else "Load test in staging",
        status=rnd.choice(("open", "open", "in_progress", "done", "wont_do")),
        created_at=created,
        last_activity_at=created + timedelta(days=rnd.randint(0, 30)),
        cause_keys=(rnd.choice(causes).key,) if rnd.random() < 0.8 else (),
    )


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def pipeline(views: list[IncidentView], ctx: Context) -> tuple[float, float, int]:
    """Seconds spent on first evaluations and on re-evaluations, and the findings produced.

    Each incident is evaluated twice in a row, both timed apart:
    first: nothing cached, so every text is scanned for blame (an incident just imported);
    again: the service's common case, a write re-evaluating the incident: prose that did not
           change since the last evaluation comes from the scan cache.
    """
    first = again = 0.0
    n = 0
    clock = time.perf_counter
    for view in views:
        language.scan.cache_clear()
        start = clock()
        evaluate([view], ctx)
        middle = clock()
        n += len(evaluate([view], ctx)[view.key].findings)
        first, again = first + (middle - start), again + (clock() - middle)
    return first, again, n


def engine_matches(
    views: list[IncidentView], ctx: Context
) -> tuple[list[dict[str, Any]], set[Any]]:
    built = fact_builder.build(views, ctx)
    found = {(m.rule_id, m.fact["fid"]) for m in engine_for(ctx.policy).evaluate(built.facts)}
    return built.facts, found


def main(argv: list[str] | None = None) -> int:
    import rules_raw

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--actions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    policy, catalog = load_policy(ROOT / "config"), load_catalog(ROOT / "config")
    ctx = Context(policy, catalog, NOW)
    views = make_views(args.incidents, args.actions)
    n_actions = sum(len(v.actions) for v in views)
    evaluate(views[:5], ctx)  # registration and regex compilation are not what is measured
    facts, ours = engine_matches(views, ctx)
    # durable-rules identifies a fact without an `id` by a hash of its content, and 32 bits
    # collide among ~130,000 facts (MessageObservedException); an explicit id avoids that.
    raw_facts = [{**f, "id": f["fid"]} for f in facts]
    rules = compile_rules(policy)

    rates: dict[str, list[float]] = {"first": [], "again": [], "raw": []}
    memory, findings = [], 0
    for _ in range(args.rounds):
        first, again, findings = pipeline(views, ctx)
        rates["first"].append(n_actions / first)
        rates["again"].append(n_actions / again)
        gc.collect()
        memory.append(rss_mb())
    # Raw rounds come after: durable.lang registers a new ruleset per round and keeps it,
    # which would hide (or fake) growth in the pipeline's own memory readings.
    for _ in range(args.rounds):
        seconds, theirs = rules_raw._raw_matches(rules, raw_facts)
        rates["raw"].append(n_actions / seconds)
        if theirs != ours:
            print(
                f"MISMATCH: raw durable-rules {len(theirs)} matches, pipeline {len(ours)}",
                file=sys.stderr,
            )
            return 1

    rate = {m: statistics.median(r) for m, r in rates.items()}
    print(
        f"{n_actions:,} actions across {len(views):,} incidents ({len(facts):,} facts, "
        f"{len(rules)} compiled rules, {len(ours):,} matches, {findings:,} findings), "
        f"median of {args.rounds} rounds"
    )
    print(f"raw durable-rules on the same facts:           {rate['raw']:>9,.0f} actions/s")
    print(
        f"pipeline, re-evaluation after a write:         {rate['again']:>9,.0f} actions/s"
        f"   ratio {rate['again'] / rate['raw']:.2f}"
    )
    print(
        f"pipeline, first evaluation (all prose new):    {rate['first']:>9,.0f} actions/s"
        f"   ratio {rate['first'] / rate['raw']:.2f}"
    )
    growth = memory[-1] - memory[0] if len(memory) > 1 else 0.0
    print(
        "pipeline resident memory after each round (MB): "
        + ", ".join(f"{m:.1f}" for m in memory)
        + f"   growth after round 1: {growth:+.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
