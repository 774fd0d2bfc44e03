"""ORM incident -> `IncidentView`, including the related-incident history.

The history query (other incidents in the scoring window that share a
service and a cause category) is the only extra read evaluation needs;
services are JSON lists, so the overlap is checked in Python to behave the
same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Action, Cause, Incident

from .views import (
    ActionView,
    CauseView,
    IncidentView,
    ParticipantView,
    PostmortemView,
    RelatedIncident,
    TimelineView,
    ValidationView,
)

BACKFILL_SOURCES = frozenset({"import", "demo"})


def cause_key(incident: Incident, cause: Cause) -> str:
    return f"{incident.key}/{cause.id}"


def to_view(
    session: Session, incident: Incident, *, window_days: int, now: datetime
) -> IncidentView:
    key = incident.key or f"INC-{incident.id}"
    pm = incident.postmortem
    return IncidentView(
        key=key,
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        summary=incident.summary or "",
        services=tuple(incident.services or ()),
        regulatory=tuple(incident.regulatory or ()),
        started_at=incident.started_at,
        detected_at=incident.detected_at,
        resolved_at=incident.resolved_at,
        closed_at=incident.closed_at,
        created_at=incident.created_at,
        timeline=tuple(
            TimelineView(
                key=f"{key}/{t.id}",
                kind=t.kind,
                text=t.text,
                at=t.at,
                is_decision=t.is_decision,
                rationale=t.rationale,
                obligation=t.obligation,
            )
            for t in incident.timeline
        ),
        causes=tuple(
            CauseView(
                key=cause_key(incident, c),
                kind=c.kind,
                category=c.category,
                statement=c.statement,
                why=c.why,
            )
            for c in incident.causes
        ),
        actions=tuple(_action(incident, a) for a in incident.actions),
        participants=tuple(
            ParticipantView(role=p.role, name=p.name, team=p.team) for p in incident.participants
        ),
        postmortem=None
        if pm is None
        else PostmortemView(
            status=pm.status,
            facilitator=pm.facilitator,
            review_due=pm.review_due,
            review_held_at=pm.review_held_at,
            summary=pm.summary or "",
            went_well=tuple(pm.went_well or ()),
            went_wrong=tuple(pm.went_wrong or ()),
            lucky=tuple(pm.lucky or ()),
            lessons=tuple(pm.lessons or ()),
        ),
        related=related(session, incident, since=now - timedelta(days=window_days)),
        backfilled=incident.source in BACKFILL_SOURCES,
    )


def _action(incident: Incident, a: Action) -> ActionView:
    return ActionView(
        key=a.key or f"ACT-{a.id}",
        title=a.title,
        type=a.type,
        owner=a.owner,
        team=a.team,
        due_date=a.due_date,
        priority=a.priority,
        score=a.score,
        effort=a.effort,
        success_criteria=a.success_criteria,
        validation_method=a.validation_method,
        status=a.status,
        is_compliance=a.is_compliance,
        compliance_rule=a.compliance_rule,
        created_at=a.created_at,
        last_activity_at=a.last_activity_at,
        cause_keys=tuple(cause_key(incident, c) for c in a.causes),
        last_validation=_validation(a),
        has_passing_validation=any(v.result == "pass" for v in a.validations),
    )


def _validation(a: Action) -> ValidationView | None:
    if not a.validations:
        return None
    v = a.validations[-1]
    return ValidationView(v.id, v.result, v.checked, v.checked_at, v.checked_by, v.evidence)


def related(
    session: Session, incident: Incident, *, since: datetime
) -> tuple[RelatedIncident, ...]:
    """Other incidents since `since` sharing at least one service and one cause category.

    Scoring counts only those (`scoring.score` keeps a related incident when it shares a
    service and one of the categories of this incident's causes), so no other one is
    read: an incident with no services or no causes has no history worth a query, and
    the query starts from the causes sharing a category, not from every incident in the
    window (which made each evaluation cost grow with the whole window's size).
    """
    services = set(incident.services or ())
    mine = {c.category for c in incident.causes}
    if not services or not mine:
        return ()
    started = func.coalesce(Incident.started_at, Incident.created_at)
    sharing = select(Cause.incident_id).where(Cause.category.in_(mine))
    rows = session.execute(
        select(Incident.id, Incident.key, Incident.services).where(
            Incident.id != incident.id, started >= since, Incident.id.in_(sharing)
        )
    ).all()
    overlapping = {
        r.id: (r.key, frozenset(r.services or ())) for r in rows if services & set(r.services or ())
    }
    if not overlapping:
        return ()
    categories: dict[int, set[str]] = defaultdict(set)
    for incident_id, category in session.execute(
        select(Cause.incident_id, Cause.category).where(Cause.incident_id.in_(overlapping))
    ):
        categories[incident_id].add(category)
    return tuple(
        RelatedIncident(key or f"INC-{i}", svc, frozenset(categories[i]))
        for i, (key, svc) in sorted(overlapping.items())
    )
