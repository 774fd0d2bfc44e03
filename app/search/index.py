"""Keep the knowledge base current: rebuild one incident's search documents.

Called by the write path inside its transaction (app/services/changes.py), so
search sees exactly what was committed. Core statements only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.models import Action, Cause, Incident, Postmortem, SearchDocument, TimelineEvent

LOCK_SPACE = 0x5EA2C4  # advisory lock namespace of the knowledge base


def _join(*parts: Any) -> str:
    return "\n".join(str(p) for p in parts if p)


def _assemble(
    incident_id: int,
    incident: Any,
    timeline: Iterable[Any],
    causes: Iterable[Any],
    actions: Iterable[Any],
    postmortem: Any | None,
) -> list[dict[str, Any]]:
    """The documents of one incident from its parts, whether read as rows or as objects
    (both carry the same attribute names): the one place that says what is searchable."""
    causes = list(causes)  # read twice: the texts and the categories
    out: list[tuple[str, str]] = [("incident", _join(incident.title, incident.summary))]
    out += [("timeline", _join(ev.text, ev.rationale)) for ev in timeline]
    out += [("cause", _join(c.statement, c.why)) for c in causes]
    out += [("action", _join(a.title, a.description)) for a in actions]
    if postmortem is not None:
        pm = postmortem
        lessons = [pm.summary, *pm.went_well, *pm.went_wrong, *pm.lucky, *pm.lessons]
        out.extend(("lesson", str(text)) for text in lessons if text)
    shared = {
        "incident_id": incident_id,
        "facets": facets(incident.severity, incident.services, [c.category for c in causes]),
        "started": incident.started_at or incident.created_at,
    }
    return [{**shared, "kind": k, "body": b} for k, b in out if b.strip()]


def facets(severity: str, services: Iterable[str], categories: Iterable[str]) -> list[str]:
    """The incident's filter values as one list (the search filters match them exactly)."""
    return [
        f"severity:{severity}",
        *(f"service:{s}" for s in services),
        *sorted({f"category:{c}" for c in categories}),
    ]


def documents(session: Session, incident_id: int) -> list[dict[str, Any]]:
    """(kind, body) of every searchable part of one incident, read column by column."""
    inc = session.execute(
        select(Incident.title, Incident.summary, Incident.severity, Incident.services)
        .add_columns(Incident.started_at, Incident.created_at)
        .where(Incident.id == incident_id)
    ).one_or_none()
    if inc is None:
        return []
    return _assemble(
        incident_id,
        inc,
        session.execute(
            select(TimelineEvent.text, TimelineEvent.rationale).where(
                TimelineEvent.incident_id == incident_id
            )
        ),
        session.execute(
            select(Cause.statement, Cause.why, Cause.category).where(
                Cause.incident_id == incident_id
            )
        ),
        session.execute(
            select(Action.title, Action.description).where(Action.incident_id == incident_id)
        ),
        session.execute(
            select(Postmortem.summary, Postmortem.went_well, Postmortem.went_wrong)
            .add_columns(Postmortem.lucky, Postmortem.lessons)
            .where(Postmortem.incident_id == incident_id)
        ).one_or_none(),
    )


def documents_of(incident: Incident) -> list[dict[str, Any]]:
    """The same documents as `documents`, from an incident whose collections are loaded.

    For the evaluation job, which has just read all of them to build its view: reading
    them again column by column would be five more statements for the same values.
    """
    return _assemble(
        incident.id,
        incident,
        incident.timeline,
        incident.causes,
        incident.actions,
        incident.postmortem,
    )


def reindex_incident(
    session: Session, incident_id: int, docs: list[dict[str, Any]] | None = None
) -> None:
    """Replace the incident's documents with what the session holds now (or with `docs`,
    the caller's own reading of that same state).

    On PostgreSQL two transactions rebuilding one incident take turns (a
    transaction-scoped advisory lock), so the second one's delete sees the
    first one's rows and the documents are never doubled.
    """
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(LOCK_SPACE, incident_id)))
    session.execute(
        delete(SearchDocument)
        .where(SearchDocument.incident_id == incident_id)
        .execution_options(synchronize_session=False)
    )
    if docs is None:
        docs = documents(session, incident_id)
    if docs:
        session.execute(insert(SearchDocument), docs)
