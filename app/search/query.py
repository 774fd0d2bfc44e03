"""Full-text search over the knowledge base, ranked, with highlighted snippets.

PostgreSQL: the stored `tsv` column (generated from the body) `@@ websearch_to_tsquery(...)`
through its GIN index, `ts_rank` on the stored vector, and `ts_headline` computed after
the LIMIT (for the page's rows only). SQLite: FTS5 (porter stemming, bm25 rank,
`snippet()`), built for the query over the documents the filters leave, in a
TEMP table of the query's own connection (a table in the main schema would
show in schema comparisons and table wipes that know nothing of FTS5 shadow
tables). Matches are marked `<mark>...</mark>`; the rest of a snippet is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    func,
    insert,
    literal_column,
    select,
    table,
    text,
    true,
)
from sqlalchemy.orm import Session

from app.models import Cause, Incident, SearchDocument

DOCS, INCIDENTS, CAUSES = SearchDocument.__table__, Incident.__table__, Cause.__table__
MARK = ("<mark>", "</mark>")
# The database marks matches with two private-use characters, not with the tags: the
# snippet is then HTML-escaped whole and only these become <mark>, so a field's own
# text can never reach a page as markup.
SENTINEL = ("\ue000", "\ue001")
WORD = re.compile(r"\w+", re.UNICODE)
HITS = table("search_hits", column("rowid"), column("body"), schema="temp")


@dataclass(frozen=True)
class SearchFilter:
    service: str | None = None
    category: str | None = None
    severity: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class Hit:
    incident: str
    kind: str
    snippet: str
    rank: float


@dataclass
class Found:
    total: int
    results: list[Hit]


def search(session: Session, q: str, filters: SearchFilter, limit: int, offset: int) -> Found:
    if not WORD.search(q):
        return Found(total=0, results=[])
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        source = DOCS if filters == SearchFilter() else _source()  # no filter: no join
        return _postgresql(session, q, source, _where(dialect, filters), limit, offset)
    return _sqlite(session, q, _where(dialect, filters), limit, offset)


def _where(dialect: str, f: SearchFilter) -> ColumnElement[bool]:
    conds: list[ColumnElement[bool]] = []
    started = func.coalesce(INCIDENTS.c.started_at, INCIDENTS.c.created_at)
    if f.service is not None:
        name = "jsonb_array_elements_text" if dialect == "postgresql" else "json_each"
        values = getattr(func, name)(INCIDENTS.c.services).table_valued("value")
        conds.append(select(1).select_from(values).where(values.c.value == f.service).exists())
    if f.category is not None:
        conds.append(
            select(1)
            .where(CAUSES.c.incident_id == INCIDENTS.c.id, CAUSES.c.category == f.category)
            .exists()
        )
    if f.severity is not None:
        conds.append(INCIDENTS.c.severity == f.severity)
    if f.since is not None:
        conds.append(started >= f.since)
    if f.until is not None:
        conds.append(started < f.until)
    return and_(true(), *conds)


def _source() -> Any:
    return DOCS.join(INCIDENTS, INCIDENTS.c.id == DOCS.c.incident_id)


def _postgresql(
    session: Session, q: str, source: Any, where: ColumnElement[bool], limit: int, offset: int
) -> Found:
    """Ranked on the stored vector; the snippet (the costly part) only for the page's rows."""
    # a common word matches many documents: the planner's cost then calls for JIT, whose
    # compilation takes longer than the count and the sort it would speed up
    session.execute(text("SET LOCAL jit = off"))
    tsq = func.websearch_to_tsquery(literal_column("'english'::regconfig"), q)
    match = where & DOCS.c.tsv.op("@@")(tsq)
    total = session.scalar(select(func.count()).select_from(source).where(match)) or 0
    rank = func.ts_rank(DOCS.c.tsv, tsq)
    page = (
        select(DOCS.c.incident_id, DOCS.c.kind, DOCS.c.body, DOCS.c.id, rank.label("rank"))
        .select_from(source)
        .where(match)
        .order_by(rank.desc(), DOCS.c.id)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    options = f"StartSel={SENTINEL[0]}, StopSel={SENTINEL[1]}, MaxWords=25, MinWords=8"
    snippet = func.ts_headline(literal_column("'english'::regconfig"), page.c.body, tsq, options)
    rows = session.execute(
        select(INCIDENTS.c.key, page.c.kind, snippet.label("snippet"), page.c.rank)
        .join_from(page, INCIDENTS, INCIDENTS.c.id == page.c.incident_id)
        .order_by(page.c.rank.desc(), page.c.id)
    )
    return Found(total=total, results=[_hit(r) for r in rows])


def _fts5_query(q: str) -> str:
    """Every word of the query, each quoted (so no FTS5 syntax can come from the user)."""
    return " ".join(f'"{w}"' for w in WORD.findall(q))


def _sqlite(session: Session, q: str, where: ColumnElement[bool], limit: int, offset: int) -> Found:
    session.execute(
        text(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_hits "
            "USING fts5(body, tokenize='porter unicode61')"
        )
    )
    try:
        ids = select(DOCS.c.id, DOCS.c.body).select_from(_source()).where(where)
        session.execute(insert(HITS).from_select(["rowid", "body"], ids))
        match = "FROM search_hits WHERE search_hits MATCH :q"
        params = {"q": _fts5_query(q), "limit": limit, "offset": offset}
        total = session.execute(text(f"SELECT count(*) {match}"), params).scalar() or 0
        rows = session.execute(
            text(
                "SELECT i.key, d.kind, snippet(search_hits, 0, :s, :e, '…', 16) AS snippet, "
                "-bm25(search_hits) AS rank FROM search_hits "
                "JOIN search_documents d ON d.id = search_hits.rowid "
                "JOIN incidents i ON i.id = d.incident_id "
                "WHERE search_hits MATCH :q ORDER BY bm25(search_hits), d.id "
                "LIMIT :limit OFFSET :offset"
            ),
            {**params, "s": SENTINEL[0], "e": SENTINEL[1]},
        )
        return Found(total=total, results=[_hit(r) for r in rows])
    finally:
        session.execute(text("DROP TABLE IF EXISTS temp.search_hits"))


def marked(snippet: str) -> str:
    """The snippet as safe HTML: everything escaped, the matches in <mark>."""
    out = html.escape(snippet, quote=True)
    return out.replace(SENTINEL[0], MARK[0]).replace(SENTINEL[1], MARK[1])


def _hit(row: Any) -> Hit:
    return Hit(incident=row[0], kind=row[1], snippet=marked(row[2]), rank=round(float(row[3]), 6))
