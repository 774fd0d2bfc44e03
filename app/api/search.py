"""/api/v1/search: the knowledge base, full text across every incident."""

from __future__ import annotations

from app.runtime import current
from app.schemas.search import SearchQuery, SearchResults
from app.services import search as search_service

from .framework import ApiBlueprint

bp = ApiBlueprint("search", __name__, url_prefix="/api/v1/search")


@bp.op(
    "GET",
    "",
    summary="Search incidents, timelines, causes, actions and lessons (ranked, with snippets)",
    query=SearchQuery,
    response=SearchResults,
)
def search(query: SearchQuery) -> SearchResults:
    return search_service.search_incidents(current(), query)
