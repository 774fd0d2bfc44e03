"""Compliance deadlines: dated obligations for regulated incidents.

A regulatory flag on an incident (hipaa, gdpr, sec_reg_sci, sla) brings
obligations with a clock that starts at discovery, detection or
resolution, e.g. HIPAA breach notification within 60 days, GDPR notice to
the supervisory authority within 72 hours. Each becomes a finding (due,
then blocking once late) and an action with an owner, because a deadline
nobody owns is missed by default. The obligations are data in policy.yaml,
not code: legal reviews them there.

An obligation is met by what happened, recorded either way: a timeline event
of kind `notification` naming it (`obligation: sec_reg_sci.immediate_notice`,
the regulator was told at that time), or a done or verified action linked to
it (`compliance_rule`). A met obligation raises no finding and no new action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.domain.vocabulary import ActionStatus, ActionType, RegulatoryFlag, TimelineKind

from .conditions import Condition, Rule
from .model import Change, Context, FindingDraft
from .policy import Obligation, Policy
from .views import ActionView, IncidentView, TimelineView

_CLOCK = {
    "detected_at": "detection",
    "started_at": "the incident's start",
    "resolved_at": "resolution",
    "created_at": "the incident's creation",
    "now": "now",
}
_FLAGS = frozenset(f.value for f in RegulatoryFlag)
_MET = {ActionStatus.DONE.value, ActionStatus.VERIFIED.value}


@dataclass(frozen=True, slots=True)
class Due:
    flag: str
    obligation: Obligation
    starts_at: datetime
    anchor: str
    due_at: datetime
    action: ActionView | None
    notified: TimelineView | None = None  # the earliest notification event naming it
    done_action: ActionView | None = None  # a done or verified action linked to it

    @property
    def is_met(self) -> bool:
        return self.notified is not None or self.done_action is not None

    def key(self, incident: IncidentView) -> str:
        return f"{incident.key}/{self.obligation.id}"


def rules(policy: Policy) -> list[Rule]:
    unmet = Condition("is_met", "is_false", None)
    out = [
        Rule("compliance.due", "obligation", (unmet, Condition("overdue", "is_false", None))),
        Rule("compliance.overdue", "obligation", (unmet, Condition("overdue", "is_true", None))),
    ]
    if policy.compliance.create_actions:
        out.append(
            Rule(
                "compliance.create_action",
                "obligation",
                (Condition("has_action", "is_false", None), unmet),
            )
        )
    return out


def obligations(incident: IncidentView, ctx: Context) -> list[Due]:
    out = []
    by_rule = {a.compliance_rule: a for a in incident.actions if a.compliance_rule}
    done = {
        a.compliance_rule: a for a in incident.actions if a.compliance_rule and a.status in _MET
    }
    notified: dict[str, TimelineView] = {}
    for event in sorted(incident.timeline, key=lambda t: (t.at is None, t.at)):
        if event.kind == TimelineKind.NOTIFICATION.value and event.obligation:
            notified.setdefault(event.obligation, event)
    for flag in incident.regulatory:
        if flag not in _FLAGS:
            continue
        for ob in ctx.policy.compliance.obligations.get(RegulatoryFlag(flag), ()):
            anchor, start = _anchor(incident, ob, ctx)
            due = Due(
                flag,
                ob,
                start,
                anchor,
                start + timedelta(hours=ob.hours),
                done.get(ob.id) or by_rule.get(ob.id),
                notified.get(ob.id),
                done.get(ob.id),
            )
            out.append(due)
    return out


def _anchor(incident: IncidentView, ob: Obligation, ctx: Context) -> tuple[str, datetime]:
    """The configured clock start, falling back to the earliest time the incident has."""
    for name in (ob.starts, "detected_at", "started_at", "created_at"):
        value = getattr(incident, name)
        if value is not None:
            return name, value
    return "now", ctx.now


def fact_fields(due: Due, ctx: Context) -> dict[str, Any]:
    return {
        "obligation": due.obligation.id,
        "has_action": due.action is not None,
        "is_met": due.is_met,
        "overdue": ctx.now > due.due_at,
        "hours_left": round((due.due_at - ctx.now).total_seconds() / 3600, 1),
    }


def owner_for(due: Due, incident: IncidentView, ctx: Context) -> tuple[str | None, str | None]:
    team = (
        ctx.catalog.team(due.obligation.owner_team)
        if due.obligation.owner_team
        else ctx.catalog.team_for_services(list(incident.services))
    )
    if team is None:
        return None, due.obligation.owner_team
    return team.default_owner or team.lead, team.name


def explain(
    rule: str, fact: dict[str, Any], due: Due, incident: IncidentView, ctx: Context
) -> FindingDraft | Change:
    ob = due.obligation
    owner, team = owner_for(due, incident, ctx)
    if rule == "compliance.create_action":
        return _create_action(rule, due, incident, owner, team)
    when = f"{due.due_at:%Y-%m-%d %H:%M} UTC"
    hours = abs(fact["hours_left"])
    span = f"{hours:g} hours" if hours <= 72 else f"{hours / 24:.0f} days"
    tracked = (
        f"tracked as {due.action.key} (owner {due.action.owner or 'none'})"
        if due.action
        else "not yet tracked as an action"
    )
    details = {
        "flag": due.flag,
        "obligation": ob.id,
        "due_at": due.due_at.isoformat(),
        "starts_at": due.starts_at.isoformat(),
        "clock_from": due.anchor,
        "action": due.action.key if due.action else None,
        "owner": owner,
    }
    if rule == "compliance.overdue":
        message = (
            f"{due.flag.upper()}: \u201c{ob.title}\u201d was due {when} ({span} ago; "
            f"{_window(ob)} from {_CLOCK[due.anchor]}) and is not done; "
            f"{tracked}."
        )
        fix = (
            "Complete the notification now and record it: a timeline event of kind "
            f"notification with obligation {ob.id}, or mark its action done."
        )
    else:
        message = (
            f"{due.flag.upper()}: \u201c{ob.title}\u201d is due {when} (in {span}; "
            f"{_window(ob)} from {_CLOCK[due.anchor]}); {tracked}."
        )
        fix = (
            "Make sure the owner has what they need; once sent, record a notification event "
            f"(obligation {ob.id}) or mark the action done."
        )
    return FindingDraft(
        rule, ctx.policy.severity(rule), "obligation", due.key(incident), message, fix, details
    )


def _create_action(
    rule: str, due: Due, incident: IncidentView, owner: str | None, team: str | None
) -> Change:
    """The obligation as an action with an owner and the regulation's date."""
    ob = due.obligation
    return Change(
        rule,
        "incident",
        incident.key,
        {
            "title": ob.title,
            "type": ActionType.PROCESS.value,
            "owner": owner,
            "team": team,
            "due_date": due.due_at.date(),
            "priority": ob.priority.value,
            "success_criteria": ob.success_criteria,
            "validation_method": ob.validation_method,
            "is_compliance": True,
            "compliance_rule": ob.id,
            "description": f"{due.flag.upper()} obligation {ob.id}: {_window(ob)} from "
            f"{_CLOCK[due.anchor]} ({due.starts_at:%Y-%m-%d %H:%M} UTC).",
        },
        f"regulatory flag {due.flag} requires {ob.id}",
    )


def _window(ob: Obligation) -> str:
    return f"{ob.within_hours:g} hours" if ob.within_hours else f"{ob.within_days:g} days"
