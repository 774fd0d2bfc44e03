"""The recurrence report's facts from the database: the earlier incident's actions, then.

Given repeats (later incident, earlier incident, when the later one started), each
action of the earlier incident gets its status when the repeat began (the last
status change at or before it; `open` if none; `not_created` if it came later)
and a verdict:

- `ineffective`: done or verified before the repeat began, and it came back anyway;
- `too_late`: done or verified, but only after the repeat began;
- `open`: not done (open, in progress, blocked, won't do).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from sys import intern

from sqlalchemy import select

from app.models import Action, ActionStatusChange, Incident

from .sql import Executor

COMPLETED = {"done", "verified"}


@dataclass(frozen=True)
class ActionState:
    key: str
    status: str
    created_at: datetime
    completed_at: datetime | None
    history: tuple[tuple[datetime, str], ...]


@dataclass(frozen=True)
class Judged:
    key: str
    status_at_repeat: str
    verdict: str


CHUNK = 5000  # incident keys per query: far below PostgreSQL's 65,535 bound parameters


def actions_of(db: Executor, incident_keys: Iterable[str]) -> dict[str, list[ActionState]]:
    """Each named incident's actions with their status history (two queries per chunk).

    The keys go in chunks and the history is selected by a subquery, not a list of
    action ids: a large report (tens of thousands of repeats) would otherwise bind more
    parameters than PostgreSQL accepts in one statement.
    """
    keys = sorted(set(incident_keys))
    out: dict[str, list[ActionState]] = defaultdict(list)
    for start in range(0, len(keys), CHUNK):
        _chunk(db, keys[start : start + CHUNK], out)
    return dict(out)


def _chunk(db: Executor, keys: list[str], out: dict[str, list[ActionState]]) -> None:
    named = Incident.key.in_(keys)
    rows = db.execute(
        select(Incident.key.label("incident"), Action.id, Action.key, Action.status)
        .add_columns(Action.created_at, Action.completed_at)
        .join(Incident, Incident.id == Action.incident_id)
        .where(named)
        .order_by(Action.id)
    ).all()
    ids = select(Action.id).join(Incident, Incident.id == Action.incident_id).where(named)
    history: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    changes = db.execute(
        select(ActionStatusChange.action_id, ActionStatusChange.at, ActionStatusChange.to_status)
        .where(ActionStatusChange.action_id.in_(ids))
        .order_by(ActionStatusChange.at, ActionStatusChange.id)
    )
    for change in changes:
        # a handful of distinct statuses: one string each, however many rows name it
        history[change.action_id].append((change.at, intern(change.to_status)))
    for r in rows:
        state = ActionState(
            r.key or f"#{r.id}",
            intern(r.status),
            r.created_at,
            r.completed_at,
            tuple(history[r.id]),
        )
        out[r.incident].append(state)


def judge(action: ActionState, repeat_started: datetime) -> Judged:
    if action.created_at > repeat_started:
        status = "not_created"
    else:
        before = [s for at, s in action.history if at <= repeat_started]
        status = before[-1] if before else "open"
    done = action.status in COMPLETED and action.completed_at is not None
    if done and action.completed_at is not None and action.completed_at <= repeat_started:
        verdict = "ineffective"
    elif done:
        verdict = "too_late"
    else:
        verdict = "open"
    return Judged(action.key, status, verdict)
