"""Knowledge base search: the use case behind /api/v1/search and `hindsight search`."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select

from app.domain.errors import field_error
from app.models import Incident
from app.runtime import Runtime
from app.schemas.search import SearchQuery, SearchResults
from app.search.index import reindex_incident
from app.search.query import SearchFilter, search


def search_incidents(runtime: Runtime, query: SearchQuery) -> SearchResults:
    """Ranked matches across incidents, timelines, causes, actions and lessons."""
    if query.since is not None and query.until is not None and query.since >= query.until:
        raise field_error(["query", "until"], "must be after since")
    filters = SearchFilter(
        service=query.service,
        category=query.category.value if query.category else None,
        severity=query.severity.value if query.severity else None,
        since=query.since,
        until=query.until,
    )
    with runtime.db.sessions() as session:
        found = search(session, query.q, filters, query.limit, query.offset)
        session.rollback()  # a read: nothing to keep (SQLite's TEMP table is dropped)
    return SearchResults.model_validate(asdict(found))


def reindex_all(runtime: Runtime) -> int:
    """Rebuild every incident's documents (after an upgrade or an import); returns the count."""
    with runtime.uow() as uow:
        ids = list(uow.session.scalars(select(Incident.id).order_by(Incident.id)))
        for incident_id in ids:
            reindex_incident(uow.session, incident_id)
        uow.commit()
    return len(ids)
