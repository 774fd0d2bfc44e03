"""Creating, reading, listing and changing incidents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from app import audit
from app.domain.errors import Conflict, field_error
from app.domain.transitions import TransitionError, check_incident_transition
from app.domain.vocabulary import ActionStatus, IncidentStatus
from app.models import Action, Incident, Postmortem, utcnow
from app.runtime import Runtime
from app.schemas.common import Page
from app.schemas.incidents import (
    TIME_FIELDS,
    Impact,
    IncidentCreate,
    IncidentQuery,
    IncidentRead,
    IncidentUpdate,
    TimeOrderError,
    check_time_order,
)

from . import closing
from .changes import incident_changed
from .common import changed, insert_new, load_incident, reject_nulls, snapshot

# A new incident's collections: nothing can refer to a row inserted in this transaction.
_NEW_INCIDENT_EMPTY = ("timeline", "evidence", "participants", "causes", "actions", "postmortem")
_CLOSED = {IncidentStatus.RESOLVED, IncidentStatus.CLOSED}


def to_read(session: Session, incident: Incident, *, new: bool = False) -> IncidentRead:
    """The API shape; `new` (just created here) knows its counts without asking the database."""
    open_actions: int | None
    if new:
        open_actions = 0
        postmortem_status = "draft" if IncidentStatus(incident.status) in _CLOSED else None
    else:
        open_actions = session.scalar(
            select(func.count(Action.id)).where(
                Action.incident_id == incident.id,
                Action.status.not_in([s.value for s in ActionStatus if s.is_closed]),
            )
        )
        postmortem_status = session.scalar(
            select(Postmortem.status).where(Postmortem.incident_id == incident.id)
        )
    data: dict[str, Any] = {
        c: getattr(incident, c) for c in IncidentRead.model_fields if hasattr(incident, c)
    }
    data.update(
        key=incident.key,
        impact=Impact(
            customers=incident.impact_customers,
            revenue=incident.impact_revenue,
            sla_minutes=incident.impact_sla_minutes,
            data=incident.impact_data,
            currency=incident.impact_currency,
        ),
        postmortem_status=postmortem_status,
        open_actions=open_actions or 0,
    )
    return IncidentRead.model_validate(data)


def _merge_impact(incident: Incident, patch: Impact | None) -> None:
    """JSON Merge Patch (RFC 7396): only the members sent change; `null` clears.

    `{"impact": {"revenue": 10}}` leaves customers, SLA minutes and data as
    they were; `{"impact": null}` clears all four.
    """
    sent = patch.model_fields_set if patch is not None else set(Impact.model_fields)
    for name in sent:
        setattr(incident, f"impact_{name}", getattr(patch, name) if patch is not None else None)


def add_incident(
    session: Session,
    data: IncidentCreate,
    *,
    actor: str,
    source: str = "api",
    external_id: str | None = None,
) -> Incident:
    """Insert inside the caller's transaction; the key comes from the row id."""
    now = utcnow()
    values = {
        **data.model_dump(exclude={"impact"}),
        **{f"impact_{name}": value for name, value in data.impact.model_dump().items()},
        "source": source,
        "external_id": external_id,
        "created_at": now,
        "updated_at": now,
    }
    # The key comes from the id, written by the INSERT itself: no UPDATE once the id is known.
    incident = insert_new(session, Incident, values, _NEW_INCIDENT_EMPTY, key_prefix="INC-")
    key = incident.key or ""
    if incident.status in _CLOSED:
        open_postmortem(session, incident)
    audit.record(
        session,
        actor=actor,
        action="incident.create",
        entity_type="incident",
        entity_key=key,
        after=snapshot(incident),
    )
    return incident


def open_postmortem(session: Session, incident: Incident) -> Postmortem:
    """Job 1: a resolved incident gets a draft, a facilitator and a review date, once.

    Facilitator (by rotation) and due date (in business days) follow the review
    policy (`closing.review_terms`); the rest of the close is `closing.prepare_review`.
    """
    if incident.postmortem is not None:
        return incident.postmortem
    facilitator, due = closing.review_terms(session, incident)
    postmortem = Postmortem(
        incident=incident,
        status="draft",
        facilitator=facilitator,
        review_due=due,
        summary=incident.summary,
    )
    session.add(postmortem)
    return postmortem


def create_incident(runtime: Runtime, data: IncidentCreate, actor: str) -> IncidentRead:
    with runtime.uow() as uow:
        incident = add_incident(uow.session, data, actor=actor)
        incident_changed(uow, incident)
        closing.prepare_review(uow, incident, actor=actor)
        uow.commit()
        return to_read(uow.session, incident, new=True)


def get_incident(runtime: Runtime, key: str) -> IncidentRead:
    with runtime.db.sessions() as session:
        return to_read(session, load_incident(session, key))


def json_list_contains(column: Any, value: str, dialect: str) -> Any:
    """Membership in a JSON list column, in SQL on both backends (JSONB @> or json_each)."""
    if dialect == "postgresql":
        return type_coerce(column, JSONB).contains([value])
    each = func.json_each(column).table_valued("value")
    return select(each.c.value).where(each.c.value == value).exists()


def _filtered(query: IncidentQuery, dialect: str) -> Select[Any]:
    stmt = select(Incident)
    if query.status:
        stmt = stmt.where(Incident.status == query.status.value)
    if query.severity:
        stmt = stmt.where(Incident.severity == query.severity.value)
    if query.domain:
        stmt = stmt.where(Incident.domain == query.domain)
    if query.service:
        stmt = stmt.where(json_list_contains(Incident.services, query.service, dialect))
    if query.tag:
        stmt = stmt.where(json_list_contains(Incident.tags, query.tag, dialect))
    if query.since:
        stmt = stmt.where(Incident.started_at >= query.since)
    if query.until:
        stmt = stmt.where(Incident.started_at < query.until)
    return stmt


def list_incidents(runtime: Runtime, query: IncidentQuery) -> Page[IncidentRead]:
    with runtime.db.sessions() as session:
        stmt = _filtered(query, runtime.db.dialect)
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = session.scalars(
            stmt.order_by(Incident.id).limit(query.limit).offset(query.offset)
        ).all()
        return Page[IncidentRead](
            items=[to_read(session, r) for r in rows],
            total=total,
            limit=query.limit,
            offset=query.offset,
        )


def _refused(incident: Incident, exc: TransitionError) -> Conflict:
    """409 naming the reopen endpoint when going back is what was meant."""
    url = f"/api/v1/incidents/{incident.key}/reopen"
    detail = str(exc).replace("/api/v1/incidents/{key}/reopen", url)
    return Conflict(detail, extra={"reopen": url} if url in detail else None)


def update_incident(runtime: Runtime, key: str, data: IncidentUpdate, actor: str) -> IncidentRead:
    with runtime.uow() as uow:
        incident = load_incident(uow.session, key, lock=True)
        before = snapshot(incident)
        fields = data.model_dump(exclude_unset=True, exclude={"impact"})
        reject_nulls(Incident, fields)
        if "status" in fields:
            try:
                check_incident_transition(IncidentStatus(incident.status), fields["status"])
            except TransitionError as exc:
                raise _refused(incident, exc) from None
        for name, value in fields.items():
            setattr(incident, name, value)
        if "impact" in data.model_fields_set:
            _merge_impact(incident, data.impact)
        try:
            check_time_order({f: getattr(incident, f) for f in TIME_FIELDS})
        except TimeOrderError as exc:
            raise field_error(["body", exc.field], str(exc)) from None
        if incident.status in _CLOSED:
            open_postmortem(uow.session, incident)
        old, new = changed(before, snapshot(incident))
        if new:
            audit.record(
                uow.session,
                actor=actor,
                action="incident.update",
                entity_type="incident",
                entity_key=incident.key or key,
                before=old,
                after=new,
            )
            incident_changed(uow, incident)
            closing.prepare_review(uow, incident, actor=actor)
        uow.commit()
        return to_read(uow.session, incident)
