"""Tables only the sync package reads and writes (migration 0002).

They live here rather than in `app.models` so the rest of the code cannot come
to depend on sync bookkeeping; `app.models.Base` still owns their metadata.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, utcnow


class TrackerLink(Base):
    """What Hindsight and the tracker last agreed on, per mirrored entity.

    `fields` holds the tracker-side value of every synced field as of the last
    push or applied inbound change. It is the base of a three-way comparison:
    Hindsight differs from it -> push; the tracker differs from it -> apply.
    An inbound change updates it, so the next push finds nothing to send back
    (that is what stops echo loops). `versions` holds, per field, the
    `[timestamp_ms, changelog_id]` of the newest tracker change applied, so an
    older delivery arriving late cannot overwrite a newer value.
    """

    __tablename__ = "tracker_links"
    __table_args__ = (UniqueConstraint("entity_type", "entity_id", name="uq_tracker_links_entity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int]
    entity_key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100), index=True)
    issue_key: Mapped[str | None] = mapped_column(String(64), index=True)
    issue_id: Mapped[str | None] = mapped_column(String(32), index=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    versions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # A create sent for this entity whose outcome we never heard (a 5xx, a timeout), when
    # we gave up on it (migration 0014). Until the settle window after it has passed, a
    # label search that finds nothing means "not indexed yet", not "not created".
    create_unconfirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SyncLease(Base):
    """A named, expiring lock that works the same on SQLite and PostgreSQL.

    Only the holder pushes the outbox, so two workers never search-then-create
    the same issue at once; a SIGKILLed holder loses it when it expires.
    """

    __tablename__ = "sync_leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    owner: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]
