"""Keep `actions.follow_up_at` honest: it is an index of when the sweep should look next.

The follow-through sweep works out each open action's next look from the
action's due date, its regulatory obligation and that obligation's clock start
on the incident (`app.services.escalations`). When one of those moves, the
stored look may be too late, so it is cleared and the next sweep measures the
action again (the rules, not this column, decide what is due then):

- the action's `due_date` or `compliance_rule` is set to a new value;
- the incident's `detected_at`, `started_at` or `resolved_at` moves: every one
  of its actions with an obligation is measured again, by one UPDATE issued
  when the session next flushes (the action rows are not loaded for it, and
  their `updated_at` is left alone: this is bookkeeping, not a change).

Status changes need nothing (only open actions are read); a policy change is
handled by the sweep itself (its policy fingerprint).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, event, update
from sqlalchemy.orm import Session, object_session

from .action import Action
from .incident import Incident

MOVED = "follow_up_moved"  # session.info: ids of incidents whose clock start moved
_ACTIONS = cast(Table, Action.__table__)


def _action_moved(target: Action, value: object, old: object, _initiator: object) -> None:
    if value != old:
        target.follow_up_at = None


def _clock_moved(target: Incident, value: object, old: object, _initiator: object) -> None:
    session = object_session(target)
    if value != old and session is not None and target.id is not None:
        session.info.setdefault(MOVED, set()).add(target.id)


for _attribute in (Action.due_date, Action.compliance_rule):
    event.listen(_attribute, "set", _action_moved)
for _attribute in (Incident.detected_at, Incident.started_at, Incident.resolved_at):
    event.listen(_attribute, "set", _clock_moved)


@event.listens_for(Session, "before_flush")
def _forget_follow_ups(session: Session, _context: Any, _instances: Any) -> None:
    moved = session.info.pop(MOVED, None)
    if moved:
        session.connection().execute(
            update(_ACTIONS)
            .where(
                _ACTIONS.c.incident_id.in_(sorted(moved)),
                _ACTIONS.c.compliance_rule.is_not(None),
                _ACTIONS.c.follow_up_at.is_not(None),
            )
            .values(follow_up_at=None, updated_at=_ACTIONS.c.updated_at)
        )
