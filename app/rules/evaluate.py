"""The policy pipeline: views -> facts -> engine matches -> findings and changes.

Pure: no database, no clock except `Context.now`, so the service, the lint
command, the publish gate and the benchmark all run exactly this code.
Compiled rules and engines are cached per policy digest and scope, because
registering rulesets with durable-rules is the expensive part and must
happen once per process and policy version. The engine (and with it the
durable-rules C extension) is only imported when an engine is first built,
so compiling or inspecting a policy's rules never loads it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from . import completeness, compliance, deadlines, language, ownership, scoring, verification
from .catalogue import base_id
from .conditions import Rule
from .facts import FactSet, Ref, build
from .model import Change, Context, FindingDraft, Outcome
from .policy import Policy
from .views import IncidentView

if TYPE_CHECKING:
    from .engine import RulesEngine

Scope = Literal["all", "lint"]

_COMPILERS: dict[Scope, tuple[Callable[[Policy], list[Rule]], ...]] = {
    "all": (
        ownership.rules,
        deadlines.rules,
        scoring.rules,
        completeness.rules,
        language.rules,
        compliance.rules,
        verification.rules,
    ),
    "lint": (completeness.rules, language.rules),
}
_ENGINES: dict[tuple[str, Scope], RulesEngine] = {}
_LOCK = threading.Lock()


def compile_rules(policy: Policy, scope: Scope = "all") -> tuple[Rule, ...]:
    """The policy's rules with disabled ones left out (they never reach the engine)."""
    rules = [r for compiler in _COMPILERS[scope] for r in compiler(policy)]
    return tuple(r for r in rules if policy.enabled(base_id(r.id)))


def engine_for(policy: Policy, scope: Scope = "all") -> RulesEngine:
    key = (policy.digest, scope)
    engine = _ENGINES.get(key)
    if engine is None:
        with _LOCK:
            engine = _ENGINES.get(key)
            if engine is None:
                from .engine import RulesEngine  # here, not at import: loads the C extension

                engine = _ENGINES[key] = RulesEngine(compile_rules(policy, scope))
    return engine


def evaluate(
    incidents: Sequence[IncidentView],
    ctx: Context,
    engine: RulesEngine | None = None,
    scope: Scope = "all",
) -> dict[str, Outcome]:
    """Outcomes keyed by incident key, findings in a stable order."""
    engine = engine or engine_for(ctx.policy, scope)
    factset = build(list(incidents), ctx)
    outcomes = {i.key: Outcome() for i in incidents}
    for match in engine.evaluate(factset.facts):
        ref, fact = factset.refs[str(match.fact["fid"])]
        item = explain(match.rule_id, fact, ref, ctx)
        outcome = outcomes[ref.incident.key]
        if isinstance(item, Change):
            outcome.changes.append(item)
        else:
            outcome.findings.append(item)
    for outcome in outcomes.values():
        outcome.findings.sort(key=_order)
        outcome.changes.sort(key=lambda c: (c.entity_key, c.rule))
    return outcomes


_SEVERITY_ORDER = {"blocker": 0, "warning": 1, "info": 2}


def _order(f: FindingDraft) -> tuple[Any, ...]:
    return (_SEVERITY_ORDER.get(f.severity, 3), f.line or 0, f.rule, f.entity_key, f.discriminator)


def explain(rule: str, fact: dict[str, Any], ref: Ref, ctx: Context) -> FindingDraft | Change:
    """Hand a match to the module that owns its rule, with the entity it matched."""
    family = rule.partition(".")[0]
    incident, obj = ref.incident, ref.obj
    if family == "ownership":
        return ownership.explain(rule, fact, obj, incident, ctx)
    if family == "deadlines":
        return deadlines.explain(rule, fact, obj, incident, ctx)
    if family == "priority":
        assert ref.score is not None
        return scoring.explain(rule, fact, obj, incident, ctx, ref.score)
    if family == "language":
        return language.explain(rule, obj, ctx)
    if family == "compliance":
        return compliance.explain(rule, fact, obj, incident, ctx)
    if family == "verification":
        return verification.explain(rule, obj, ctx)
    if ref.kind == "incident":
        return completeness.explain_incident(rule, fact, incident, ctx)
    if ref.kind == "cause":
        return completeness.explain_cause(rule, obj, ctx)
    if ref.kind == "decision":
        return completeness.explain_decision(rule, obj, ctx)
    return completeness.explain_action(rule, obj, ctx)


def blockers(findings: Sequence[FindingDraft], waived: set[str]) -> list[FindingDraft]:
    return [f for f in findings if f.severity == "blocker" and f.fingerprint not in waived]


__all__ = ["FactSet", "Scope", "blockers", "compile_rules", "engine_for", "evaluate"]
