"""Policy rules matched by durable-rules: the only module that touches the library.

Policies declare `Rule`s as data (`conditions.py`, which does not load the C
extension), `compiler.py` turns them into durable-rules ruleset JSON, and this
module registers those and matches flat fact dicts against them. durable-rules keeps its
state in process-global C tables and was built for long-lived, event-driven
sessions, not for millions of short, independent evaluations from threads and
forked workers, so the design below is mostly about containing that:

* Facts, not events. A posted event is consumed by the first rule that
  matches it, so an action that is both unowned and overdue would yield one
  finding instead of two. Facts stay in the session and every rule sees them.
  Each posted fact carries a per-session sequence number as its `id`, so two
  identical facts in one evaluation are two facts (durable-rules would
  otherwise dedupe them by content and refuse the second).
* The library is driven through its C extension (`durable_rules_engine`), not
  `durable.engine.Host`/`durable.lang`: the Host starts timer threads that
  dispatch pending actions of *any* session on their own thread (they would
  steal our matches), it raises `MessageNotHandledException` for a batch
  before running the actions of the batch's other facts, and its per-match
  Python machinery (closures, state JSON round trips) costs several times
  more than the matching itself.
* One session per evaluation (or per chunk of a batch), with a fresh `sid`,
  deleted in a `finally`: a live session holds ~170 KB of C memory, and the
  C engine segfaults when a ruleset has more than 1024 live sessions.
* Every session also asserts a sentinel fact that fires a sentinel rule: the
  C engine leaves a new session's action context uninitialised until an
  action fires, and `delete_state` frees it, which aborts the process
  ("double free") for sessions in which nothing matched.
* Rules are sharded at `compiler.RULES_PER_SHARD` per kind per C ruleset: the C
  engine fails (error 303) when more than 64 rules match a single fact.
* A lock per compiled ruleset serialises the C calls of one session. The C
  calls hold the GIL anyway, so the lock costs no parallelism (measured: ~0.2
  us of ~70 us per evaluation; 20 threads run as fast as one). It keeps one
  live session per ruleset however many threads there are (see the 1024
  limit above; sessions are also indexed by a 32-bit hash of the sid only),
  and keeps correctness independent of how the C tables behave when the
  calls of different sessions interleave.
* Rulesets are registered lazily, once per process and rules version (the
  name comes from a hash of the rules). After `fork` the child drops the
  registry, including locks another parent thread may have held at fork time,
  and registers afresh; the inherited C rulesets are never touched again.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Final

import durable_rules_engine as _dre

from .compiler import (
    KIND_KEY,
    SENTINEL_KEY,
    SENTINEL_RULE,
    Compiled,
    KindPlan,
    compile_rulesets,
    rules_version,
)
from .conditions import OPS, STRING_TYPES, Condition, Match, Op, Rule, RulesEngineError
from .conditions import encode as _encode

# Past a few hundred facts a session gets slower per fact (the C message index
# has 512 buckets); evaluate_many splits larger batches into several sessions.
_FACTS_PER_SESSION: Final = 256

# A fired action comes back as {"<rule>":{"m":<the fact's JSON exactly as posted>}}, and
# posted facts start with their id, so a regex reads a match ~10x faster than json.loads.
_FIRED = re.compile(r'\{"(?:r(\d+)|sentinel)":\{"m":\{"id":(?:(\d+)|"s")[,}]')
_SENTINEL_JSON: Final = '{"id":"s","sid":"%s","' + SENTINEL_KEY + '":1}'

# Process-global, like the C tables it mirrors; reset in a forked child.
_registry: dict[str, Compiled] = {}
_registry_lock = threading.Lock()
_generation = 0
_sids = itertools.count(1)


def _after_fork_in_child() -> None:
    global _registry, _registry_lock, _generation
    _registry = {}
    _registry_lock = threading.Lock()
    _generation += 1


os.register_at_fork(after_in_child=_after_fork_in_child)


def _compiled(rules: Sequence[Rule], version: str) -> Compiled:
    """The process's compiled, registered rulesets for `version`, registering on first use."""
    compiled = _registry.get(version)
    if compiled is not None and compiled.registered:
        return compiled
    with _registry_lock:
        compiled = _registry.get(version)
        if compiled is None:
            compiled = compile_rulesets(rules, version)
        if not compiled.registered:
            for shard in compiled.shards:
                try:
                    shard.handle = _dre.create_ruleset(shard.name, shard.definition)
                except _dre.error as e:
                    msg = f"durable-rules rejected ruleset {shard.name}: {e}"
                    raise RulesEngineError(msg) from e
            compiled.registered = True
        _registry[version] = compiled
    return compiled


def _type_error(
    fact: Mapping[str, Any], name: str, value: object, allowed: frozenset[type]
) -> None:
    wanted = "a string" if allowed is STRING_TYPES else "a number or boolean"
    raise TypeError(
        f"fact {fact.get('fid', '?')!r} ({fact.get('kind')!r}): field {name!r} must be "
        f"{wanted} for the rules that test it, got {type(value).__name__} {value!r}"
    )


def _project(fact: Mapping[str, Any], kind: str, plan: KindPlan, posted_id: int) -> dict[str, Any]:
    """The fact as posted: its id, its kind and the fields the rules test, type-checked."""
    projected: dict[str, Any] = {"id": posted_id, KIND_KEY: kind}
    for name, key, allowed in plan.fields:
        value = fact.get(name)
        if value is None:
            continue
        if type(value) not in allowed and not isinstance(value, tuple(allowed)):
            _type_error(fact, name, value, allowed)
        projected[key] = value
    return projected


def _parse_fired(message: str) -> tuple[int, int] | None:
    """(rule index, posted fact id) of a fired action, None for the sentinel."""
    m = _FIRED.match(message)
    if m is None:  # not the layout we rely on: take the slow, format-agnostic road
        ((name, frame),) = json.loads(message).items()
        return None if name == SENTINEL_RULE else (int(name[1:]), int(frame["m"]["id"]))
    rule, fid = m.groups()
    return None if rule is None else (int(rule), int(fid))


def _fire_all(handle: int, offset: int, fired: list[str]) -> None:
    """Run every pending action of a session; the C engine only hands them out one by one."""
    started = _dre.start_action_for_state(handle, offset)
    message = started[1] if started else None
    while message is not None:
        fired.append(message)
        message = _dre.complete_and_start_action(handle, offset)


def _session(handle: int, payload: str, sentinel: str, sid: str) -> list[str]:
    """Assert one session's facts, collect every action that fired, delete the session.

    Called with the compiled ruleset's lock held. The sentinel guarantees at
    least one action, which is what makes `delete_state` safe (module docstring).
    """
    fired: list[str] = []
    try:
        try:
            offset = _dre.assert_facts(handle, payload)[1]
        except Exception:
            # Refused part-way (the sentinel went first): asserting the sentinel again
            # yields the session's offset, so its actions can be cleared before deletion.
            _fire_all(handle, _dre.assert_fact(handle, sentinel)[1], [])
            raise
        _fire_all(handle, offset, fired)
    finally:
        with contextlib.suppress(_dre.error):  # raised only if the session was never created
            _dre.delete_state(handle, sid)
    return fired


class RulesEngine:
    """Matches facts against one version of a policy's rules.

    Cheap to construct more than once for the same rules: compilation and
    registration are shared per process and version. Safe to share between
    threads and to carry across `fork` (it re-resolves its rulesets in the child).
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = tuple(rules)
        self._version = rules_version(self._rules)
        self._state = _compiled(self._rules, self._version)
        self._generation = _generation

    @property
    def version(self) -> str:
        return self._version

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._rules

    def evaluate(self, facts: Sequence[Mapping[str, Any]]) -> list[Match]:
        """Every (fact, rule) that holds, in fact order, then rule order."""
        return self.evaluate_many([facts])[0]

    def evaluate_many(self, batches: Sequence[Sequence[Mapping[str, Any]]]) -> list[list[Match]]:
        """`evaluate` for several independent fact lists at a lower cost per list.

        Rules only ever look at one fact, so facts of different lists can share
        a session without seeing each other; sharing amortises the fixed cost
        of a session (about as much as matching ten facts).
        """
        if self._generation != _generation:  # forked since construction
            self._state = _compiled(self._rules, self._version)
            self._generation = _generation
        state = self._state
        results: list[list[tuple[int, int]]] = [[] for _ in batches]
        refs: list[tuple[int, int]] = []  # posted id -> (batch, index in batch)
        posted: list[list[dict[str, Any]]] = [[] for _ in state.shards]
        plans = state.plans
        for b, facts in enumerate(batches):
            for i, fact in enumerate(facts):
                kind = fact.get("kind")
                if not isinstance(kind, str):
                    raise ValueError(f"fact {fact.get('fid', i)!r} has no string 'kind'")
                plan = plans.get(kind)
                if plan is None:
                    continue  # no rule is about this kind
                projected = _project(fact, kind, plan, len(refs))
                refs.append((b, i))
                for s in plan.shards:
                    posted[s].append(projected)
                if len(refs) >= _FACTS_PER_SESSION:
                    self._run(state, posted, refs, results)
                    refs, posted = [], [[] for _ in state.shards]
        if refs:
            self._run(state, posted, refs, results)
        out: list[list[Match]] = []
        rule_ids = state.rule_ids
        for facts, hits in zip(batches, results, strict=True):
            hits.sort()
            out.append([Match(rule_ids[r], facts[i]) for i, r in hits])
        return out

    @staticmethod
    def _run(
        state: Compiled,
        posted: list[list[dict[str, Any]]],
        refs: list[tuple[int, int]],
        results: list[list[tuple[int, int]]],
    ) -> None:
        """One session per shard that has facts; matches land in `results` per batch."""
        for shard, facts in zip(state.shards, posted, strict=True):
            if not facts:
                continue
            sid = str(next(_sids))
            for fact in facts:
                fact["sid"] = sid
            sentinel = _SENTINEL_JSON % sid
            payload = f"[{sentinel},{_encode(facts)[1:]}"
            try:
                with state.lock:
                    fired = _session(shard.handle, payload, sentinel, sid)
            except _dre.error as e:
                raise RulesEngineError(f"durable-rules failed on {shard.name}: {e}") from e
            for message in fired:
                hit = _parse_fired(message)
                if hit is not None:
                    b, i = refs[hit[1]]
                    results[b].append((i, hit[0]))


# Condition, Rule, Match, RulesEngineError, OPS, Op and rules_version live in the pure
# modules `conditions` and `compiler`; re-exported so existing `engine` imports keep working.
__all__ = [
    "OPS",
    "Condition",
    "Match",
    "Op",
    "Rule",
    "RulesEngine",
    "RulesEngineError",
    "rules_version",
]
