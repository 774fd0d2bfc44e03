"""Importing a document into an incident that already exists: fill and add, never overwrite.

The document names its incident by `incident.key` (which must exist here)
or by `incident.source` + `incident.external_id` (created if no incident
has them). What the stored incident already says was decided by a person
or by its own workflow, so an import never changes it:

- a field that is empty in the database (null, "", an empty list) takes the
  document's value; a field whose stored value differs is kept and listed
  in the result (`kept`), so the importer sees what did not apply;
- timeline events (same time, kind and text), evidence (kind and URI),
  participants (role, name, team), causes (kind and statement) and actions
  (`key`, else the same title) already there are matched, not duplicated;
  the rest is added, with the document's history; an action's validation
  records (same time, result, check, checker and evidence) likewise;
- statuses (incident, action, postmortem) and an action's history are never
  moved or rewritten by an import: the workflow moves them (kept if they
  differ); a link from an action to a cause is added, never removed.

Importing the same document twice changes nothing the second time, and an
exported incident imported back is the same record (test_import_history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.domain.errors import Invalid
from app.models import Action, Cause, Evidence, Incident
from app.schemas.documents import ActionDoc, IncidentDocument
from app.schemas.incidents import TIME_FIELDS, TimeOrderError, check_time_order

from .common import load_incident
from .document_store import (
    add_action_with_history,
    add_cause,
    add_evidence,
    add_participant,
    add_timeline,
    add_validation,
    fill_postmortem,
    parents_first,
    validation_identity,
)
from .incidents import open_postmortem

_INCIDENT_FIELDS = (
    "title",
    "severity",
    "summary",
    "status",
    "services",
    "domain",
    "tags",
    "regulatory",
    *TIME_FIELDS,
    "external_id",
    "created_at",
)
_IMPACT = ("customers", "revenue", "currency", "sla_minutes", "data")
_ACTION_FIELDS = (
    "title",
    "type",
    "description",
    "owner",
    "team",
    "due_date",
    "priority",
    "effort",
    "success_criteria",
    "validation_method",
    "compliance_rule",
    "status",
    "status_reason",
    "completed_at",
    "verified_at",
)
_POSTMORTEM_FIELDS = (
    "status",
    "facilitator",
    "review_due",
    "review_held_at",
    "summary",
    "impact",
    "went_well",
    "went_wrong",
    "lucky",
    "lessons",
    "published_at",
)


@dataclass
class ImportResult:
    key: str
    created: bool
    added: dict[str, int] = field(default_factory=dict)
    filled: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.filled or any(self.added.values()))

    def describe(self) -> str:
        if self.created:
            return f"created {self.key}"
        added = ", ".join(f"{n} {what}" for what, n in self.added.items() if n) or "nothing"
        text = f"updated {self.key}: added {added}; filled {len(self.filled)} empty field(s)"
        if self.kept:
            text += f"; kept {len(self.kept)} stored value(s) that differ: {', '.join(self.kept)}"
        return text


def find_target(session: Session, doc: IncidentDocument) -> Incident | None:
    """The incident the document names, or None to create one."""
    part = doc.incident
    by_key = by_ext = None
    if part.key:
        by_key = session.scalar(select(Incident).where(Incident.key == part.key.upper()))
        if by_key is None:
            raise Invalid(
                f"no incident {part.key.upper()} in this database",
                errors=[
                    {
                        "loc": ["incident", "key"],
                        "msg": f"no incident {part.key.upper()} here; leave key out to create one",
                    }
                ],
            )
    if part.external_id:
        by_ext = session.scalar(
            select(Incident).where(
                Incident.source == (part.source or "import"),
                Incident.external_id == part.external_id,
            )
        )
    if by_key is not None and by_ext is not None and by_key.id != by_ext.id:
        raise Invalid(
            "the document names two incidents",
            errors=[
                {
                    "loc": ["incident", "external_id"],
                    "msg": f"belongs to {by_ext.key}, not {by_key.key}",
                }
            ],
        )
    found = by_key or by_ext
    # Serialise imports into one incident (and with the API's writers) before reading it.
    return None if found is None else load_incident(session, found.key or "", lock=True)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


class _Merge:
    def __init__(self, session: Session, incident: Incident, result: ImportResult) -> None:
        self.session, self.incident, self.result = session, incident, result
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def fill(self, row: Any, column: str, value: Any, path: str) -> None:
        value = _plain(value)
        if isinstance(value, list):
            value = [_plain(v) for v in value]
        stored = getattr(row, column)
        if _empty(value) or stored == value:
            return
        if _empty(stored):
            setattr(row, column, value)
            self.result.filled.append(path)
            self.before[path] = _audit_value(stored)
            self.after[path] = _audit_value(value)
        else:
            self.result.kept.append(path)

    def count(self, what: str) -> None:
        self.result.added[what] = self.result.added.get(what, 0) + 1


def _audit_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def merge_document(
    session: Session, incident: Incident, doc: IncidentDocument, actor: str
) -> ImportResult:
    m = _Merge(session, incident, ImportResult(incident.key or "", created=False))
    part = doc.incident
    for name in _INCIDENT_FIELDS:
        if name in part.model_fields_set:
            m.fill(incident, name, getattr(part, name), f"incident.{name}")
    for name in _IMPACT:
        m.fill(incident, f"impact_{name}", getattr(part.impact, name), f"incident.impact.{name}")
    try:
        check_time_order({f: getattr(incident, f) for f in TIME_FIELDS})
    except TimeOrderError as exc:
        raise Invalid(
            str(exc), errors=[{"loc": ["incident", exc.field], "msg": str(exc)}]
        ) from None
    _merge_analysis(m, doc)
    causes = _merge_causes(m, doc)
    _merge_actions(m, doc, causes, actor)
    _merge_postmortem(m, doc)
    if m.result.changed:
        audit.record(
            session,
            actor=actor,
            action="incident.import_update",
            entity_type="incident",
            entity_key=incident.key or "",
            before=m.before,
            after={**m.after, "added": m.result.added, "kept": m.result.kept},
        )
    return m.result


def _merge_analysis(m: _Merge, doc: IncidentDocument) -> None:
    inc = m.incident
    events = {(t.at, t.kind, t.text) for t in inc.timeline}
    for t in doc.timeline:
        if (t.at, t.kind.value, t.text) not in events:
            add_timeline(m.session, inc, t)
            events.add((t.at, t.kind.value, t.text))
            m.count("timeline events")
    people = {(p.role, p.name, p.team) for p in inc.participants}
    for p in doc.participants:
        if (p.role.value, p.name, p.team) not in people:
            add_participant(m.session, inc, p)
            people.add((p.role.value, p.name, p.team))
            m.count("participants")


def _merge_causes(m: _Merge, doc: IncidentDocument) -> dict[str, Cause]:
    inc = m.incident
    stored_ev = {(e.kind, e.uri): e for e in inc.evidence}
    evidence: dict[str, Evidence] = {}
    for e in doc.evidence:
        evidence[e.ref] = stored_ev.get((e.kind.value, e.uri)) or add_evidence(m.session, inc, e)
        if (e.kind.value, e.uri) not in stored_ev:
            stored_ev[(e.kind.value, e.uri)] = evidence[e.ref]
            m.count("evidence")
    m.session.flush()
    stored = {(c.kind, c.statement): c for c in inc.causes}
    causes: dict[str, Cause] = {}
    for c in parents_first(doc.causes):
        found = stored.get((c.kind.value, c.statement))
        if found is None:
            causes[c.ref] = add_cause(m.session, inc, c, causes, evidence)
            m.count("causes")
            continue
        causes[c.ref] = found
        i = doc.causes.index(c)
        m.fill(found, "why", c.why, f"causes[{i}].why")
        m.fill(found, "category", c.category, f"causes[{i}].category")
        parent = causes[c.parent].id if c.parent else None
        m.fill(found, "parent_id", parent, f"causes[{i}].parent")
        m.fill(found, "evidence_ids", [evidence[r].id for r in c.evidence], f"causes[{i}].evidence")
    return causes


def _merge_actions(m: _Merge, doc: IncidentDocument, causes: dict[str, Cause], actor: str) -> None:
    inc = m.incident
    free = list(inc.actions)
    for i, a in enumerate(doc.actions):
        found = _match_action(inc, free, a, i)
        if found is None:
            add_action_with_history(m.session, inc, a, causes, actor)
            m.count("actions")
            continue
        free.remove(found)
        for name in _ACTION_FIELDS:
            if name in a.model_fields_set:
                m.fill(found, name, getattr(a, name), f"actions[{i}].{name}")
        for ref in a.addresses:
            if causes[ref] not in found.causes:
                found.causes.append(causes[ref])
                m.result.filled.append(f"actions[{i}].addresses")
        _merge_validations(m, found, a)
        stored = [(h.from_status, h.to_status, h.at) for h in found.history]
        given = [(_plain(h.from_status), h.to_status.value, h.at) for h in a.history]
        if a.history and given != stored:
            m.result.kept.append(f"actions[{i}].history")


def _merge_validations(m: _Merge, action: Action, a: ActionDoc) -> None:
    """Checks not on record yet are added; a record is never changed or removed by an import
    (the action's status is the workflow's, so a check arriving this way does not move it)."""
    seen = {validation_identity(v) for v in action.validations}
    for v in a.validations:
        if validation_identity(v) not in seen:
            add_validation(action, v)
            seen.add(validation_identity(v))
            m.count("validations")


def _match_action(inc: Incident, free: list[Action], a: ActionDoc, i: int) -> Action | None:
    if a.key:
        for action in inc.actions:
            if action.key == a.key.upper():
                return action if action in free else None
        raise Invalid(
            f"{inc.key} has no action {a.key.upper()}",
            errors=[{"loc": ["actions", i, "key"], "msg": f"{inc.key} has no action {a.key}"}],
        )
    return next((x for x in free if x.title == a.title), None)


def _merge_postmortem(m: _Merge, doc: IncidentDocument) -> None:
    if doc.postmortem is None:
        return
    if m.incident.postmortem is None:
        open_postmortem(m.session, m.incident)
        fill_postmortem(m.incident, doc.postmortem)
        m.count("postmortem")
        return
    pm = doc.postmortem
    for name in _POSTMORTEM_FIELDS:
        if name in pm.model_fields_set:
            m.fill(m.incident.postmortem, name, getattr(pm, name), f"postmortem.{name}")
