"""The knowledge base: one searchable text per incident part, rebuilt by the write path."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SearchDocument(Base):
    """One text to search: the incident, a timeline event, a cause, an action or a lesson.

    PostgreSQL searches it through a GIN index on `to_tsvector('english', body)`;
    SQLite through FTS5 (see app/search/).
    """

    __tablename__ = "search_documents"
    __table_args__ = (
        Index(
            "ix_search_documents_tsv",
            func.to_tsvector(text("'english'"), text("body")),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
