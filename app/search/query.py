"""Full-text search over the knowledge base, ranked, with highlighted snippets.

Both count and rank at most the first WINDOW matches (see `search`). PostgreSQL: the
stored `tsv` column (generated from the body) `@@ websearch_to_tsquery(...)` and the
document's `facets` `@>` the filters, through one GIN index on both; `ts_rank` on the
stored vector, and `ts_headline` computed after the LIMIT (for the page's rows only).
SQLite: FTS5 (porter stemming, bm25 rank, `snippet()`), built for the query over the
documents the filters leave, in a TEMP table of the query's own connection (a table in
the main schema would show in schema comparisons and table wipes that know nothing of
FTS5 shadow tables). Matches are marked `<mark>...</mark>`; the rest of a snippet is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Text,
    and_,
    cast,
    column,
    func,
    insert,
    literal_column,
    select,
    table,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import array
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
# Matches counted and ranked per search, at most; more are reported as "at least WINDOW".
WINDOW = 1000


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
    total_relation: str = "eq"  # "gte": more match than `total`, which is then the window


def search(
    session: Session,
    q: str,
    filters: SearchFilter,
    limit: int,
    offset: int,
    window: int | None = None,
) -> Found:
    """The page of the best-ranked matches among the first `window` (WINDOW) found.

    Beyond the window the search neither counts nor ranks: `total` is then the window
    with `total_relation` "gte" (at least that many), as Elasticsearch reports a total
    past `track_total_hits`. Counting or ranking every match of a common word visits
    each of its documents (134,524 for "runbook" at 100,000 incidents: half a second),
    where a window of 1,000 costs the same whatever the word; past 1,000 matches a
    person narrows the words or the filters rather than reads on.
    """
    window = WINDOW if window is None else window
    if not WORD.search(q):
        return Found(total=0, results=[])
    if session.get_bind().dialect.name == "postgresql":
        return _postgresql(session, q, filters, limit, offset, window)
    return _sqlite(session, q, _where(filters), limit, offset, window)


def _counted(n: int, window: int, results: list[Hit]) -> Found:
    if n > window:
        return Found(total=window, results=results, total_relation="gte")
    return Found(total=n, results=results)


def _where(f: SearchFilter) -> ColumnElement[bool]:
    """SQLite: the filters on the incident (and its causes) each document belongs to."""
    conds: list[ColumnElement[bool]] = []
    started = func.coalesce(INCIDENTS.c.started_at, INCIDENTS.c.created_at)
    if f.service is not None:
        values = func.json_each(INCIDENTS.c.services).table_valued("value")
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


def _pg_where(f: SearchFilter) -> ColumnElement[bool]:
    """PostgreSQL: the same filters on the document's own copy of them (GIN and btree)."""
    conds: list[ColumnElement[bool]] = []
    wanted = [
        f"{name}:{value}"
        for name, value in (
            ("service", f.service),
            ("severity", f.severity),
            ("category", f.category),
        )
        if value is not None
    ]
    if wanted:
        conds.append(DOCS.c.facets.op("@>")(cast(array(wanted), ARRAY(Text))))
    if f.since is not None:
        conds.append(DOCS.c.started >= f.since)
    if f.until is not None:
        conds.append(DOCS.c.started < f.until)
    return and_(true(), *conds)


def _source() -> Any:
    return DOCS.join(INCIDENTS, INCIDENTS.c.id == DOCS.c.incident_id)


def _postgresql(
    session: Session, q: str, f: SearchFilter, limit: int, offset: int, window: int
) -> Found:
    """One statement: the window's candidates (ranked as they are read), their count, the
    page of the best of them, and the snippets (the costly part) for the page's rows only."""
    # A common word's plan cost calls for JIT, whose compilation takes longer than the
    # search; and a sequential scan "stops early" only if the matches lie early in the
    # table, where the GIN index reads at most the window whatever the word.
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("SET LOCAL enable_seqscan = off"))
    tsq = func.websearch_to_tsquery(literal_column("'english'::regconfig"), q)
    candidates = (
        select(DOCS.c.id, DOCS.c.incident_id, DOCS.c.kind, DOCS.c.body)
        .add_columns(
            func.ts_rank(DOCS.c.tsv, tsq).label("rank"),
            func.row_number().over().label("pos"),
        )
        .where(_pg_where(f), DOCS.c.tsv.op("@@")(tsq))
        .limit(window + 1)  # one more than the window: is the total exact?
        .cte("candidates")
    )
    page = (
        select(candidates)
        .where(candidates.c.pos <= window)
        .order_by(candidates.c.rank.desc(), candidates.c.id)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    counted = select(func.count().label("n")).select_from(candidates).subquery("counted")
    options = f"StartSel={SENTINEL[0]}, StopSel={SENTINEL[1]}, MaxWords=25, MinWords=8"
    snippet = func.ts_headline(literal_column("'english'::regconfig"), page.c.body, tsq, options)
    hits = page.join(INCIDENTS, INCIDENTS.c.id == page.c.incident_id)
    rows = session.execute(
        select(counted.c.n, INCIDENTS.c.key, page.c.kind, snippet.label("snippet"), page.c.rank)
        .select_from(counted.outerjoin(hits, true()))  # the count even when the page is empty
        .order_by(page.c.rank.desc(), page.c.id)
    ).all()
    results = [_hit(r[1:]) for r in rows if r[1] is not None]
    return _counted(int(rows[0][0]), window, results)


def _fts5_query(q: str) -> str:
    """Every word of the query, each quoted (so no FTS5 syntax can come from the user)."""
    return " ".join(f'"{w}"' for w in WORD.findall(q))


def _sqlite(
    session: Session, q: str, where: ColumnElement[bool], limit: int, offset: int, window: int
) -> Found:
    """The same window as PostgreSQL's: the first matches in the index's order (rowid)."""
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
        params = {"q": _fts5_query(q), "limit": limit, "offset": offset, "window": window}
        n = session.execute(
            text(f"SELECT count(*) FROM (SELECT 1 {match} ORDER BY rowid LIMIT :window + 1)"),
            params,
        ).scalar_one()
        rows = session.execute(
            text(
                "SELECT i.key, d.kind, snippet(search_hits, 0, :s, :e, '…', 16) AS snippet, "
                "-bm25(search_hits) AS rank FROM search_hits "
                "JOIN search_documents d ON d.id = search_hits.rowid "
                "JOIN incidents i ON i.id = d.incident_id "
                "WHERE search_hits MATCH :q AND search_hits.rowid <= "
                f"(SELECT max(rowid) FROM (SELECT rowid {match} ORDER BY rowid LIMIT :window)) "
                "ORDER BY bm25(search_hits), d.id LIMIT :limit OFFSET :offset"
            ),
            {**params, "s": SENTINEL[0], "e": SENTINEL[1]},
        )
        return _counted(int(n), window, [_hit(r) for r in rows])
    finally:
        session.execute(text("DROP TABLE IF EXISTS temp.search_hits"))


def marked(snippet: str) -> str:
    """The snippet as safe HTML: everything escaped, the matches in <mark>."""
    out = html.escape(snippet, quote=True)
    return out.replace(SENTINEL[0], MARK[0]).replace(SENTINEL[1], MARK[1])


def _hit(row: Any) -> Hit:
    return Hit(incident=row[0], kind=row[1], snippet=marked(row[2]), rank=round(float(row[3]), 6))
