"""The follow-through sweep: reminders and the escalation ladder for every open action.

Cost grows with the work due, not with the open actions: each action carries
`follow_up_at`, when its next step falls due (worked out by
`app.rules.follow_through.plan`), so a sweep reads only actions whose time
has come (plus any never measured, or whose due date moved: that clears the
column). A step is an `escalations` row unique on (action, step): however
many sweeps run at once, a rung is taken once, and only the sweep that wrote
the row sends its notifications, in the same transaction. One sweep runs at
a time (a lease), in chunks, each its own transaction; a chunk's steps are
written together, a few statements per chunk (`escalation_steps.StepBatch`).

`follow_up_at` is only an index of when to look: the rules decide who and
why at each look. It is cleared whenever what it was worked out from moves:
the due date, the action's obligation or its incident's clock start
(`app/models/follow_up.py`), a withdrawn waiver (`findings.unwaive`), and the
follow-through policy itself: the sweep keeps the fingerprint of the policy
its plans were made under (`sync_state` "follow-through.policy"), and when
the policy changes that sweep reads and plans every open action again, by id
range, writing each new `follow_up_at` once (clearing them all first was a
100,000-row UPDATE of its own), and records the new fingerprint only when all
are done, so a re-measure cut short is done again in full.

Planning is SQL first (`escalation_sql`, `ladder_sql`: `plan` as CASE expressions, held
equal to it by a property test on both databases): a chunk's actions that take no step now
and need nothing beyond their own columns get their next look from one `UPDATE ... FROM`;
only the rest reach Python (a step not yet taken, a regulatory obligation, an incident with
a stopping waiver), non-regulatory ones with the SQL ladder's step rather than `plan`'s.
What a step still costs in Python (its words, routing, audit entry, rows) is why a sweep
that takes steps stays far from 10x a plain count: that would need the escalation rows
written by INSERT ... SELECT from the ladder and the messages composed at delivery.

Stops: an action that is done, verified or won't do is no longer open; a
waiver (with its reason) of the action's overdue or stale finding, or of its
regulatory obligation's overdue finding, stops its ladder too, while it is
in force (a waiver that lapses lets the ladder go on, looked at again when
it lapses).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, bindparam, or_, select, text, update
from sqlalchemy.orm import Session

from app.db import UnitOfWork
from app.domain.vocabulary import ActionStatus
from app.models import Action, Escalation, Incident, Waiver
from app.rules.follow_through import Step, Subject, plan, regulatory_cadence, waiver_fingerprints
from app.rules.policy import Obligation, Policy
from app.runtime import Runtime, current
from app.sync import state

from .escalation_sql import (
    STOPPING_RULES,
    clock,
    ladder_for,
    needs_python,
    sql_plan,
    store_plain_plans,
)
from .escalation_steps import StepBatch, facts_for

log = logging.getLogger(__name__)
OPEN = (ActionStatus.OPEN.value, ActionStatus.IN_PROGRESS.value, ActionStatus.BLOCKED.value)
CHUNK = 2000
LEASE = "follow-through"
PLANNED_UNDER = "follow-through.policy"  # sync_state: fingerprint of the policy plans follow
RECHECK = timedelta(days=1)  # a waived ladder is looked at again daily (the waiver may go)
LADDER_COLUMNS = ("step", "level", "rung", "why", "repeat", "step_at", "next_at")
_ACTIONS = cast(Table, Action.__table__)  # Core, for one executemany per chunk


@dataclass
class SweepReport:
    examined: int = 0
    reminders: int = 0
    escalations: int = 0
    priority_bumps: int = 0
    skipped: bool = False

    def summary(self) -> str:
        if self.skipped:
            return "another follow-through sweep is running"
        return (
            f"examined {self.examined} action(s) due a look; sent {self.reminders} reminder(s) "
            f"and {self.escalations} escalation(s); raised {self.priority_bumps} priority(ies)"
        )


def sweep(runtime: Runtime, *, now: datetime) -> SweepReport:
    """Take every step due at `now` (the caller's clock: the schedule's, or a test's)."""
    report = SweepReport()
    fingerprint = policy_fingerprint(runtime.policy)
    with runtime.db.sessions() as session:  # most sweeps find nothing due: two reads, no lease
        replan = state.get_value(session, PLANNED_UNDER) != fingerprint
        if not replan and not due_ids(session, now, limit=1):
            return report
    lease = state.Lease(runtime.db, LEASE, 600)
    if not lease.acquire():
        report.skipped = True
        return report
    try:
        with runtime.db.sessions() as session:
            ids = _open_ids(session) if replan else due_ids(session, now)
        for start in range(0, len(ids), CHUNK):
            lease.renew()
            with runtime.uow() as uow:
                _write_lock(uow.session)
                chosen = _chosen(now, ids[start : start + CHUNK], replan)
                report.examined += len(ids[start : start + CHUNK])
                store_plain_plans(uow.session, runtime.policy, chosen, now, RECHECK)
                rows = _candidates(uow.session, runtime.policy, now, chosen)
                _chunk(runtime, uow, rows, now, report)
                uow.commit()
        if replan:
            _planned_under(runtime, fingerprint)
    finally:
        lease.release()
    return report


def policy_fingerprint(policy: Policy) -> str:
    """What every stored `follow_up_at` was worked out from, besides the action itself."""
    obligations = {
        o.id: [o.hours, o.starts, o.repeat_every_hours]
        for obs in policy.compliance.obligations.values()
        for o in obs
    }
    basis = {
        "ladder": [[s.to, s.after_days] for s in policy.deadlines.escalation],
        "stale_after_days": policy.deadlines.stale_after_days,
        "follow_through": policy.follow_through.model_dump(mode="json"),
        "obligations": obligations,
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


def _open_ids(session: Session) -> list[int]:
    """Every open action, for a re-measure under a new policy (each one is planned again)."""
    return list(
        session.scalars(select(Action.id).where(Action.status.in_(OPEN)).order_by(Action.id))
    )


def _planned_under(runtime: Runtime, fingerprint: str) -> None:
    """Record the policy the stored plans follow, once every open action has been planned
    under it: a re-measure cut short (a crash, a lost lease) is simply done again in full by
    the next sweep, since the fingerprint still differs and every step is taken once anyway."""
    with runtime.uow() as uow:
        state.set_value(uow.session, PLANNED_UNDER, fingerprint)
        uow.commit()


def due_ids(session: Session, now: datetime, limit: int | None = None) -> list[int]:
    """Open actions whose next step has come (or was never worked out), by the
    (status, follow_up_at) index: two range reads, so the cost follows what is due."""
    found: set[int] = set()
    for due in (Action.follow_up_at.is_(None), Action.follow_up_at <= now):
        query = select(Action.id).where(Action.status.in_(OPEN), due).limit(limit)
        found.update(session.scalars(query))
        if limit is not None and len(found) >= limit:
            break
    return sorted(found)


def _write_lock(session: Session) -> None:
    """On SQLite, take the write lock first, so no writer can slip in between read and write."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text("UPDATE sync_leases SET owner = owner WHERE name = :name"), {"name": LEASE}
        )


def _chosen(now: datetime, ids: list[int], replan: bool) -> list[ColumnElement[bool]]:
    """The chunk's actions, still open and still due (read again under the write lock).

    A re-measure takes every open action of the chunk's id range (the ids are every open
    action, sorted, so the range holds just those, plus any opened since): a range is one
    bound pair, where an IN list of 2,000 ids cost more to expand and bind than to read."""
    if replan:
        return [Action.status.in_(OPEN), Action.id.between(ids[0], ids[-1])]
    return [
        Action.status.in_(OPEN),
        Action.id.in_(ids),
        or_(Action.follow_up_at.is_(None), Action.follow_up_at <= now),
    ]


def _candidates(
    session: Session, policy: Policy, now: datetime, chosen: list[ColumnElement[bool]]
) -> Sequence[Row[Any]]:
    """The chosen actions the SQL cannot settle alone (`escalation_sql.needs_python`), with
    the SQL ladder's answer for them: only what planning needs; the rest is read for the
    actions that take a step (`_details`). The others were planned by `store_plain_plans`."""
    ladder = ladder_for(policy, session.get_bind().dialect.name, chosen)
    rows: Sequence[Row[Any]] = session.execute(  # type: ignore[assignment]
        select(
            Action.id,
            Action.key,
            Action.incident_id,
            Action.due_date,
            Action.last_activity_at,
            Action.compliance_rule,
            Action.escalation_level,
            Action.follow_up_at,
            Incident.key.label("incident_key"),
            *[ladder.c[name] for name in LADDER_COLUMNS],
        )
        .join(ladder, ladder.c.id == Action.id)
        .join(Incident, Incident.id == Action.incident_id)
        .where(needs_python(ladder, policy, now))
        .order_by(Action.id),
        clock(now),
    ).all()
    return rows


def _clocks(session: Session, incident_ids: set[int]) -> dict[int, Any]:
    """The clock starts of the incidents whose actions carry a regulatory obligation."""
    if not incident_ids:
        return {}
    query = select(
        Incident.id,
        Incident.detected_at,
        Incident.started_at,
        Incident.resolved_at,
        Incident.created_at,
    ).where(Incident.id.in_(incident_ids))
    return {row.id: row for row in session.execute(query)}


def _details(session: Session, rows: list[Row[Any]]) -> list[SimpleNamespace]:
    """The planned rows of the actions taking a step, with what the message and routing need."""
    if not rows:
        return []
    query = (
        select(Action.id, Action.title, Action.owner, Action.team, Incident.services)
        .join(Incident, Incident.id == Action.incident_id)
        .where(Action.id.in_([r.id for r in rows]))
    )
    # Row._asdict builds the keys anew for every row (most of this function's cost once):
    # the field names are taken once per result and zipped.
    result = session.execute(query)
    names = tuple(result.keys())
    more = {r[0]: dict(zip(names, r, strict=True)) for r in result}
    planned = rows[0]._fields
    return [SimpleNamespace(**{**dict(zip(planned, r, strict=True)), **more[r.id]}) for r in rows]


def _chunk(
    runtime: Runtime, uow: UnitOfWork, rows: Sequence[Row[Any]], now: datetime, report: SweepReport
) -> None:
    session, policy = uow.session, runtime.policy
    ids = [r.id for r in rows]
    taken = {
        (action_id, step)
        for action_id, step in session.execute(
            select(Escalation.action_id, Escalation.step).where(Escalation.action_id.in_(ids))
        )
    }
    waived = _waivers(session, {r.incident_id for r in rows}, now)
    ladder = tuple((s.to, s.after_days) for s in policy.deadlines.escalation)
    obligations = {o.id: o for obs in policy.compliance.obligations.values() for o in obs}
    clocks = _clocks(session, {r.incident_id for r in rows if r.compliance_rule in obligations})
    updates, due = [], []
    for row in rows:
        ob = obligations.get(row.compliance_rule or "")
        entity = f"{row.incident_key}/{ob.id}" if ob else None
        if waived and (stops := waived.keys() & waiver_fingerprints(row.key or "", entity)):
            lapses = [at for f in stops if (at := waived[f]) is not None]
            again = min([now + RECHECK, *lapses])
            updates.append({"b_id": row.id, "b_next": again, "b_level": 0})
            continue
        subject = _subject(row, ob, clocks.get(row.incident_id), policy)
        if ob is None:  # the SQL ladder's answer, the same as plan's (a property test holds it)
            steps = sql_plan(row)
        else:
            steps = plan(
                subject, ladder, policy.deadlines.stale_after_days, policy.follow_through, now
            )
        level = row.escalation_level
        if steps.due is not None and (row.id, steps.due.key) not in taken:
            due.append((row, steps.due, subject))
            level = steps.due.level or level
        elif steps.due is None:
            level = 0
        updates.append({"b_id": row.id, "b_next": steps.next_at or now + RECHECK, "b_level": level})
    _take(runtime, uow, due, now, report)
    _store_plans(session, rows, updates)


def _store_plans(session: Session, rows: Sequence[Row[Any]], updates: list[dict[str, Any]]) -> None:
    """Write each action's next look and level, skipping those that stay as stored: after a
    policy change most plans often come out the same, and an unchanged row costs an update."""
    stored = {r.id: (r.follow_up_at, r.escalation_level) for r in rows}
    updates = [u for u in updates if stored[u["b_id"]] != (u["b_next"], u["b_level"])]
    if not updates:
        return
    session.execute(
        update(_ACTIONS)
        .where(_ACTIONS.c.id == bindparam("b_id"))
        .values(
            follow_up_at=bindparam("b_next"),
            escalation_level=bindparam("b_level"),
            updated_at=_ACTIONS.c.updated_at,  # bookkeeping, not a change to the action
        ),
        updates,
    )


def _take(
    runtime: Runtime,
    uow: UnitOfWork,
    due: list[tuple[Row[Any], Step, Subject]],
    now: datetime,
    report: SweepReport,
) -> None:
    """Write the chunk's steps together (`StepBatch`)."""
    batch = StepBatch(runtime, uow, now)
    full = _details(uow.session, [row for row, _, _ in due])
    for row, (_, step, subject) in zip(full, due, strict=True):
        batch.add(row, step, facts_for(runtime, row, step, subject.regulatory_due_at))
    batch.write()
    report.reminders += batch.reminders
    report.escalations += batch.escalated
    report.priority_bumps += batch.bumps


def _waivers(session: Session, incident_ids: set[int], now: datetime) -> dict[str, datetime | None]:
    """Waivers in force at `now` that stop a ladder: fingerprint -> when it lapses (or never)."""
    query = select(Waiver.fingerprint, Waiver.expires_at).where(
        Waiver.incident_id.in_(incident_ids),
        Waiver.rule.in_(STOPPING_RULES),
        or_(Waiver.expires_at.is_(None), Waiver.expires_at > now),
    )
    return {fingerprint: lapses for fingerprint, lapses in session.execute(query)}


def _subject(
    row: Row[Any], ob: Obligation | None, clock: Row[Any] | None, policy: Policy
) -> Subject:
    """The action as the ladder sees it; an obligation's deadline is its clock start (as the
    compliance policy reads it) plus its hours, and its repeats scale with that clock."""
    if ob is None or clock is None:
        return Subject(row.due_date, row.last_activity_at)
    for name in (ob.starts, "detected_at", "started_at", "created_at"):
        start = getattr(clock, name)
        if start is not None:
            every = regulatory_cadence(
                policy.follow_through.regulatory, ob.hours, ob.repeat_every_hours
            )
            return Subject(
                row.due_date, row.last_activity_at, start + timedelta(hours=ob.hours), every
            )
    return Subject(row.due_date, row.last_activity_at)


def sweep_job(now_iso: str) -> None:
    """A sweep as a job at a given time (queue `escalations`): the schedule runs it through
    `schedule.run_job`; tests and operators can also ask for one at a chosen instant."""
    sweep(current(), now=datetime.fromisoformat(now_iso))
