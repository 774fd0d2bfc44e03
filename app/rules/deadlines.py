"""Deadlines: a due date inside policy, and overdue or stale work escalated.

The longest allowed delay depends on the priority (P0 a week, P3 half a
year by default), because a far-off date for urgent work is how a "P0" quietly
becomes "never". Overdue and stale actions carry their rung on the
escalation ladder (owner, team lead, director) so the sweep and the reader
both know who should hear about it next. Thresholds compile into one engine
rule per priority and per rung, so the engine (not Python) decides which holds.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from app.domain.vocabulary import Priority

from .conditions import Condition, Rule
from .model import Change, Context, FindingDraft, action_finding
from .ownership import owning_team
from .policy import Policy
from .views import ActionView, IncidentView

_OPEN = Condition("is_open", "is_true", None)


def _rungs(low: int, steps: list[int]) -> list[tuple[int, int, int | None]]:
    """(level, from, to) for each rung; `to` is exclusive and None for the top rung."""
    out = []
    for i, start in enumerate(steps):
        end = steps[i + 1] if i + 1 < len(steps) else None
        start = max(start, low)
        if end is None or start < end:
            out.append((i + 1, start, end))
    return out


def _ladder(
    rule: str, field: str, base: int, policy: Policy, extra: tuple[Condition, ...]
) -> list[Rule]:
    steps = [base + s.after_days for s in policy.deadlines.escalation]
    out = []
    for level, start, end in _rungs(max(base, 1), steps):
        when = (_OPEN, *extra, Condition(field, ">=", start))
        if end is not None:
            when += (Condition(field, "<", end),)
        out.append(Rule(f"{rule}@{level}", "action", when))
    return out


def rules(policy: Policy) -> list[Rule]:
    d = policy.deadlines
    out = [Rule("deadlines.missing", "action", (_OPEN, Condition("has_due", "is_false", None)))]
    if d.default_due:
        out.append(
            Rule(
                "deadlines.default_due",
                "action",
                (_OPEN, Condition("due_defaulted", "is_true", None)),
            )
        )
    for priority in Priority:
        out.append(
            Rule(
                f"deadlines.too_far@{priority.value}",
                "action",
                (
                    _OPEN,
                    Condition("is_compliance", "is_false", None),
                    Condition("priority", "==", priority.value),
                    Condition("due_span", ">", d.max_days[priority]),
                ),
            )
        )
    # Compliance actions are chased by compliance.overdue, with the regulation's wording.
    regular = Condition("is_compliance", "is_false", None)
    out += _ladder("deadlines.overdue", "days_overdue", 0, policy, (regular,))
    out += _ladder(
        "deadlines.stale",
        "days_idle",
        d.stale_after_days,
        policy,
        (regular, Condition("days_overdue", "<=", 0)),
    )
    return out


def effective_due(
    action: ActionView, incident: IncidentView, priority: str, ctx: Context
) -> date | None:
    if action.due_date is not None or not ctx.policy.deadlines.default_due or not action.is_open:
        return action.due_date
    days = ctx.policy.deadlines.default_for(Priority(priority))
    return raised(action, incident, ctx) + timedelta(days=days)


def raised(action: ActionView, incident: IncidentView, ctx: Context) -> date:
    """When the action was raised: its creation, or for an incident recorded after the fact
    (imported), no later than the incident's resolution, since the import date means nothing."""
    created = action.created_at.date() if action.created_at else ctx.today
    ended = incident.resolved_at or incident.closed_at
    if incident.backfilled and ended is not None:
        return min(created, ended.date())
    return created


def action_fields(
    action: ActionView, incident: IncidentView, priority: str, ctx: Context
) -> dict[str, Any]:
    due = effective_due(action, incident, priority, ctx)
    is_open = action.is_open
    idle = (ctx.now - action.last_activity_at).days if action.last_activity_at else 0
    return {
        "has_due": due is not None,
        "due_defaulted": due is not None and action.due_date is None,
        "due_span": (due - raised(action, incident, ctx)).days if due else 0,
        "priority": priority,
        "days_overdue": (ctx.today - due).days if due and is_open else 0,
        "days_idle": idle if is_open else 0,
    }


def _escalate_to(
    level: int, action: ActionView, incident: IncidentView, ctx: Context
) -> str | None:
    step = ctx.policy.deadlines.escalation[level - 1].to
    if step == "owner":
        return action.owner
    team = owning_team(action, incident, ctx)
    if team is None:
        return None
    return team.lead if step == "team_lead" else team.director


def explain(
    rule: str, fact: dict[str, Any], action: ActionView, incident: IncidentView, ctx: Context
) -> FindingDraft | Change:
    base, _, suffix = rule.partition("@")
    label = f"{action.key} \u201c{action.title}\u201d"
    priority = fact["priority"]
    if base == "deadlines.default_due":
        due = raised(action, incident, ctx) + timedelta(days=fact["due_span"])
        return Change(
            base,
            "action",
            action.key,
            {"due_date": due},
            f"no due date given; {priority} default of {fact['due_span']} days applied",
        )
    if base == "deadlines.missing":
        days = ctx.policy.deadlines.max_days[Priority(priority)]
        return action_finding(
            ctx,
            base,
            action,
            f"{label} has no due date, so nothing tells anyone when it is late.",
            f"Set a due date within {days} days (the {priority} limit).",
        )
    if base == "deadlines.too_far":
        limit = ctx.policy.deadlines.max_days[Priority(priority)]
        return action_finding(
            ctx,
            base,
            action,
            f"{label} is due {fact['due_span']} days after it was "
            f"raised; policy allows at most {limit} days for {priority}.",
            f"Bring the due date forward to within {limit} days, or lower the "
            "priority if the work really is less urgent.",
            {"due_span": fact["due_span"], "max_days": limit, "priority": priority},
        )
    return _escalation(base, int(suffix), fact, label, action, incident, ctx)


def _escalation(
    base: str,
    level: int,
    fact: dict[str, Any],
    label: str,
    action: ActionView,
    incident: IncidentView,
    ctx: Context,
) -> FindingDraft:
    """An overdue or stale action, at the escalation rung `level` of the policy's ladder."""
    who = _escalate_to(level, action, incident, ctx)
    rung = ctx.policy.deadlines.escalation[level - 1].to.replace("_", " ")
    details = {"escalation_level": level, "escalate_to": who, "rung": rung}
    if base == "deadlines.overdue":
        days = fact["days_overdue"]
        return action_finding(
            ctx,
            base,
            action,
            f"{label} is {days} day(s) overdue (escalation level "
            f"{level}: {rung}{f', {who}' if who else ''}).",
            "Finish it, or agree a new date with the owner and record why it moved.",
            {**details, "days_overdue": days},
        )
    days = fact["days_idle"]
    return action_finding(
        ctx,
        base,
        action,
        f"{label} has had no activity for {days} days (escalation "
        f"level {level}: {rung}{f', {who}' if who else ''}).",
        "Post progress, mark it blocked with the reason, or close it as won't do with a rationale.",
        {**details, "days_idle": days},
    )
