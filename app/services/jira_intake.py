"""Jira as an incident source: an incident issue moving to done closes an incident.

Incidents people run as Jira issues (the issue type and project of
`incident_source` in config/jira.yaml) become Hindsight incidents when the issue
reaches a done status category. Until then their deliveries are stored and left
`ignored`: an ordinary bug that never closes is never an incident. At the close
those earlier deliveries (creation, status changes, comments) are read back into
the timeline, so it shows the whole story; later ones apply to the incident directly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import UnitOfWork
from app.domain.vocabulary import DeliveryStatus, Severity
from app.models import Incident, WebhookDelivery
from app.runtime import current
from app.sync import jira_incidents
from app.sync.jira_incidents import IssueActivity, IssueIncident
from app.webhooks.event import EventKind, IncidentEvent, slug

from . import closing, deliveries
from .changes import incident_changed
from .intake import apply_event

SOURCE = "jira"
_STATUS_KINDS = {
    "done": EventKind.RESOLVED,
    "indeterminate": EventKind.ACKNOWLEDGED,
}
Outcome = tuple[DeliveryStatus, str | None]


def incident_issue(payload: dict[str, Any]) -> IssueIncident | None:
    """The delivery's issue when it is an incident issue of the configured type and project."""
    mapping = current().jira_mapping
    source = mapping.incident_source
    if not source.enabled:
        return None
    return jira_incidents.incident_issue(
        payload,
        project=source.project or mapping.project,
        issue_type=source.issue_type or mapping.issue_types["incident"],
        label_prefix=mapping.label_prefix,
    )


def apply_issue(uow: UnitOfWork, issue: IssueIncident) -> Outcome:
    """Create or find the incident (only once the issue is done) and apply the activity."""
    session = uow.session
    incident = _find(session, issue.issue_key)
    if incident is None and not issue.done:
        return DeliveryStatus.IGNORED, "incident issue not done yet; kept for its timeline"
    if incident is None:
        earlier = _earlier(session, issue.issue_key)
        activities = [a for _, i in earlier for a in i.activities if a.kind != "created"]
        events = [_triggered(issue), *(_event(issue, a) for a in activities)]
    else:
        earlier = []
        events = []
    events += [_event(issue, a) for a in issue.activities if a.kind != "created"]
    for event in events:
        incident = apply_event(session, event)
    if incident is None:
        return DeliveryStatus.IGNORED, "no incident activity in the delivery"
    for row, _ in earlier:
        deliveries.finish(row, DeliveryStatus.PROCESSED, f"read into {incident.key} at its close")
    incident_changed(uow, incident)
    closing.prepare_review(uow, incident, actor="webhook:jira")
    return DeliveryStatus.PROCESSED, None


def _find(session: Session, key: str) -> Incident | None:
    return session.scalar(
        select(Incident).where(Incident.source == SOURCE, Incident.external_id == key)
    )


def _earlier(session: Session, key: str) -> list[tuple[WebhookDelivery, IssueIncident]]:
    """The issue's deliveries that waited for its close, oldest first."""
    first, second = jira_incidents.ISSUE_KEY_PATH
    rows = session.scalars(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.source == SOURCE,
            WebhookDelivery.status == DeliveryStatus.IGNORED.value,
            WebhookDelivery.payload[first][second].as_string() == key,
        )
        .order_by(WebhookDelivery.id)
    ).all()
    out = []
    for row in rows:
        parsed = incident_issue(row.payload)
        if parsed is not None:
            out.append((row, parsed))
    return out


def _severity(priority: str | None) -> Severity:
    by_name = {v.lower(): k for k, v in current().jira_mapping.severity_priorities.items()}
    found = by_name.get((priority or "").lower())
    return Severity(found) if found is not None and found in Severity.__members__ else Severity.SEV3


def _base(issue: IssueIncident) -> dict[str, Any]:
    return {
        "source": SOURCE,
        "external_id": issue.issue_key,
        "title": issue.summary,
        "severity": _severity(issue.priority),
        "services": tuple(slug(s) for s in issue.services),
        "summary": issue.description,
        "url": issue.url,
    }


def _triggered(issue: IssueIncident) -> IncidentEvent:
    when = issue.created or min(a.at for a in issue.activities)
    return IncidentEvent(
        kind=EventKind.TRIGGERED,
        occurred_at=when,
        what=f"issue {issue.issue_key} created",
        **_base(issue),
    )


def _event(issue: IssueIncident, activity: IssueActivity) -> IncidentEvent:
    kind = EventKind.ANNOTATED
    if activity.kind == "status":
        kind = _STATUS_KINDS.get(activity.category or "", EventKind.ANNOTATED)
    what = {"comment": "comment", "status": "status change", "field": "change"}[activity.kind]
    return IncidentEvent(
        kind=kind,
        occurred_at=activity.at,
        actor=activity.actor,
        what=f"{issue.issue_key} {what}",
        detail=activity.text,
        **_base(issue),
    )
