"""Rules to durable-rules ruleset JSON, and how to project facts onto it; no C calls here.

Pure so that compiling (and the version digest the registry is keyed by) can be reasoned
about and tested without the C engine; `engine.py` registers what this produces. The
layout choices (renamed keys, sharding, the sentinel rule) exist because of limits of
the C engine, explained in `engine.py`'s docstring.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .conditions import STRING_TYPES, Condition, Rule, encode

# Kept well under the C engine's limit of 64 rules matching one fact.
RULES_PER_SHARD: Final = 32
# Bump when the compiled form changes, so a version never names two layouts.
COMPILER_REVISION: Final = "1"

_COMPARISON_OPS: Final = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}

# Posted keys: user fields are renamed to f0, f1, ... so no field name can
# collide with durable-rules' own `id`/`sid`/`$...` keys or break its parser.
KIND_KEY: Final = "k"
SENTINEL_KEY: Final = "h"
SENTINEL_RULE: Final = "sentinel"


@dataclass(frozen=True)
class KindPlan:
    """How to project a fact of one kind: which fields, checked how, posted to which shards."""

    fields: tuple[tuple[str, str, frozenset[type]], ...]  # (fact field, posted key, types)
    shards: tuple[int, ...]


@dataclass
class Shard:
    name: str
    definition: str  # the ruleset JSON handed to durable-rules
    handle: int = 0


@dataclass
class Compiled:
    """Everything derived from one rules version; shared by engines of that version."""

    version: str
    rule_ids: tuple[str, ...]
    plans: dict[str, KindPlan]
    shards: list[Shard]
    lock: threading.Lock = field(default_factory=threading.Lock)
    registered: bool = False


def rules_version(rules: Sequence[Rule]) -> str:
    """A digest of the rules in order (order decides match order, so it is part of the version)."""
    canonical = [[r.id, r.kind, [[c.field, c.op, c.value] for c in r.when]] for r in rules]
    payload = encode([COMPILER_REVISION, canonical]).encode()
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


def _check_ids(rules: Sequence[Rule]) -> None:
    seen: set[str] = set()
    for r in rules:
        if not isinstance(r, Rule):
            raise ValueError(f"{r!r} is not a Rule")
        if r.id in seen:
            raise ValueError(f"duplicate rule id {r.id!r}")
        seen.add(r.id)


def _field_keys(rules: Sequence[Rule]) -> tuple[dict[str, str], dict[str, frozenset[type]]]:
    """Each tested field's posted key and value types; a field is strings or numbers, not both."""
    keys: dict[str, str] = {"kind": KIND_KEY}
    types: dict[str, frozenset[type]] = {"kind": STRING_TYPES}
    for r in rules:
        for c in r.when:
            keys.setdefault(c.field, f"f{len(keys) - 1}")
            wanted = c.value_types()
            if types.setdefault(c.field, wanted) != wanted:
                raise ValueError(
                    f"rule {r.id!r}: field {c.field!r} is compared with both strings and numbers"
                )
    return keys, types


def compile_rulesets(rules: Sequence[Rule], version: str) -> Compiled:
    """The ruleset JSON of every shard, and a projection plan per fact kind (unregistered)."""
    _check_ids(rules)
    keys, types = _field_keys(rules)
    by_kind: dict[str, list[int]] = {}
    for index, r in enumerate(rules):
        by_kind.setdefault(r.kind, []).append(index)

    definitions: list[dict[str, Any]] = []
    plans: dict[str, KindPlan] = {}
    for kind, indexes in by_kind.items():
        shard_ids = []
        for chunk, start in enumerate(range(0, len(indexes), RULES_PER_SHARD)):
            if chunk == len(definitions):
                definitions.append({SENTINEL_RULE: {"all": [{"m": {SENTINEL_KEY: 1}}]}})
            for index in indexes[start : start + RULES_PER_SHARD]:
                tests = [{KIND_KEY: kind}]
                tests += [_condition_json(c, keys[c.field]) for c in rules[index].when]
                definitions[chunk][f"r{index}"] = {"all": [{"m": {"$and": tests}}]}
            shard_ids.append(chunk)
        names = dict.fromkeys(c.field for i in indexes for c in rules[i].when if c.field != "kind")
        plans[kind] = KindPlan(
            fields=tuple((name, keys[name], types[name]) for name in names),
            shards=tuple(shard_ids),
        )

    shards = [
        Shard(name=f"hindsight-{version}-{n}", definition=encode(d))
        for n, d in enumerate(definitions)
    ]
    return Compiled(version, tuple(r.id for r in rules), plans, shards)


__all__ = ["Compiled", "KindPlan", "Shard", "compile_rulesets", "rules_version"]
