"""`hindsight search WORDS...`: the knowledge base from the command line."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import click

from app import runtime
from app.domain.vocabulary import CauseCategory, Severity
from app.schemas.search import SearchQuery
from app.services import search as search_service
from app.settings import Settings

from .common import with_settings

DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command()
@click.argument("words", nargs=-1, required=False)
@click.option("--service")
@click.option("--category", type=click.Choice([c.value for c in CauseCategory]))
@click.option("--severity", type=click.Choice([s.value for s in Severity]))
@click.option("--since", type=DATE, help="incidents started on or after (YYYY-MM-DD, UTC)")
@click.option("--until", type=DATE, help="incidents started before (YYYY-MM-DD, UTC)")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--reindex", is_flag=True, help="rebuild the knowledge base first")
@with_settings
def search(
    settings: Settings,
    words: tuple[str, ...],
    service: str | None,
    category: str | None,
    severity: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    reindex: bool,
) -> int:
    """Ranked matches across incidents, timelines, causes, actions and lessons."""
    rt = runtime.build(settings)
    if reindex:
        click.echo(f"reindexed {search_service.reindex_all(rt)} incidents")
    if not words:
        return 0
    query = SearchQuery.model_validate(
        {
            "q": " ".join(words),
            "service": service,
            "category": category,
            "severity": severity,
            "since": since.replace(tzinfo=UTC) if since else None,
            "until": until.replace(tzinfo=UTC) if until else None,
            "limit": limit,
        }
    )
    found = search_service.search_incidents(rt, query)
    for hit in found.results:
        text = html.unescape(hit.snippet)  # a terminal shows text: the entities read as typed
        click.echo(f"{hit.incident:<10} {hit.kind:<9} {hit.rank:>9.4f}  {text}")
    more = "+" if found.total_relation == "gte" else ""  # at least that many
    click.echo(f"{len(found.results)} of {found.total}{more} matches")
    return 0
