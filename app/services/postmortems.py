"""The postmortem document: edit, publish (behind the rules gate), render."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app import audit
from app.domain.errors import Conflict, NotFound, field_error
from app.domain.transitions import TransitionError, check_postmortem_transition
from app.domain.vocabulary import PostmortemStatus
from app.models import Incident, Postmortem
from app.rules.snapshot import related
from app.runtime import Runtime, current
from app.schemas.actions import ActionRead
from app.schemas.analysis import CauseRead, EvidenceRead, ParticipantRead, TimelineEventRead
from app.schemas.findings import FindingRead
from app.schemas.incidents import IncidentRead
from app.schemas.postmortems import PostmortemRead, PostmortemUpdate

from . import actions as action_service
from . import incidents as incident_service
from . import redaction
from .changes import postmortem_changed
from .common import changed, load_incident, reject_nulls, snapshot
from .evaluation import blocker_report, publish_blockers
from .findings import findings_for
from .postmortem_render import render_document


class RelatedIncidentRead(BaseModel):
    """An earlier incident priority scoring counted: it shares a service with this one."""

    key: str
    services: list[str]
    categories: list[str]


class PostmortemDocument(BaseModel):
    """Everything the rules read, so every format can carry it (and lint read it back).

    `generated_at` is the "now" the record was read at: the related incidents of
    scoring's window are those of that moment, and lint judges deadlines at it.
    """

    generated_at: datetime
    redacted: bool = False  # names replaced by roles: the people facts are no longer the record's
    incident: IncidentRead
    postmortem: PostmortemRead
    timeline: list[TimelineEventRead]
    participants: list[ParticipantRead]
    evidence: list[EvidenceRead]
    causes: list[CauseRead]
    actions: list[ActionRead]
    findings: list[FindingRead]
    related: list[RelatedIncidentRead]


def to_read(postmortem: Postmortem) -> PostmortemRead:
    data: dict[str, Any] = {
        c: getattr(postmortem, c) for c in PostmortemRead.model_fields if hasattr(Postmortem, c)
    }
    return PostmortemRead.model_validate({**data, "incident_key": postmortem.incident.key})


def _postmortem(incident: Incident) -> Postmortem:
    if incident.postmortem is None:
        raise NotFound(
            f"{incident.key} has no postmortem yet: it opens when the incident is resolved, "
            "or start one with PATCH"
        )
    return incident.postmortem


def document(
    session: Session, incident: Incident, at: datetime | None = None
) -> PostmortemDocument:
    now = at or current().clock()
    window = timedelta(days=current().policy.scoring.window_days)
    return PostmortemDocument(
        generated_at=now,
        related=[
            RelatedIncidentRead(
                key=r.key, services=sorted(r.services), categories=sorted(r.categories)
            )
            for r in related(session, incident, since=now - window)
        ],
        incident=incident_service.to_read(session, incident),
        postmortem=to_read(_postmortem(incident)),
        timeline=[TimelineEventRead.model_validate(t) for t in incident.timeline],
        participants=[ParticipantRead.model_validate(p) for p in incident.participants],
        evidence=[EvidenceRead.model_validate(e) for e in incident.evidence],
        causes=[CauseRead.model_validate(c) for c in incident.causes],
        actions=[action_service.to_read(a) for a in incident.actions],
        findings=findings_for(session, incident, now),
    )


def get_document(
    runtime: Runtime, key: str, *, redact: bool = False, at: datetime | None = None
) -> PostmortemDocument:
    """The postmortem as of `at` (default: now); with `redact`, every personal name replaced
    by its role."""
    with runtime.db.sessions() as session:
        incident = load_incident(session, key)
        doc = document(session, incident, at)
        if not redact:
            return doc
        redactor = redaction.for_incident(incident, runtime.catalog)
        shared = redactor.walk(doc.model_dump(mode="json"))
        return PostmortemDocument.model_validate({**shared, "redacted": True})


def update_postmortem(
    runtime: Runtime, key: str, data: PostmortemUpdate, actor: str
) -> PostmortemRead:
    """PATCH also starts a postmortem for an incident that is not resolved yet."""
    with runtime.uow() as uow:
        incident = load_incident(uow.session, key, lock=True)
        postmortem = incident.postmortem or incident_service.open_postmortem(uow.session, incident)
        uow.session.flush()
        before = snapshot(postmortem)
        values = data.model_dump(exclude_unset=True, exclude={"status"})
        for name in _LISTS:  # null clears a list of lines
            if name in values and values[name] is None:
                values[name] = []
        reject_nulls(Postmortem, values)
        if "status" in data.model_fields_set and data.status is None:
            raise field_error(["body", "status"], "may not be null")
        for name, value in values.items():
            setattr(postmortem, name, value)
        if data.status is not None:
            move_postmortem(uow.session, incident, postmortem, data.status)
        old, new = changed(before, snapshot(postmortem))
        if new:
            audit.record(
                uow.session,
                actor=actor,
                action="postmortem.update",
                entity_type="postmortem",
                entity_key=incident.key or key,
                before=old,
                after=new,
            )
            postmortem_changed(uow, postmortem)
        uow.commit()
        return to_read(postmortem)


_LISTS = ("went_well", "went_wrong", "lucky", "lessons")


def move_postmortem(
    session: Session, incident: Incident, postmortem: Postmortem, new: PostmortemStatus
) -> None:
    """One status change inside the caller's transaction (PATCH and Jira sync-in): the
    workflow's check, then, for a publish, the rules gate. Raises `Conflict`."""
    try:
        check_postmortem_transition(PostmortemStatus(postmortem.status), new)
    except TransitionError as exc:
        raise Conflict(str(exc)) from None
    if new == PostmortemStatus.PUBLISHED and postmortem.status != new:
        # Judged fresh, on this transaction's state: stored findings may predate a queued job.
        blockers = publish_blockers(current(), session, incident)
        if blockers:
            raise Conflict(
                f"{len(blockers)} unwaived blocking finding(s) stop publication",
                extra={"blockers": blocker_report(session, incident, blockers)},
            )
        postmortem.published_at = datetime.now(UTC)
    postmortem.status = new.value


def render(doc: PostmortemDocument, fmt: str) -> str:
    """Markdown for wikis, Jira and `hindsight lint`; HTML for people (autoescaped)."""
    return render_document(doc, fmt)
