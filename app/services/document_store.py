"""Rows from an incident document, history included, inside the caller's transaction.

Shared by the first import (everything new) and the update of an existing
incident (only what the incident does not have yet), so a record built
either way is the same row for row: an action's creation, completion and
verification times and its status history are the document's, not the
moment of the import.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.domain.errors import Invalid
from app.domain.vocabulary import ActionStatus
from app.models import (
    Action,
    ActionStatusChange,
    ActionValidation,
    Cause,
    Evidence,
    Incident,
    Participant,
    TimelineEvent,
)
from app.schemas.actions import ActionCreate
from app.schemas.analysis import ParticipantCreate, TimelineEventCreate
from app.schemas.documents import ActionDoc, CauseDoc, EvidenceDoc, PostmortemDoc, ValidationDoc

from .records import add_action

_DOC_ONLY = {
    "key",
    "status",
    "status_reason",
    "addresses",
    "created_at",
    "completed_at",
    "verified_at",
    "history",
    "validations",
}


def add_timeline(session: Session, incident: Incident, event: TimelineEventCreate) -> None:
    session.add(TimelineEvent(**event.model_dump(), incident=incident))


def add_evidence(session: Session, incident: Incident, doc: EvidenceDoc) -> Evidence:
    row = Evidence(**doc.model_dump(exclude={"ref"}), incident=incident)
    session.add(row)
    return row


def add_participant(session: Session, incident: Incident, doc: ParticipantCreate) -> None:
    session.add(Participant(**doc.model_dump(), incident=incident))


def add_cause(
    session: Session,
    incident: Incident,
    doc: CauseDoc,
    causes: dict[str, Cause],
    evidence: dict[str, Evidence],
) -> Cause:
    """Parents first (the caller orders them), so the parent already has its id."""
    row = Cause(
        incident=incident,
        kind=doc.kind.value,
        category=doc.category.value,
        statement=doc.statement,
        why=doc.why,
        parent_id=causes[doc.parent].id if doc.parent else None,
        evidence_ids=[evidence[r].id for r in doc.evidence],
    )
    session.add(row)
    session.flush()
    return row


def add_action_with_history(
    session: Session, incident: Incident, doc: ActionDoc, causes: dict[str, Cause], actor: str
) -> Action:
    create = ActionCreate(
        **doc.model_dump(exclude=_DOC_ONLY), cause_ids=[causes[r].id for r in doc.addresses]
    )
    action = add_action(
        session, incident, create, actor=actor, status=doc.status, status_reason=doc.status_reason
    )
    if doc.created_at is not None:
        action.created_at = action.last_activity_at = doc.created_at
    if doc.history:
        action.history.clear()  # the one step add_action wrote stands for a history it lacked
        for step in doc.history:
            action.history.append(
                ActionStatusChange(
                    from_status=step.from_status.value if step.from_status else None,
                    to_status=step.to_status.value,
                    reason=step.reason,
                    actor=step.actor,
                    source=step.source,
                    at=step.at,
                )
            )
    else:  # the one step stands for the document's say-so, at its creation time if given
        action.history[0].source = "import"
        if doc.created_at is not None:
            action.history[0].at = doc.created_at
    action.completed_at = _completed_at(doc, action.completed_at)
    action.verified_at = doc.verified_at or _entered(doc, {ActionStatus.VERIFIED})
    if action.verified_at is None and doc.status == ActionStatus.VERIFIED:
        action.verified_at = action.completed_at
    if doc.history:
        action.last_activity_at = max(action.last_activity_at, doc.history[-1].at)
    for v in doc.validations:
        add_validation(action, v)
    return action


def add_validation(action: Action, doc: ValidationDoc) -> None:
    """The record as it was: who checked, when, and when it was written down."""
    action.validations.append(
        ActionValidation(
            checked=doc.checked,
            result=doc.result,
            checked_at=doc.checked_at,
            checked_by=doc.checked_by,
            evidence=doc.evidence,
            note=doc.note,
            created_at=doc.recorded_at or doc.checked_at,
        )
    )


def validation_identity(v: ActionValidation | ValidationDoc) -> tuple[object, ...]:
    """What makes two records the same check (an import matches on it, never duplicates)."""
    return (v.checked_at, v.result, v.checked, v.checked_by, v.evidence)


def _completed_at(doc: ActionDoc, fallback: datetime | None) -> datetime | None:
    """The document's time, else when its history entered done or won't do, else the import's."""
    if not doc.status.is_closed:
        return None
    done = {ActionStatus.DONE, ActionStatus.WONT_DO}
    return doc.completed_at or _entered(doc, done) or fallback


def _entered(doc: ActionDoc, statuses: set[ActionStatus]) -> datetime | None:
    times = [s.at for s in doc.history if s.to_status in statuses]
    return times[-1] if times else None


def fill_postmortem(incident: Incident, doc: PostmortemDoc) -> None:
    """A new postmortem takes the document's every field (a draft opened a moment ago)."""
    assert incident.postmortem is not None
    for name, value in doc.model_dump().items():
        setattr(incident.postmortem, name, getattr(value, "value", value))


def parents_first(causes: list[CauseDoc]) -> list[CauseDoc]:
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
