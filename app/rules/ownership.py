"""Ownership: every open action has an owner the service catalog knows.

An action nobody owns is the commonest way a postmortem turns into a
document instead of an improvement. Where the policy allows, evaluation
assigns the owning team's default owner (audited) instead of nagging; an
owner written as an unknown name gets flagged because escalation and the
Jira assignee both need a real person.
"""

from __future__ import annotations

from typing import Any

from app.catalog import Team

from .conditions import Condition, Rule
from .model import Change, Context, FindingDraft, action_finding
from .policy import Policy
from .views import ActionView, IncidentView


def rules(policy: Policy) -> list[Rule]:
    out = [
        Rule(
            "ownership.missing",
            "action",
            (
                Condition("is_open", "is_true", None),
                Condition("has_owner", "is_false", None),
                Condition("default_owner", "==", ""),
            ),
        ),
    ]
    if policy.ownership.require_catalog_owner:
        out.append(
            Rule(
                "ownership.unknown_owner",
                "action",
                (
                    Condition("is_open", "is_true", None),
                    Condition("has_owner", "is_true", None),
                    Condition("owner_known", "is_false", None),
                ),
            )
        )
    if policy.ownership.assign_default_owner:
        out.append(
            Rule(
                "ownership.assign_default",
                "action",
                (
                    Condition("is_open", "is_true", None),
                    Condition("has_owner", "is_false", None),
                    Condition("default_owner", "!=", ""),
                ),
            )
        )
    return out


def owning_team(action: ActionView, incident: IncidentView, ctx: Context) -> Team | None:
    """The action's own team first; otherwise the team owning the incident's services."""
    return ctx.catalog.team(action.team) or ctx.catalog.team_for_services(list(incident.services))


def action_fields(action: ActionView, incident: IncidentView, ctx: Context) -> dict[str, Any]:
    default = ""
    if not action.owner and ctx.policy.ownership.assign_default_owner:
        team = owning_team(action, incident, ctx)
        default = (team.default_owner or "") if team else ""
    return {
        "has_owner": bool(action.owner),
        "owner_known": bool(action.owner) and ctx.knows(action.owner or ""),
        "default_owner": default,
    }


def explain(
    rule: str, fact: dict[str, Any], action: ActionView, incident: IncidentView, ctx: Context
) -> FindingDraft | Change:
    label = f"{action.key} \u201c{action.title}\u201d"
    team = owning_team(action, incident, ctx)
    if rule == "ownership.assign_default":
        owner = fact["default_owner"]
        return Change(
            rule,
            "action",
            action.key,
            {"owner": owner, "team": team.name if team else None},
            f"no owner given; assigned {team.name if team else 'the'} team's default owner",
        )
    if rule == "ownership.unknown_owner":
        return action_finding(
            ctx,
            rule,
            action,
            f"{label} is owned by {action.owner!r}, who is not in the "
            "service catalog, so reminders and escalation cannot reach them.",
            "Use a name, e-mail or Jira user from config/catalog.yaml, or add the person there.",
            {"owner": action.owner},
        )
    where = (
        f"team {team.name} has no default owner"
        if team
        else "no catalog team owns the incident's services"
    )
    fix = (
        f"Assign an owner, e.g. the {team.name} lead {team.lead}."
        if team
        else "Assign an owner from config/catalog.yaml, or map the service to a team there."
    )
    return action_finding(
        ctx,
        rule,
        action,
        f"{label} has no owner and {where}, so nobody is accountable for getting it done.",
        fix,
        {"team": team.name if team else None},
    )
