"""A chunk's follow-through steps written in a few statements, not a few per step.

The sweep hands each step it takes to a `StepBatch`, then writes the batch
once: the escalation rows in one executemany insert, the notification
outbox rows in one `INSERT ... ON CONFLICT DO NOTHING`, the audit entries in
one append (the hash chain computed in order, `audit.record_many`). All of
it is in the chunk's transaction, so each step still exists exactly when
its escalation row does: the unique (action, step) row fails the whole chunk
should a sweep that lost its lease race this one, and everything in it
(notifications and audit entries too) rolls back together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert

from app import audit
from app.db import UnitOfWork
from app.domain.vocabulary import Priority
from app.models import Action, Escalation
from app.rules.follow_through import Step
from app.runtime import Runtime

from . import notifications
from .escalation_messages import Facts, compose
from .evaluation import request_evaluation
from .tracker_sync import record_change

ACTOR = "follow-through"
_ESCALATIONS = cast(Table, Escalation.__table__)


def escalation_dedupe_key(action_key: str, step: str) -> str:
    return f"escalation:{action_key}:{step}"


@dataclass
class StepBatch:
    """The steps one chunk takes, gathered, then written together by `write`."""

    runtime: Runtime
    uow: UnitOfWork
    now: datetime
    escalations: list[dict[str, Any]] = field(default_factory=list)
    messages: list[notifications.Outgoing] = field(default_factory=list)
    entries: list[audit.Entry] = field(default_factory=list)
    reminders: int = 0
    escalated: int = 0
    bumps: int = 0

    def add(self, row: Any, step: Step, facts: Facts) -> None:
        """Record the step (an escalation row), its notification and its audit entry."""
        words = compose(step, facts, self.now)
        who, team = facts.recipient, facts.team
        people = [p for p in dict.fromkeys((who, row.owner)) if p] if step.level else [row.owner]
        people = [p for p in people if p]
        routes = notifications.route(self.runtime, team=team, people=people, action_key=row.key)
        self.escalations.append(
            {
                "action_id": row.id,
                "action_key": row.key or "",
                "incident_key": row.incident_key or "",
                "team": team,
                "step": step.key,
                "level": step.level,
                "recipient": who,
                "rung": step.rung,
                "reason": words.why,
                "at": self.now,
                "channels": {f"{channel}:{to}": "queued" for channel, to in routes},
            }
        )
        self.messages.append(
            notifications.Outgoing(
                kind="reminder" if step.level == 0 else "escalation",
                subject=words.subject,
                text=words.text,
                html=words.html,
                team=team,
                people=people,
                incident_key=row.incident_key,
                action_key=row.key,
                link=facts.link,
                dedupe_key=escalation_dedupe_key(row.key or "", step.key),
            )
        )
        self.entries.append(
            audit.Entry(
                actor=ACTOR,
                action="action.remind" if step.level == 0 else "action.escalate",
                entity_type="action",
                entity_key=row.key or "",
                after={"step": step.key, "level": step.level, "to": who, "why": words.why},
            )
        )
        self.reminders += step.level == 0
        self.escalated += step.level > 0
        policy = self.runtime.policy.follow_through
        if step.level in policy.bump_priority_at and step.repeat == 0:
            self._bump_priority(row.id, step)

    def write(self) -> None:
        session = self.uow.session
        if self.escalations:
            session.execute(insert(_ESCALATIONS), self.escalations)
        notifications.queue_many(self.runtime, self.uow, self.messages)
        audit.record_many(session, self.entries)

    def _bump_priority(self, action_id: int, step: Step) -> None:
        """One band more urgent, as policy asks at this level; audited, mirrored, re-evaluated."""
        uow, runtime = self.uow, self.runtime
        action = uow.session.get(Action, action_id)
        if action is None:
            return
        order = list(Priority)
        current = Priority(action.priority or runtime.policy.deadlines.unprioritised.value)
        raised = order[max(order.index(current) - 1, 0)]
        if action.priority == raised.value:
            return
        before = action.priority
        action.priority = raised.value
        self.entries.append(  # right after the step's own entry, as when written one by one
            audit.Entry(
                actor=ACTOR,
                action="action.priority_bump",
                entity_type="action",
                entity_key=action.key or "",
                before={"priority": before},
                after={
                    "priority": raised.value,
                    "reason": f"escalation level {step.level} ({step.key})",
                },
            )
        )
        record_change(uow, runtime.settings, "action", action.id, action.key or "")
        request_evaluation(uow, action.incident_id)
        self.bumps += 1


def recipient(runtime: Runtime, row: Any, step: Step) -> tuple[str | None, str | None]:
    """Who the step goes to (owner, team lead or director, from the catalog) and the team."""
    catalog = runtime.catalog
    team = catalog.team(row.team) or catalog.team_for_services(list(row.services or []))
    if step.rung == "owner":
        return row.owner, team.name if team else row.team
    if team is None:
        return None, row.team
    return (team.lead if step.rung == "team_lead" else team.director), team.name


def facts_for(runtime: Runtime, row: Any, step: Step, regulatory_due: datetime | None) -> Facts:
    who, team = recipient(runtime, row, step)
    return Facts(
        row.key or "",
        row.title,
        row.incident_key or "",
        row.owner,
        team,
        row.due_date,
        row.last_activity_at,
        (row.compliance_rule or "").partition(".")[0].upper() or None,
        regulatory_due,
        who,
        f"{runtime.settings.link_base}/api/v1/actions/{row.key}",
    )
