"""API models for the knowledge base search."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.domain.vocabulary import CauseCategory, Severity

from .common import Output, PageQuery, Tag, Timestamp

SearchText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class SearchQuery(PageQuery):
    q: SearchText = Field(description="words to find (stemmed: 'failing' finds 'failed')")
    service: Tag | None = None
    category: CauseCategory | None = Field(default=None, description="incidents with such a cause")
    severity: Severity | None = None
    since: Timestamp | None = Field(default=None, description="incidents started at or after")
    until: Timestamp | None = Field(
        default=None, description="incidents started before (must be after since)"
    )
    limit: int = Field(default=20, ge=1, le=100)


class SearchResult(Output):
    incident: str
    kind: str = Field(description="incident, timeline, cause, action or lesson")
    snippet: str = Field(description="the matching text, hits marked <mark>...</mark>")
    rank: float


class SearchResults(Output):
    """A page of the best-ranked matches among the first 1,000 found (the window).

    Up to 1,000 matches `total` is exact and every match is ranked. Beyond, the search
    stops at the window, as Elasticsearch does past `track_total_hits`: `total` is 1,000
    with `total_relation` "gte" (at least that many), and the results are the best of
    the 1,000 it read, pages ending there; narrow the words or the filters to rank them all.
    """

    total: int = Field(description="matches; a lower bound when total_relation is gte")
    total_relation: Literal["eq", "gte"] = Field(
        default="eq",
        description="eq: total is exact; gte: at least total match (the first 1,000 are ranked)",
    )
    results: list[SearchResult]
