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
from app.domain.vocabulary import ActionStatus, PostmortemStatus
from app.models import Action, Cause, Evidence, Incident, Participant, TimelineEvent
from app.runtime import Runtime
from app.schemas.actions import ActionCreate
from app.schemas.analysis import EvidenceCreate, ParticipantCreate, TimelineEventCreate
from app.schemas.documents import ActionDoc, CauseDoc, EvidenceDoc, IncidentDocument, PostmortemDoc
from app.schemas.incidents import Impact, IncidentCreate

from . import redaction
from .changes import incident_changed
from .common import load_incident
from .incidents import add_incident, open_postmortem
from .records import add_action


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
    errors = _dangling_refs(doc)
    if errors:
        raise Invalid(f"{len(errors)} unresolved reference(s)", errors=errors)
    return doc


def _dangling_refs(doc: IncidentDocument) -> list[dict[str, Any]]:
    evidence = {e.ref for e in doc.evidence}
    causes = {c.ref for c in doc.causes}
    errors: list[dict[str, Any]] = []

    def bad(loc: list[str | int], msg: str) -> None:
        errors.append({"loc": loc, "msg": msg})

    for label, refs in (
        ("evidence", [e.ref for e in doc.evidence]),
        ("causes", [c.ref for c in doc.causes]),
    ):
        for i, ref in enumerate(refs):
            if refs.index(ref) != i:
                bad([label, i, "ref"], f"duplicate ref {ref!r}")
    for i, cause in enumerate(doc.causes):
        if cause.parent is not None and cause.parent not in causes:
            bad(["causes", i, "parent"], f"unknown cause ref {cause.parent!r}")
        for j, ref in enumerate(cause.evidence):
            if ref not in evidence:
                bad(["causes", i, "evidence", j], f"unknown evidence ref {ref!r}")
    for i, action in enumerate(doc.actions):
        for j, ref in enumerate(action.addresses):
            if ref not in causes:
                bad(["actions", i, "addresses", j], f"unknown cause ref {ref!r}")
    return errors


def store_document(
    session: Session, doc: IncidentDocument, actor: str, source: str = "import"
) -> Incident:
    incident = add_incident(session, doc.incident, actor=actor, source=source)
    for t in doc.timeline:
        session.add(TimelineEvent(**t.model_dump(), incident=incident))
    evidence: dict[str, Evidence] = {}
    for e in doc.evidence:
        evidence[e.ref] = Evidence(**e.model_dump(exclude={"ref"}), incident=incident)
        session.add(evidence[e.ref])
    for p in doc.participants:
        session.add(Participant(**p.model_dump(), incident=incident))
    session.flush()
    causes: dict[str, Cause] = {}
    for c in _parents_first(doc.causes):
        causes[c.ref] = Cause(
            incident=incident,
            kind=c.kind.value,
            category=c.category.value,
            statement=c.statement,
            why=c.why,
            parent_id=causes[c.parent].id if c.parent else None,
            evidence_ids=[evidence[r].id for r in c.evidence],
        )
        session.add(causes[c.ref])
        session.flush()
    for a in doc.actions:
        create = ActionCreate(
            **a.model_dump(exclude={"status", "status_reason", "addresses"}),
            cause_ids=[causes[r].id for r in a.addresses],
        )
        add_action(
            session, incident, create, actor=actor, status=a.status, status_reason=a.status_reason
        )
    if doc.postmortem is not None:
        postmortem = open_postmortem(session, incident)
        for name, value in doc.postmortem.model_dump().items():
            setattr(postmortem, name, value.value if isinstance(value, PostmortemStatus) else value)
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


def _parents_first(causes: list[CauseDoc]) -> list[CauseDoc]:
    """Topological order so each parent has an id before its children; cycles are an error."""
    by_ref = {c.ref: c for c in causes}
    ordered: list[CauseDoc] = []
    state: dict[str, str] = {}

    def visit(c: CauseDoc, i: int) -> None:
        if state.get(c.ref) == "done":
            return
        if state.get(c.ref) == "visiting":
            raise Invalid(
                "causes form a loop", errors=[{"loc": ["causes", i, "parent"], "msg": "cause loop"}]
            )
        state[c.ref] = "visiting"
        if c.parent:
            visit(by_ref[c.parent], causes.index(by_ref[c.parent]))
        state[c.ref] = "done"
        ordered.append(c)

    for i, c in enumerate(causes):
        visit(c, i)
    return ordered


def import_document(runtime: Runtime, data: Any, actor: str) -> str:
    doc = validate_document(data)
    with runtime.uow() as uow:
        incident = store_document(uow.session, doc, actor)
        incident_changed(uow, incident)
        uow.commit()
        return incident.key or ""


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
    ev_ref = {e.id: f"E{n}" for n, e in enumerate(incident.evidence, 1)}
    cause_ref = {c.id: f"C{n}" for n, c in enumerate(incident.causes, 1)}
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


def _incident_part(incident: Incident) -> IncidentCreate:
    return IncidentCreate(
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
