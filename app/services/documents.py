"""Import and export of whole incident documents (JSON or YAML).

Import validates everything before writing anything and stores the whole
document in one transaction, so a bad file leaves the database as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app import audit
from app.domain.errors import Invalid, Malformed, from_validation
from app.domain.vocabulary import ActionStatus
from app.models import Action, ActionValidation, Cause, Incident
from app.runtime import Runtime
from app.schemas.analysis import EvidenceCreate, ParticipantCreate, TimelineEventCreate
from app.schemas.documents import (
    ActionDoc,
    CauseDoc,
    EvidenceDoc,
    IncidentDoc,
    IncidentDocument,
    PostmortemDoc,
    StatusChangeDoc,
    ValidationDoc,
)
from app.schemas.incidents import Impact, IncidentCreate

from . import redaction
from .changes import incident_changed
from .common import load_incident
from .document_checks import document_errors
from .document_merge import ImportResult, find_target, merge_document
from .document_store import (
    add_action_with_history,
    add_cause,
    add_evidence,
    add_participant,
    add_timeline,
    fill_postmortem,
    parents_first,
)
from .incidents import add_incident, open_postmortem


def parse_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise Malformed(f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}") from None


def validate_document(data: Any) -> IncidentDocument:
    try:
        doc = IncidentDocument.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc, ()) from None
    errors = document_errors(doc)
    if errors:
        raise Invalid(f"{len(errors)} invalid field(s) or reference(s)", errors=errors)
    return doc


def store_document(
    session: Session, doc: IncidentDocument, actor: str, source: str = "import"
) -> Incident:
    """A new incident from the whole document, history included."""
    fields = doc.incident.model_dump(exclude={"key", "source", "external_id", "created_at"})
    incident = add_incident(
        session,
        IncidentCreate.model_validate(fields),
        actor=actor,
        source=doc.incident.source or source,
        external_id=doc.incident.external_id,
    )
    if doc.incident.created_at is not None:
        incident.created_at = doc.incident.created_at
    for t in doc.timeline:
        add_timeline(session, incident, t)
    evidence = {e.ref: add_evidence(session, incident, e) for e in doc.evidence}
    for p in doc.participants:
        add_participant(session, incident, p)
    session.flush()
    causes: dict[str, Cause] = {}
    for c in parents_first(doc.causes):
        causes[c.ref] = add_cause(session, incident, c, causes, evidence)
    for a in doc.actions:
        add_action_with_history(session, incident, a, causes, actor)
    if doc.postmortem is not None:
        open_postmortem(session, incident)
        fill_postmortem(incident, doc.postmortem)
    audit.record(
        session,
        actor=actor,
        action="incident.import",
        entity_type="incident",
        entity_key=incident.key or "",
        after={
            "timeline": len(doc.timeline),
            "causes": len(doc.causes),
            "actions": len(doc.actions),
        },
    )
    return incident


def import_document(runtime: Runtime, data: Any, actor: str) -> str:
    return import_or_update(runtime, data, actor=actor).key


def import_or_update(runtime: Runtime, data: Any, *, actor: str) -> ImportResult:
    """Create the incident, or update the one the document names, in one transaction."""
    doc = validate_document(data)
    with runtime.uow() as uow:
        target = find_target(uow.session, doc)
        if target is None:
            incident = store_document(uow.session, doc, actor)
            result = ImportResult(incident.key or "", created=True)
        else:
            result = merge_document(uow.session, target, doc, actor)
            incident = target
        if result.created or result.changed:
            incident_changed(uow, incident)
        uow.commit()
        return result


def export_document(runtime: Runtime, key: str, *, redact: bool = False) -> IncidentDocument:
    """The incident as an import document; with `redact`, names become roles (for sharing,
    so it no longer round-trips to the same people)."""
    with runtime.db.sessions() as session:
        incident = load_incident(session, key)
        doc = to_document(incident)
        if not redact:
            return doc
        redactor = redaction.for_incident(incident, runtime.catalog)
        return IncidentDocument.model_validate(redactor.walk(doc.model_dump(mode="json")))


def to_document(incident: Incident) -> IncidentDocument:
    ev_ref = evidence_refs(incident)
    cause_ref = cause_refs(incident)
    pm = incident.postmortem
    return IncidentDocument(
        incident=_incident_part(incident),
        timeline=[
            TimelineEventCreate.model_validate(t, from_attributes=True) for t in incident.timeline
        ],
        evidence=[
            EvidenceDoc(
                ref=ev_ref[e.id],
                **EvidenceCreate.model_validate(e, from_attributes=True).model_dump(),
            )
            for e in incident.evidence
        ],
        participants=[
            ParticipantCreate.model_validate(p, from_attributes=True) for p in incident.participants
        ],
        causes=[_cause_part(c, cause_ref, ev_ref) for c in incident.causes],
        actions=[_action_part(a, cause_ref) for a in incident.actions],
        postmortem=None if pm is None else PostmortemDoc.model_validate(pm, from_attributes=True),
    )


def evidence_refs(incident: Incident) -> dict[int, str]:
    return {e.id: f"E{n}" for n, e in enumerate(incident.evidence, 1)}


def cause_refs(incident: Incident) -> dict[int, str]:
    return {c.id: f"C{n}" for n, c in enumerate(incident.causes, 1)}


def _incident_part(incident: Incident) -> IncidentDoc:
    return IncidentDoc(
        key=incident.key,
        source=incident.source,
        external_id=incident.external_id,
        created_at=incident.created_at,
        title=incident.title,
        severity=incident.severity,
        summary=incident.summary,  # type: ignore[arg-type]
        status=incident.status,
        services=incident.services,
        domain=incident.domain,  # type: ignore[arg-type]
        tags=incident.tags,
        regulatory=incident.regulatory,  # type: ignore[arg-type]
        started_at=incident.started_at,
        detected_at=incident.detected_at,
        acknowledged_at=incident.acknowledged_at,
        mitigated_at=incident.mitigated_at,
        resolved_at=incident.resolved_at,
        closed_at=incident.closed_at,
        impact=Impact(
            customers=incident.impact_customers,
            revenue=incident.impact_revenue,
            sla_minutes=incident.impact_sla_minutes,
            data=incident.impact_data,
            currency=incident.impact_currency,  # type: ignore[arg-type]
        ),
    )


def _cause_part(cause: Cause, cause_ref: dict[int, str], ev_ref: dict[int, str]) -> CauseDoc:
    return CauseDoc(
        ref=cause_ref[cause.id],
        parent=cause_ref.get(cause.parent_id) if cause.parent_id else None,
        kind=cause.kind,
        category=cause.category,
        statement=cause.statement,
        why=cause.why,  # type: ignore[arg-type]
        evidence=[ev_ref[i] for i in cause.evidence_ids if i in ev_ref],
    )


def _action_part(action: Action, cause_ref: dict[int, str]) -> ActionDoc:
    return ActionDoc(
        key=action.key,
        title=action.title,
        type=action.type,
        description=action.description,
        owner=action.owner,
        team=action.team,  # type: ignore[arg-type]
        due_date=action.due_date,
        priority=action.priority,
        effort=action.effort,  # type: ignore[arg-type]
        success_criteria=action.success_criteria,
        validation_method=action.validation_method,
        status=ActionStatus(action.status),
        status_reason=action.status_reason,
        addresses=[cause_ref[c.id] for c in action.causes],
        compliance_rule=action.compliance_rule,
        created_at=action.created_at,
        completed_at=action.completed_at,
        verified_at=action.verified_at,
        history=[
            StatusChangeDoc(
                from_status=h.from_status,
                to_status=h.to_status,
                reason=h.reason,
                actor=h.actor,
                source=h.source,
                at=h.at,
            )
            for h in action.history
        ],
        validations=[validation_part(v) for v in action.validations],
    )


def validation_part(v: ActionValidation) -> ValidationDoc:
    return ValidationDoc(
        checked=v.checked,
        result=v.result,  # type: ignore[arg-type]
        evidence=v.evidence,
        checked_at=v.checked_at,
        checked_by=v.checked_by,
        note=v.note,  # type: ignore[arg-type]
        recorded_at=v.created_at,
    )


def import_file_once(runtime: Runtime, path: Path, *, source: str, actor: str) -> tuple[str, bool]:
    """Import unless an incident from the same source and file is already there."""
    from sqlalchemy import select

    doc = validate_document(parse_file(path))
    with runtime.uow() as uow:
        existing = uow.session.scalar(
            select(Incident).where(Incident.source == source, Incident.external_id == path.name)
        )
        if existing is not None:
            return existing.key or "", False
        incident = store_document(uow.session, doc, actor, source=source)
        incident.external_id = path.name
        incident_changed(uow, incident)
        uow.commit()
        return incident.key or "", True
