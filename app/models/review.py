"""The postmortem review as prepared when an incident closes: one row per postmortem.

Its own table (not columns on `postmortems`) because it is written once, by the close,
and its unique `postmortem_id` is what makes a re-delivered close do nothing new.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, utcnow


class PostmortemReview(Base):
    __tablename__ = "postmortem_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(
        ForeignKey("postmortems.id", ondelete="CASCADE"), unique=True
    )
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    facilitator: Mapped[str | None] = mapped_column(String(200))
    due: Mapped[date]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    invitation_uid: Mapped[str] = mapped_column(String(200))
    invitation: Mapped[str] = mapped_column(Text)
    announced_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
