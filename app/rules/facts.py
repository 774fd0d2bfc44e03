"""Flat facts for the engine, built from incident views.

The engine matches on scalar fields only, so everything that needs
arithmetic or a lookup (scores, effective due dates, catalog membership,
blame detection) is computed here once per entity; the rules then only
compare. Each fact keeps a `Ref` back to the entity it describes, which is
what turns a match into a finding with a readable message.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import completeness, compliance, deadlines, language, ownership, scoring, verification
from .model import Context
from .views import ActionView, IncidentView


@dataclass(frozen=True, slots=True)
class Ref:
    """What a fact stands for: the entity (or blame hit / obligation) and its incident."""

    incident: IncidentView
    kind: str
    obj: Any = None
    score: scoring.Score | None = None


@dataclass
class FactSet:
    facts: list[dict[str, Any]] = field(default_factory=list)
    refs: dict[str, tuple[Ref, dict[str, Any]]] = field(default_factory=dict)

    def add(self, ref: Ref, fields: dict[str, Any]) -> None:
        fid = str(len(self.facts))
        fact = {"kind": ref.kind, "fid": fid, **fields}
        self.facts.append(fact)
        self.refs[fid] = (ref, fact)


def build(incidents: list[IncidentView], ctx: Context) -> FactSet:
    out = FactSet()
    for incident in incidents:
        add_incident(out, incident, ctx)
    return out


def add_incident(out: FactSet, incident: IncidentView, ctx: Context) -> None:
    out.add(Ref(incident, "incident"), completeness.incident_fields(incident, ctx))
    addressed: Counter[str] = Counter()
    for action in incident.actions:
        if action.counts:
            addressed.update(set(action.cause_keys))
        _add_action(out, action, incident, ctx)
    for cause in incident.causes:
        out.add(
            Ref(incident, "cause", cause),
            completeness.cause_fields(cause, addressed[cause.key], incident),
        )
    for event in incident.timeline:
        if event.is_decision or event.kind == "decision":
            out.add(Ref(incident, "decision", event), completeness.decision_fields(event))
    for hit in language.hits(incident, ctx):
        out.add(Ref(incident, "blame", hit), language.fact_fields(hit))
    for due in compliance.obligations(incident, ctx):
        out.add(Ref(incident, "obligation", due), compliance.fact_fields(due, ctx))


def _add_action(out: FactSet, action: ActionView, incident: IncidentView, ctx: Context) -> None:
    result = scoring.score(action, incident, ctx)
    priority = scoring.effective_priority(action, result, ctx.policy)
    fields = {
        "is_open": action.is_open,
        "is_compliance": action.is_compliance,
        **ownership.action_fields(action, incident, ctx),
        **deadlines.action_fields(action, incident, priority, ctx),
        **scoring.action_fields(action, result, priority, ctx),
        **completeness.action_fields(action),
        **verification.action_fields(action),
    }
    out.add(Ref(incident, "action", action, result), fields)
