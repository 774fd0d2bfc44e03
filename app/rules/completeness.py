"""Completeness: the postmortem has what a reader needs to learn from it.

A timeline with detection and resolution (so time-to-detect and
time-to-resolve can be read off it), at least one root cause, every root
cause addressed by an action, actions that say how success is measured and
checked, the right people in the room for major incidents, a timely review,
and decisions with their rationale. Incident-level checks wait until there
is a postmortem (or the incident is resolved); before that, gaps are
simply work in progress.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.domain.vocabulary import ParticipantRole

from .conditions import Condition, Rule
from .model import Context, FindingDraft
from .policy import Policy
from .views import ActionView, CauseView, IncidentView, TimelineView

_ROLES = frozenset(r.value for r in ParticipantRole)
_APPLIES = Condition("applies", "is_true", None)


def rules(policy: Policy) -> list[Rule]:
    out = [
        Rule(
            "completeness.summary",
            "incident",
            (_APPLIES, Condition("has_summary", "is_false", None)),
        ),
        Rule(
            "completeness.timeline_detection",
            "incident",
            (_APPLIES, Condition("has_detection", "is_false", None)),
        ),
        Rule(
            "completeness.timeline_resolution",
            "incident",
            (_APPLIES, Condition("has_resolution", "is_false", None)),
        ),
        Rule("completeness.root_cause", "incident", (_APPLIES, Condition("root_causes", "==", 0))),
        Rule(
            "completeness.review_late",
            "incident",
            (_APPLIES, Condition("review_days_late", ">", 0)),
        ),
        Rule(
            "completeness.cause_unaddressed",
            "cause",
            (
                _APPLIES,
                Condition("cause_kind", "==", "root_cause"),
                Condition("addressed_by", "==", 0),
            ),
        ),
        Rule(
            "completeness.success_criteria",
            "action",
            (Condition("counts", "is_true", None), Condition("has_criteria", "is_false", None)),
        ),
        Rule(
            "completeness.validation_method",
            "action",
            (Condition("counts", "is_true", None), Condition("has_validation", "is_false", None)),
        ),
        Rule(
            "completeness.decision_rationale",
            "decision",
            (Condition("has_rationale", "is_false", None),),
        ),
    ]
    return out + _role_rules(policy)


def _role_rules(policy: Policy) -> list[Rule]:
    """Review roles, required only for the severities the policy names (none: no rules)."""
    c = policy.completeness
    if not c.roles_required_for:
        return []
    major = Condition("severity", "in", tuple(s.value for s in c.roles_required_for))
    return [
        Rule(f"completeness.{name}", "incident", (_APPLIES, major, Condition(flag, "is_false")))
        for name, flag in (
            ("facilitator", "has_facilitator"),
            ("technical_role", "has_technical"),
            ("business_role", "has_business"),
        )
    ]


def _text(value: str | None) -> bool:
    return bool(value and value.strip())


def _roles(incident: IncidentView) -> set[ParticipantRole]:
    return {ParticipantRole(p.role) for p in incident.participants if p.role in _ROLES}


def review_days_late(incident: IncidentView, ctx: Context) -> int:
    resolved = incident.resolved_at or incident.closed_at
    if resolved is None or incident.postmortem is None:
        return 0
    deadline = resolved.date() + timedelta(days=ctx.policy.completeness.review_window_days)
    held = incident.postmortem.review_held_at
    return ((held.date() if held else ctx.today) - deadline).days


def incident_fields(incident: IncidentView, ctx: Context) -> dict[str, Any]:
    c = ctx.policy.completeness
    kinds = {t.kind for t in incident.timeline}
    roles = _roles(incident)
    pm = incident.postmortem
    return {
        "applies": incident.is_resolved,
        "severity": incident.severity,
        "has_summary": _text(incident.summary) or (pm is not None and _text(pm.summary)),
        "has_detection": any(k in kinds for k in c.detection_kinds)
        or (c.incident_times_count and incident.detected_at is not None),
        "has_resolution": any(k in kinds for k in c.resolution_kinds)
        or (c.incident_times_count and incident.resolved_at is not None),
        "root_causes": sum(1 for x in incident.causes if x.kind == "root_cause"),
        "has_facilitator": ParticipantRole.FACILITATOR in roles
        or (pm is not None and _text(pm.facilitator)),
        "has_technical": any(r.is_technical for r in roles),
        "has_business": any(r.is_business for r in roles),
        "review_days_late": review_days_late(incident, ctx),
    }


def cause_fields(cause: CauseView, addressed_by: int, incident: IncidentView) -> dict[str, Any]:
    return {"applies": incident.is_resolved, "cause_kind": cause.kind, "addressed_by": addressed_by}


def action_fields(action: ActionView) -> dict[str, Any]:
    return {
        "counts": action.counts,
        "has_criteria": _text(action.success_criteria),
        "has_validation": _text(action.validation_method),
    }


def decision_fields(event: TimelineView) -> dict[str, Any]:
    return {"has_rationale": _text(event.rationale)}


_INCIDENT_TEXT: dict[str, tuple[str, str]] = {
    "completeness.summary": (
        "{key} has no summary, so readers cannot tell what happened without the whole timeline.",
        "Write two or three sentences: what users saw, for how long, and why.",
    ),
    "completeness.timeline_detection": (
        "{key} has no detection time (no detected_at, no timeline event of kind {kinds}), so "
        "time to detect cannot be measured.",
        "Set the incident's detected_at, or add the moment the problem was first noticed "
        "(alert, page or report) as a detection event.",
    ),
    "completeness.timeline_resolution": (
        "{key} has no resolution time (no resolved_at, no resolution event on the timeline), so "
        "time to resolve cannot be measured.",
        "Set the incident's resolved_at, or add the moment service was restored as a "
        "resolution event.",
    ),
    "completeness.root_cause": (
        "{key} has no root cause recorded; without one the actions cannot be checked against it.",
        "Add at least one cause of kind root_cause (a condition in the system, not a person).",
    ),
    "completeness.facilitator": (
        "{key} is {severity} but has no facilitator; major reviews need a neutral facilitator to "
        "stay blameless.",
        "Set the postmortem facilitator (the catalog lists trained ones).",
    ),
    "completeness.technical_role": (
        "{key} is {severity} but no technical participant (commander, expert or responder) is "
        "recorded.",
        "Add the people who worked the incident with their roles.",
    ),
    "completeness.business_role": (
        "{key} is {severity} but no business participant (stakeholder, communications or "
        "support) is recorded, so customer impact is judged by engineers alone.",
        "Invite a business stakeholder or customer support lead and record them.",
    ),
    "completeness.review_late": (
        "{key}'s review is {late} day(s) past the {window}-day window after resolution; memories "
        "fade and the fixes lose urgency.",
        "Hold the review now and record when it happened.",
    ),
}


def explain_incident(
    rule: str, fact: dict[str, Any], incident: IncidentView, ctx: Context
) -> FindingDraft:
    message, suggestion = _INCIDENT_TEXT[rule]
    kinds = ", ".join(k.value for k in ctx.policy.completeness.detection_kinds)
    values = {
        "key": incident.key,
        "severity": incident.severity,
        "kinds": kinds,
        "late": fact.get("review_days_late"),
        "window": ctx.policy.completeness.review_window_days,
    }
    details: dict[str, Any] = {"line": incident.line} if incident.line else {}
    if rule == "completeness.review_late":
        details["days_late"] = fact["review_days_late"]
    entity = (
        "postmortem"
        if rule in {"completeness.summary", "completeness.review_late", "completeness.facilitator"}
        else "incident"
    )
    return FindingDraft(
        rule,
        ctx.policy.severity(rule),
        entity,
        incident.key,
        message.format(**values),
        suggestion,
        details,
    )


def explain_cause(rule: str, cause: CauseView, ctx: Context) -> FindingDraft:
    return FindingDraft(
        rule,
        ctx.policy.severity(rule),
        "cause",
        cause.key,
        f"Root cause \u201c{_short(cause.statement)}\u201d has no action addressing "
        "it, so nothing stops it from happening again.",
        "Add an action that prevents or detects it and link it to this cause.",
        {"line": cause.line} if cause.line else {},
    )


def explain_action(rule: str, action: ActionView, ctx: Context) -> FindingDraft:
    label = f"{action.key} \u201c{action.title}\u201d"
    if rule == "completeness.success_criteria":
        message = f"{label} has no success criteria, so nobody can say when it is done."
        fix = "Say what will be true when it works, measurably (e.g. 'restore test passes weekly')."
    else:
        message = f"{label} has no validation method, so its effect will never be checked."
        fix = "Say how success will be verified (a test, a drill, a dashboard, an alert firing)."
    return FindingDraft(
        rule,
        ctx.policy.severity(rule),
        "action",
        action.key,
        message,
        fix,
        {"line": action.line} if action.line else {},
    )


def explain_decision(rule: str, event: TimelineView, ctx: Context) -> FindingDraft:
    return FindingDraft(
        rule,
        ctx.policy.severity(rule),
        "timeline_event",
        event.key,
        f"Decision \u201c{_short(event.text)}\u201d has no rationale; later readers "
        "cannot see why it looked right at the time.",
        "Record the rationale and the alternatives that were considered.",
        {"line": event.line} if event.line else {},
    )


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
