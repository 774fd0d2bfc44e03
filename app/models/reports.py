"""Computed reports kept with the time they were computed, so a reader need not wait."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, UTCDateTime


class ReportCache(Base):
    """One report (name + the hash of its parameters) as last computed.

    `body` is the report's JSON text exactly as computed (Text, not JSONB, so the
    answer's field order is the model's); `refresh_requested_at` is set while a
    recompute job is asked for and cleared when it stores a new body; `data_version` is
    the audit chain's last sequence number when the computation began (every write is
    audited, so a higher one means the data changed since).
    """

    __tablename__ = "report_cache"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    params_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    body: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    data_version: Mapped[int] = mapped_column(default=0)  # the audit chain's last seq it read
    refresh_requested_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(timezone=True), nullable=True
    )
