"""Escalation records as people read them: each step with its channels' results."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import Action, Escalation
from app.runtime import Runtime
from app.schemas.followthrough import ChannelResult, EscalationQuery, EscalationRead

from .escalation_steps import escalation_dedupe_key
from .escalations import OPEN
from .notifications import by_dedupe_keys


def list_escalations(runtime: Runtime, query: EscalationQuery) -> tuple[list[EscalationRead], int]:
    with runtime.db.sessions() as session:
        stmt = select(Escalation, Action.status).join(Action, Action.id == Escalation.action_id)
        if query.team:
            stmt = stmt.where(Escalation.team == query.team)
        if query.level is not None:
            stmt = stmt.where(Escalation.level == query.level)
        if query.action:
            stmt = stmt.where(Escalation.action_key == query.action)
        if query.open is not None:
            is_open = Action.status.in_(OPEN)
            stmt = stmt.where(is_open if query.open else ~is_open)
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = session.execute(
            stmt.order_by(Escalation.at.desc(), Escalation.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        ).all()
        keys = [escalation_dedupe_key(e.action_key, e.step) for e, _ in rows]
        sent = by_dedupe_keys(session, keys)
        items = [
            EscalationRead(
                id=e.id,
                action=e.action_key,
                incident=e.incident_key,
                team=e.team,
                level=e.level,
                step=e.step,
                rung=e.rung,
                to=e.recipient,
                why=e.reason,
                at=e.at,
                action_status=status,
                channels=[
                    ChannelResult.model_validate(n)
                    for n in sent.get(escalation_dedupe_key(e.action_key, e.step), [])
                ],
            )
            for e, status in rows
        ]
        return items, total
