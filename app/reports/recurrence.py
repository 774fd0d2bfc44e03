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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from sys import intern

from sqlalchemy import select, text

from app.models import Action, ActionStatusChange, Incident
from app.schemas.earlier_actions import CODES

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


# The same status and verdict as `judge`, in PostgreSQL: one row per earlier action,
# with the position of its repeat (from 1) and its action id. The status when the repeat
# began is the last change at or before it (ties by change id, as Python reads history).
JUDGED_SQL = """
SELECT p.n, a.id, coalesce(a.key, '#' || a.id) AS key,
  CASE WHEN a.created_at > p.started THEN 'not_created'
    ELSE coalesce((SELECT c.to_status FROM action_status_changes c
                   WHERE c.action_id = a.id AND c.at <= p.started
                   ORDER BY c.at DESC, c.id DESC LIMIT 1), 'open') END AS status,
  CASE WHEN a.status IN ('done', 'verified') AND a.completed_at IS NOT NULL THEN
    CASE WHEN a.completed_at <= p.started THEN 'ineffective' ELSE 'too_late' END
    ELSE 'open' END AS verdict
FROM unnest(CAST(:keys AS text[]), CAST(:started AS timestamptz[])) WITH ORDINALITY
  AS p(key, started, n)
JOIN incidents i ON i.key = p.key
JOIN actions a ON a.incident_id = i.id
"""


# Per repeat with earlier actions (in the order given): how many, and all of them in one
# text in action id order, fields joined by US (chr 31) and actions by RS (chr 30), the
# packed form of app/schemas/earlier_actions.py (statuses and verdicts as its letters).
# One string per repeat crosses the wire, not an object per action.
def _code(column: str) -> str:
    whens = " ".join(f"WHEN '{word}' THEN '{code}'" for word, code in CODES.items())
    return f"CASE {column} {whens} ELSE {column} END"


PACKED_SQL = f"""
SELECT j.n, count(*) AS actions, string_agg(
  j.key || chr(31) || {_code("j.status")} || chr(31) || {_code("j.verdict")}, chr(30)
  ORDER BY j.id)
FROM ({JUDGED_SQL}) j
GROUP BY j.n
ORDER BY j.n
"""
STREAM = 5_000  # repeats fetched at a time: the judged actions are streamed, never all held


def judged_in_sql(
    db: Executor, earlier: list[tuple[str, datetime]]
) -> Iterator[tuple[int, int, str]]:
    """(position in `earlier`, number of earlier actions, the actions packed) per repeat.

    PostgreSQL only: `earlier` is (earlier incident's key, when the repeat began) per
    repeat, sent as two arrays (two parameters however many repeats). One row per repeat
    whose earlier incident has actions (a repeat without any has no row), in `earlier`
    order; positions count from 0. Python builds no object per action here.
    """
    rows = db.execute(
        text(PACKED_SQL).execution_options(stream_results=True, yield_per=STREAM),
        {"keys": [k for k, _ in earlier], "started": [s for _, s in earlier]},
    )
    for n, count, packed in rows:
        yield n - 1, count, packed


def judged_one(db: Executor, key: str, started: datetime) -> list[tuple[str, str, str]]:
    """One repeat's earlier actions unpacked (key, status, verdict), in action id order:
    for the rare key that holds a separator character, which the packed text cannot."""
    rows = db.execute(
        text(f"SELECT j.key, j.status, j.verdict FROM ({JUDGED_SQL}) j ORDER BY j.id"),
        {"keys": [key], "started": [started]},
    )
    return [(k, s, v) for k, s, v in rows]
