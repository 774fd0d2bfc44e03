"""API models for the knowledge base search."""

from __future__ import annotations

from typing import Annotated

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
    total: int
    results: list[SearchResult]
