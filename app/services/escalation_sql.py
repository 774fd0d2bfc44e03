"""The sweep's set-based half: plans stored by one UPDATE per chunk, worked out in SQL.

Most actions a sweep looks at take no step: a re-measure after a policy change
looks at every open one, and almost all of them only get a new `follow_up_at`.
Those are planned by the SQL ladder (`ladder_sql`, held equal to `plan` by a
property test) and written by one `UPDATE ... FROM` per chunk, changed rows only,
never reaching Python. What still goes through Python, row by row, is what needs
more than the action's own columns: a step due that is not taken yet (its words,
routing, audit entry and notifications), a regulatory obligation (its clock is the
incident's), and an action of an incident holding a waiver that may stop its
ladder (the waiver's fingerprint names the action's key).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    CTE,
    ColumnElement,
    Table,
    and_,
    case,
    exists,
    false,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.models import Action, Escalation, Waiver
from app.rules.follow_through import Plan, Step
from app.rules.policy import Policy

from .ladder_sql import _NONE, NOW, Shape, from_micros, ladder_cte, micros, to_timestamp

STOPPING_RULES = ("deadlines.overdue", "deadlines.stale", "compliance.overdue")
_ACTIONS = cast(Table, Action.__table__)


def shape_of(policy: Policy) -> Shape:
    ladder = tuple((s.to, s.after_days) for s in policy.deadlines.escalation)
    return Shape(ladder, policy.deadlines.stale_after_days, policy.follow_through)


def ladder_for(policy: Policy, dialect: str, where: Sequence[ColumnElement[bool]]) -> CTE:
    return ladder_cte(shape_of(policy), dialect, where)


def clock(now: datetime) -> dict[str, int]:
    """The bound clock every statement using the ladder takes."""
    return {NOW.key: micros(now)}


def needs_python(ladder: CTE, policy: Policy, now: datetime) -> ColumnElement[bool]:
    """Rows the SQL alone cannot settle (see the module docstring)."""
    obligations = [o.id for obs in policy.compliance.obligations.values() for o in obs]
    regulatory = (
        and_(Action.compliance_rule.isnot(None), Action.compliance_rule.in_(obligations))
        if obligations
        else false()
    )
    waivers = select(Waiver.incident_id).where(
        Waiver.rule.in_(STOPPING_RULES), or_(Waiver.expires_at.is_(None), Waiver.expires_at > now)
    )
    taken = exists().where(Escalation.action_id == Action.id, Escalation.step == ladder.c.step)
    new_step = and_(ladder.c.step.isnot(None), ~taken)
    return or_(regulatory, Action.incident_id.in_(waivers), new_step)


def store_plain_plans(
    session: Session,
    policy: Policy,
    chosen: Sequence[ColumnElement[bool]],
    now: datetime,
    recheck: timedelta,
) -> None:
    """Write the next look and level of the chosen open actions that take no step now, in one
    statement, skipping those that come out as stored (an unchanged row costs an update).

    As the Python path does: no step due gives level 0, a step due and taken keeps the level,
    and with nothing ahead the action is looked at again after `recheck`."""
    dialect = session.get_bind().dialect.name
    ladder = ladder_for(policy, dialect, chosen)
    t = _ACTIONS.c
    next_us = case((ladder.c.next_at == _NONE, micros(now + recheck)), else_=ladder.c.next_at)
    new_next = to_timestamp(next_us, dialect)
    new_level = case((ladder.c.step.is_(None), 0), else_=t.escalation_level)
    statement = (
        update(_ACTIONS)
        .where(
            t.id == ladder.c.id,
            ~needs_python(ladder, policy, now),
            or_(
                t.follow_up_at.is_(None),
                t.follow_up_at != new_next,
                t.escalation_level != new_level,
            ),
        )
        .values(follow_up_at=new_next, escalation_level=new_level, updated_at=t.updated_at)
    )
    session.execute(statement, clock(now))


def sql_plan(row: Any) -> Plan:
    """The ladder columns of a row read with the SQL ladder, as `plan`'s answer."""
    step = None
    if row.step is not None:
        step = Step(row.step, row.level, row.rung, from_micros(row.step_at), row.why, row.repeat)
    return Plan(step, None if row.next_at == _NONE else from_micros(row.next_at))
