"""Policy rules matched by durable-rules: the only module that touches the library.

Policies declare `Rule`s as data; this module compiles them to durable-rules
rulesets and matches flat fact dicts against them. durable-rules keeps its
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
* Rules are sharded at `_RULES_PER_SHARD` per kind per C ruleset: the C
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
import hashlib
import itertools
import json
import math
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

import durable_rules_engine as _dre

Op = Literal["==", "!=", "<", "<=", ">", ">=", "is_true", "is_false", "in"]
OPS: Final[frozenset[str]] = frozenset(get_args(Op))

# Kept well under the C engine's limit of 64 rules matching one fact.
_RULES_PER_SHARD: Final = 32
# Past a few hundred facts a session gets slower per fact (the C message index
# has 512 buckets); evaluate_many splits larger batches into several sessions.
_FACTS_PER_SESSION: Final = 256
# Bump when the compiled form changes, so a version never names two layouts.
_COMPILER_REVISION: Final = "1"

_NUMBER_TYPES: Final[frozenset[type]] = frozenset({int, float, bool})
_STRING_TYPES: Final[frozenset[type]] = frozenset({str})
_COMPARISON_OPS: Final = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_ORDERING_OPS: Final = frozenset({"<", "<=", ">", ">="})

# Posted keys: user fields are renamed to f0, f1, ... so no field name can
# collide with durable-rules' own `id`/`sid`/`$...` keys or break its parser.
_KIND_KEY: Final = "k"
_SENTINEL_KEY: Final = "h"
_SENTINEL_RULE: Final = "sentinel"

# A fired action comes back as {"<rule>":{"m":<the fact's JSON exactly as posted>}}, and
# posted facts start with their id, so a regex reads a match ~10x faster than json.loads.
_FIRED = re.compile(r'\{"(?:r(\d+)|sentinel)":\{"m":\{"id":(?:(\d+)|"s")[,}]')
_SENTINEL_JSON: Final = '{"id":"s","sid":"%s","' + _SENTINEL_KEY + '":1}'

_encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, check_circular=False, separators=(",", ":")
).encode


class RulesEngineError(RuntimeError):
    """durable-rules refused an operation; callers need not know its exception types."""


def _is_scalar(value: object) -> bool:
    # NaN and infinities have no JSON form, so durable-rules could never see them.
    return isinstance(value, (str, int)) or (isinstance(value, float) and math.isfinite(value))


@dataclass(frozen=True)
class Condition:
    """One comparison of a fact field with a constant.

    Validated on construction so a bad policy fails where it is loaded, not on
    the first evaluation. Semantics are Python's for the values a fact builder
    produces: numbers compare with numbers (bools count as 0/1, so `is_true`
    means "== True"), strings with strings (ordering is by code point), and a
    fact value of the other family is a TypeError at evaluation rather than a
    silent coercion. A condition on a field the fact lacks (or holds as None)
    never holds, whatever the operator, `!=` included, as in SQL.
    """

    field: str
    op: Op
    value: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.field, str) or not self.field:
            raise ValueError(f"condition field must be a non-empty string, got {self.field!r}")
        if self.op not in OPS:
            raise ValueError(
                f"unknown op {self.op!r} on field {self.field!r}; expected one of {sorted(OPS)}"
            )
        where = f"condition {self.field} {self.op}"
        if self.op in ("is_true", "is_false"):
            if self.value is not None:
                raise ValueError(f"{where} takes no value, got {self.value!r}")
        elif self.op == "in":
            if isinstance(self.value, (str, bytes, Mapping)) or not hasattr(self.value, "__iter__"):
                raise ValueError(f"{where} needs a list of values, got {self.value!r}")
            values = tuple(self.value)
            if not values:
                raise ValueError(f"{where} needs at least one value")
            if not all(_is_scalar(v) for v in values):
                raise ValueError(f"{where} values must be strings or numbers, got {values!r}")
            if len({type(v) is str for v in values}) > 1:
                raise ValueError(f"{where} mixes strings and numbers: {values!r}")
            if isinstance(self.value, (set, frozenset)):  # a stable version needs a stable order
                values = tuple(sorted(values, key=_encode))
            object.__setattr__(self, "value", values)
        elif not _is_scalar(self.value):
            raise ValueError(f"{where} needs a string or number, got {self.value!r}")
        elif self.op in _ORDERING_OPS and isinstance(self.value, bool):
            raise ValueError(f"{where} orders by a boolean; use is_true/is_false")

    def value_types(self) -> frozenset[type]:
        """Fact value types this condition can be compared with meaningfully."""
        if self.op in ("is_true", "is_false"):
            return _NUMBER_TYPES
        sample = self.value[0] if self.op == "in" else self.value
        return _STRING_TYPES if isinstance(sample, str) else _NUMBER_TYPES


@dataclass(frozen=True)
class Rule:
    """A named conjunction of conditions over facts of one kind."""

    id: str
    kind: str
    when: tuple[Condition, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"rule id must be a non-empty string, got {self.id!r}")
        if not isinstance(self.kind, str) or not self.kind:
            raise ValueError(f"rule {self.id!r}: kind must be a non-empty string")
        when = tuple(self.when) if isinstance(self.when, (list, tuple)) else None
        if not when:
            raise ValueError(f"rule {self.id!r}: `when` needs at least one condition")
        for c in when:
            if not isinstance(c, Condition):
                raise ValueError(f"rule {self.id!r}: {c!r} is not a Condition")
        object.__setattr__(self, "when", when)


@dataclass(frozen=True)
class Match:
    """A rule that holds for a fact; `fact` is the caller's own mapping, not a copy."""

    rule_id: str
    fact: Mapping[str, Any]


@dataclass(frozen=True)
class _KindPlan:
    """How to project a fact of one kind: which fields, checked how, posted to which shards."""

    fields: tuple[tuple[str, str, frozenset[type]], ...]  # (fact field, posted key, types)
    shards: tuple[int, ...]


@dataclass
class _Shard:
    name: str
    definition: str  # the ruleset JSON handed to durable-rules
    handle: int = 0


@dataclass
class _Compiled:
    """Everything derived from one rules version; shared by engines of that version."""

    version: str
    rule_ids: tuple[str, ...]
    plans: dict[str, _KindPlan]
    shards: list[_Shard]
    lock: threading.Lock = field(default_factory=threading.Lock)
    registered: bool = False


# Process-global, like the C tables it mirrors; reset in a forked child.
_registry: dict[str, _Compiled] = {}
_registry_lock = threading.Lock()
_generation = 0
_sids = itertools.count(1)


def _after_fork_in_child() -> None:
    global _registry, _registry_lock, _generation
    _registry = {}
    _registry_lock = threading.Lock()
    _generation += 1


os.register_at_fork(after_in_child=_after_fork_in_child)


def rules_version(rules: Sequence[Rule]) -> str:
    """A digest of the rules in order (order decides match order, so it is part of the version)."""
    canonical = [[r.id, r.kind, [[c.field, c.op, c.value] for c in r.when]] for r in rules]
    payload = _encode([_COMPILER_REVISION, canonical]).encode()
    return hashlib.sha256(payload).hexdigest()[:16]


def _condition_json(c: Condition, key: str) -> dict[str, Any]:
    if c.op == "==":
        return {key: c.value}
    if c.op == "is_true":
        return {key: True}
    if c.op == "is_false":
        return {key: False}
    if c.op == "in":
        if len(c.value) == 1:
            return {key: c.value[0]}
        return {"$or": [{key: v} for v in c.value]}
    return {_COMPARISON_OPS[c.op]: {key: c.value}}


def _compile(rules: Sequence[Rule], version: str) -> _Compiled:
    seen: set[str] = set()
    for r in rules:
        if not isinstance(r, Rule):
            raise ValueError(f"{r!r} is not a Rule")
        if r.id in seen:
            raise ValueError(f"duplicate rule id {r.id!r}")
        seen.add(r.id)

    keys: dict[str, str] = {"kind": _KIND_KEY}
    types: dict[str, frozenset[type]] = {"kind": _STRING_TYPES}
    for r in rules:
        for c in r.when:
            keys.setdefault(c.field, f"f{len(keys) - 1}")
            wanted = c.value_types()
            if types.setdefault(c.field, wanted) != wanted:
                raise ValueError(
                    f"rule {r.id!r}: field {c.field!r} is compared with both strings and numbers"
                )

    by_kind: dict[str, list[int]] = {}
    for index, r in enumerate(rules):
        by_kind.setdefault(r.kind, []).append(index)

    definitions: list[dict[str, Any]] = []
    plans: dict[str, _KindPlan] = {}
    for kind, indexes in by_kind.items():
        shard_ids = []
        for chunk, start in enumerate(range(0, len(indexes), _RULES_PER_SHARD)):
            if chunk == len(definitions):
                definitions.append({_SENTINEL_RULE: {"all": [{"m": {_SENTINEL_KEY: 1}}]}})
            for index in indexes[start:start + _RULES_PER_SHARD]:
                tests = [{_KIND_KEY: kind}]
                tests += [_condition_json(c, keys[c.field]) for c in rules[index].when]
                definitions[chunk][f"r{index}"] = {"all": [{"m": {"$and": tests}}]}
            shard_ids.append(chunk)
        names = dict.fromkeys(c.field for i in indexes for c in rules[i].when if c.field != "kind")
        plans[kind] = _KindPlan(
            fields=tuple((name, keys[name], types[name]) for name in names),
            shards=tuple(shard_ids),
        )

    shards = [
        _Shard(name=f"hindsight-{version}-{n}", definition=_encode(d))
        for n, d in enumerate(definitions)
    ]
    return _Compiled(version, tuple(r.id for r in rules), plans, shards)


def _compiled(rules: Sequence[Rule], version: str) -> _Compiled:
    """The process's compiled, registered rulesets for `version`, registering on first use."""
    compiled = _registry.get(version)
    if compiled is not None and compiled.registered:
        return compiled
    with _registry_lock:
        compiled = _registry.get(version)
        if compiled is None:
            compiled = _compile(rules, version)
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
    wanted = "a string" if allowed is _STRING_TYPES else "a number or boolean"
    raise TypeError(
        f"fact {fact.get('fid', '?')!r} ({fact.get('kind')!r}): field {name!r} must be "
        f"{wanted} for the rules that test it, got {type(value).__name__} {value!r}"
    )


def _parse_fired(message: str) -> tuple[int, int] | None:
    """(rule index, posted fact id) of a fired action, None for the sentinel."""
    m = _FIRED.match(message)
    if m is None:  # not the layout we rely on: take the slow, format-agnostic road
        ((name, frame),) = json.loads(message).items()
        return None if name == _SENTINEL_RULE else (int(name[1:]), int(frame["m"]["id"]))
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

    def evaluate_many(
        self, batches: Sequence[Sequence[Mapping[str, Any]]]
    ) -> list[list[Match]]:
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
                projected: dict[str, Any] = {"id": len(refs), _KIND_KEY: kind}
                for name, key, allowed in plan.fields:
                    value = fact.get(name)
                    if value is None:
                        continue
                    if type(value) not in allowed and not isinstance(value, tuple(allowed)):
                        _type_error(fact, name, value, allowed)
                    projected[key] = value
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
        state: _Compiled,
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


__all__ = ["OPS", "Condition", "Match", "Op", "Rule", "RulesEngine", "RulesEngineError",
           "rules_version"]
