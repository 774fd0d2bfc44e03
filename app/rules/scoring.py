"""Priority scoring: a documented sum that maps onto P0-P3.

score = severity points (of the incident)
      + action-type points (prevention beats documentation)
      + effort points (cheap fixes first)
      + prevention potential: points per earlier incident in the window that
        shares a service and a cause category with what the action addresses,
        capped.
Every term is configurable in policy.yaml and every finding spells the
terms out, so a team arguing about a priority argues about the policy, not
about a black box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.domain.vocabulary import ActionType, Effort, Priority, Severity

from .conditions import Condition, Rule
from .model import Change, Context, FindingDraft
from .policy import Policy
from .views import ActionView, IncidentView

_SEVERITIES = frozenset(s.value for s in Severity)
_TYPES = frozenset(t.value for t in ActionType)
_EFFORTS = frozenset(e.value for e in Effort)


@dataclass(frozen=True, slots=True)
class Term:
    name: str
    label: str
    points: float


@dataclass(frozen=True, slots=True)
class Score:
    total: float
    band: str
    terms: tuple[Term, ...]
    related: tuple[str, ...]

    def explain(self) -> str:
        parts = "; ".join(f"{t.label}: {t.points:+g}" for t in self.terms)
        return f"score {self.total:g} \u2192 {self.band} ({parts})"


def rules(policy: Policy) -> list[Rule]:
    scored = (Condition("is_open", "is_true", None), Condition("is_compliance", "is_false", None))
    return [
        Rule("priority.scored", "action", scored),
        Rule("priority.below_score", "action", (*scored, Condition("priority_gap", ">", 0))),
        Rule("priority.apply", "action", (Condition("score_changed", "is_true", None),)),
    ]


def _categories(action: ActionView, incident: IncidentView) -> frozenset[str]:
    addressed = set(action.cause_keys)
    chosen = [c for c in incident.causes if c.key in addressed] or list(incident.causes)
    return frozenset(c.category for c in chosen)


def score(action: ActionView, incident: IncidentView, ctx: Context) -> Score:
    p = ctx.policy.scoring
    services, categories = frozenset(incident.services), _categories(action, incident)
    related = tuple(
        r.key
        for r in incident.related
        if r.key != incident.key and r.services & services and r.categories & categories
    )
    sev = p.severity[Severity(incident.severity)] if incident.severity in _SEVERITIES else 0
    kind = p.action_type[ActionType(action.type)] if action.type in _TYPES else 0
    effort = p.effort[Effort(action.effort)] if action.effort in _EFFORTS else p.effort_unknown
    prevention = min(p.prevention_max, p.per_related_incident * len(related))
    shared = (
        f"{', '.join(sorted(services)) or 'no service'} / "
        f"{', '.join(sorted(categories)) or 'no category'}"
    )
    terms = (
        Term("severity", f"incident severity {incident.severity}", sev),
        Term("type", f"action type {action.type}", kind),
        Term("effort", f"effort {action.effort or 'unknown'}", effort),
        Term(
            "prevention",
            f"{len(related)} incident(s) in the last {p.window_days} days with the "
            f"same service and cause category ({shared})",
            prevention,
        ),
    )
    total = round(sev + kind + effort + prevention, 2)
    return Score(total, p.band(total).value, terms, related)


def effective_priority(action: ActionView, result: Score, policy: Policy) -> str:
    """The priority deadlines are judged by: stated, else scored, else the policy default."""
    mode = policy.scoring.set_priority
    if action.priority and mode != "always":
        return action.priority
    if mode != "never" and not action.is_compliance:
        return result.band
    return action.priority or policy.deadlines.unprioritised.value


def action_fields(action: ActionView, result: Score, priority: str, ctx: Context) -> dict[str, Any]:
    rank = {p.value: i for i, p in enumerate(Priority)}
    gap = rank[priority] - rank[result.band] if priority in rank else 0
    stale_score = action.score is None or abs(action.score - result.total) > 1e-6
    stale_priority = priority != action.priority and ctx.policy.scoring.set_priority != "never"
    return {
        "score": result.total,
        "priority_gap": gap if action.priority == priority else 0,
        "score_changed": action.is_open
        and not action.is_compliance
        and (stale_score or stale_priority),
    }


def explain(
    rule: str,
    fact: dict[str, Any],
    action: ActionView,
    incident: IncidentView,
    ctx: Context,
    result: Score,
) -> FindingDraft | Change:
    label = f"{action.key} \u201c{action.title}\u201d"
    details: dict[str, Any] = {
        "score": result.total,
        "band": result.band,
        "terms": {t.name: t.points for t in result.terms},
        "related_incidents": list(result.related),
    }
    if action.line:
        details["line"] = action.line
    if rule == "priority.apply":
        values: dict[str, Any] = {"score": result.total}
        if fact["priority"] != action.priority:
            values["priority"] = fact["priority"]
        return Change(rule, "action", action.key, values, result.explain())
    if rule == "priority.below_score":
        return FindingDraft(
            rule,
            ctx.policy.severity(rule),
            "action",
            action.key,
            f"{label} is marked {action.priority} but scores {result.band}: {result.explain()}.",
            f"Raise it to {result.band}, or record why it can wait (and waive "
            "this finding with that reason).",
            details,
        )
    return FindingDraft(
        rule,
        ctx.policy.severity(rule),
        "action",
        action.key,
        f"{label}: {result.explain()}.",
        "Nothing to do unless a term looks wrong: adjust the action's type or "
        "effort, or tune scoring in config/policy.yaml.",
        details,
    )
