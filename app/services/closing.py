"""Incident close automation: when an incident is resolved or closed, prepare its review.

Once per postmortem, from any source (PagerDuty, Opsgenie, Alertmanager, the generic
hook, Jira, or the API): the time to detect, acknowledge, mitigate and resolve; the
facilitator by rotation (never the incident commander when policy says so); the review
due date in business days; the suggested participants; a calendar invitation (.ics)
with an agenda drawn from the incident; the Jira mirror of the postmortem; and the
announcement. The review row is unique per postmortem, so a re-delivered close, or a
close after a resolve, finds it and does nothing new.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.db import UnitOfWork
from app.domain.errors import NotFound
from app.domain.vocabulary import IncidentStatus, ParticipantRole, Severity
from app.models import Incident, Participant, Postmortem, PostmortemReview
from app.rules import review as policy
from app.runtime import Runtime, current
from app.schemas.reviews import ReviewRead

from . import invitations, notifications
from .changes import postmortem_changed
from .common import load_incident

_CLOSED = {IncidentStatus.RESOLVED.value, IncidentStatus.CLOSED.value}


def review_terms(session: Session, incident: Incident) -> tuple[str | None, date]:
    """The facilitator and due date a new postmortem starts with (people may change both)."""
    rt = current()
    rules = rt.policy.review
    resolved = incident.resolved_at or incident.closed_at or datetime.now(UTC)
    local = resolved.astimezone(policy.ZoneInfo(rules.timezone)).date()
    due = policy.add_business_days(local, rules.due_business_days, rules.holidays)
    pool = policy.facilitator_pool(rules, rt.catalog, incident.services)
    rows = session.execute(
        select(Postmortem.facilitator, func.max(Postmortem.created_at))
        .where(Postmortem.facilitator.is_not(None))
        .group_by(Postmortem.facilitator)
    ).all()
    last = {name: at for name, at in rows if name is not None}
    commanders = _commanders(incident) if rules.facilitator_not_incident_commander else []
    chosen = policy.pick_facilitator(pool, last, exclude=commanders)
    return (chosen.name if chosen else None), due


def _commanders(incident: Incident) -> list[str]:
    role = ParticipantRole.INCIDENT_COMMANDER.value
    return [p.name for p in incident.participants if p.role == role and p.name]


def note_commander(session: Session, incident: Incident, actor: str | None) -> None:
    """Whoever acknowledged the page leads the response unless someone was named: the
    acknowledging catalog person becomes the incident commander once, if there is none."""
    person = current().catalog.person(actor)
    if person is None or _commanders(incident):
        return
    role = ParticipantRole.INCIDENT_COMMANDER.value
    session.add(Participant(incident=incident, role=role, name=person.name, team=person.team))


def timings(incident: Incident) -> dict[str, int | None]:
    """Minutes, as the learning report measures them: detect and mitigate and resolve from
    the start, acknowledge from detection. A missing end is None, never a guess."""

    def span(start: datetime | None, end: datetime | None) -> int | None:
        if start is None or end is None:
            return None
        return max(0, round((end - start).total_seconds() / 60))

    start = incident.started_at
    return {
        "detect": span(start, incident.detected_at),
        "acknowledge": span(incident.detected_at, incident.acknowledged_at),
        "mitigate": span(start, incident.mitigated_at),
        "resolve": span(start, incident.resolved_at or incident.closed_at),
    }


def prepare_review(
    uow: UnitOfWork, incident: Incident, *, actor: str, now: datetime | None = None
) -> PostmortemReview | None:
    """Once per postmortem of a resolved or closed incident; None when nothing is new."""
    if incident.status not in _CLOSED:
        return None  # checked first: an open incident never loads its postmortem to learn this
    postmortem = incident.postmortem
    if postmortem is None:
        return None
    session = uow.session
    session.flush()
    found = session.scalar(
        select(PostmortemReview).where(PostmortemReview.postmortem_id == postmortem.id)
    )
    if found is not None:
        return None
    now = now or datetime.now(UTC)
    review = _new_review(session, incident, postmortem, now)
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="postmortem.review_prepared",
        entity_type="postmortem",
        entity_key=incident.key or "",
        after={
            "facilitator": review.facilitator,
            "due": review.due.isoformat(),
            "timings": review.timings,
            "participants": [p["name"] for p in review.participants],
            "invitation_uid": review.invitation_uid,
        },
    )
    postmortem_changed(uow, postmortem)  # the outbox row: the postmortem is mirrored to Jira
    announce_postmortem(uow, incident, review, now=now)
    return review


def _new_review(
    session: Session, incident: Incident, postmortem: Postmortem, now: datetime
) -> PostmortemReview:
    rt = current()
    rules = rt.policy.review
    due = postmortem.review_due or policy.add_business_days(
        now.date(), rules.due_business_days, rules.holidays
    )
    start, end = policy.review_window(rules, due)
    already = [(p.name, p.role) for p in incident.participants if p.name]
    people = policy.suggested_participants(
        rules,
        rt.catalog,
        services=incident.services,
        severity=Severity(incident.severity),
        facilitator=postmortem.facilitator,
        already=already,
    )
    participants = [{"name": name, "why": why, "email": _email(name)} for name, why in people]
    review = PostmortemReview(
        postmortem_id=postmortem.id,
        incident_id=incident.id,
        facilitator=postmortem.facilitator,
        due=due,
        starts_at=start.astimezone(UTC),
        ends_at=end.astimezone(UTC),
        timings=timings(incident),
        participants=participants,
        invitation_uid=f"{uuid.uuid4()}@hindsight",
        invitation="",
    )
    review.invitation = invitations.build(incident, review, now=now, link=_link(incident))
    return review


def _email(name: str) -> str | None:
    person = current().catalog.person(name)
    return person.email if person else None


def _link(incident: Incident) -> str:
    base = (current().settings.public_url or "").rstrip("/")
    return f"{base}/api/v1/incidents/{incident.key}/postmortem?format=html"


@dataclass(frozen=True)
class Announcement:
    """Everything a channel needs to tell people the postmortem is open."""

    subject: str
    text: str
    html: str
    team: str | None
    people: tuple[str, ...]
    emails: tuple[str, ...]
    incident_key: str
    link: str
    dedupe_key: str
    attachments: tuple[tuple[str, str, bytes], ...] = field(default_factory=tuple)


def announce_postmortem(
    uow: UnitOfWork, incident: Incident, review: PostmortemReview, *, now: datetime
) -> Announcement:
    """Tell the participants the postmortem is open, with the invitation attached.

    The message goes through the notification outbox (`notifications.notify`: one row
    per channel and recipient the catalog routes it to, delivered after commit with
    retries), so a mail server that is down never holds up or loses the close. The
    announcement is also recorded in the audit log with its recipients and the
    invitation's uid; `dedupe_key` makes a re-delivered close send nothing new.
    """
    team = current().catalog.team_for_services(incident.services)
    announcement = invitations.announcement(
        incident,
        review,
        team=team.name if team else None,
        link=_link(incident),
        make=Announcement,
    )
    review.announced_at = now
    a = announcement
    notifications.notify(
        uow,
        kind="postmortem.opened",
        subject=a.subject,
        text=a.text,
        html=a.html,
        team=a.team,
        people=a.people,
        emails=a.emails,
        incident_key=a.incident_key,
        link=a.link,
        attachments=a.attachments,
        dedupe_key=a.dedupe_key,
    )
    audit.record(
        uow.session,
        actor="hindsight",
        action="postmortem.announced",
        entity_type="postmortem",
        entity_key=incident.key or "",
        after={
            "subject": announcement.subject,
            "team": announcement.team,
            "people": list(announcement.people),
            "emails": list(announcement.emails),
            "invitation_uid": review.invitation_uid,
            "dedupe_key": announcement.dedupe_key,
        },
    )
    return announcement


# -- reading ---------------------------------------------------------------------------------


def _review(session: Session, key: str) -> PostmortemReview:
    incident = load_incident(session, key)
    review = session.scalar(
        select(PostmortemReview).where(PostmortemReview.incident_id == incident.id)
    )
    if review is None:
        raise NotFound(f"{key} has no review yet: it is prepared when the incident closes")
    return review


def get_review(runtime: Runtime, key: str) -> ReviewRead:
    with runtime.db.sessions() as session:
        r = _review(session, key)
        return ReviewRead.model_validate(
            {
                "incident": key,
                "facilitator": r.facilitator,
                "due": r.due,
                "starts_at": r.starts_at,
                "ends_at": r.ends_at,
                "timings": r.timings,
                "participants": r.participants,
                "invitation_uid": r.invitation_uid,
                "announced_at": r.announced_at,
            }
        )


def get_invitation(runtime: Runtime, key: str) -> bytes:
    with runtime.db.sessions() as session:
        return _review(session, key).invitation.encode()
