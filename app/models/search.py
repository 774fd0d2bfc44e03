"""The knowledge base: one searchable text per incident part, rebuilt by the write path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Computed, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, deferred, mapped_column
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from .base import Base, UTCDateTime

# `service:<name>`, `severity:<SEV>` and `category:<cause category>` of the document's incident
FacetsType = JSON().with_variant(ARRAY(Text()), "postgresql")


class SearchVector(TypeDecorator[str]):
    """`tsvector` on PostgreSQL; a plain (always NULL) text column elsewhere."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(TSVECTOR())
        return dialect.type_descriptor(Text())


class body_vector(FunctionElement[str]):  # noqa: N801  (a SQL function's name)
    """The generated column's expression: the body's English tsvector on PostgreSQL."""

    inherit_cache = True
    type = SearchVector()


@compiles(body_vector)
def _no_vector(element: body_vector, compiler: Any, **kw: Any) -> str:
    return "NULL"  # SQLite searches through FTS5 (app/search/query.py)


@compiles(body_vector, "postgresql")
def _pg_vector(element: body_vector, compiler: Any, **kw: Any) -> str:
    return "to_tsvector('english'::regconfig, body)"


class SearchDocument(Base):
    """One text to search: the incident, a timeline event, a cause, an action or a lesson.

    PostgreSQL stores the body's tsvector in `tsv` (a generated column, so every
    writer, COPY included, keeps it current) and searches it through a GIN index;
    SQLite through FTS5 (see app/search/).

    `facets` and `started` copy the incident's filterable fields onto each document
    (the write path rebuilds every document of an incident on each write, so they
    follow it): PostgreSQL then filters inside its indexes (one GIN on `tsv` and
    `facets`, a btree on `started`) instead of joining every text match to its incident, which
    for a common word meant visiting tens of thousands of rows per search.
    """

    __tablename__ = "search_documents"
    __table_args__ = (
        # GIN on PostgreSQL; on SQLite a plain index of the NULL column (alembic compares
        # indexes whatever their ddl_if, so one index is declared for both backends)
        # one GIN over both: words and filters are intersected inside the index, which
        # skips through a common word's postings to the filter's few (two GINs ANDed as
        # bitmaps would each be read whole)
        Index("ix_search_documents_search", "tsv", "facets", postgresql_using="gin"),
        Index("ix_search_documents_started", "started"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    tsv: Mapped[str | None] = deferred(
        mapped_column(SearchVector(), Computed(body_vector(), persisted=True), nullable=True)
    )
    facets: Mapped[list[str] | None] = mapped_column(FacetsType, nullable=True)
    started: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
