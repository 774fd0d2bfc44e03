"""The incident and the analysis recorded under it."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType, utcnow

if TYPE_CHECKING:
    from .action import Action


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_incidents_source_ext"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), default="open")
    services: Mapped[list[str]] = mapped_column(JSONType, default=list)
    domain: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    regulatory: Mapped[list[str]] = mapped_column(JSONType, default=list)
    started_at: Mapped[datetime | None]
    detected_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    mitigated_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    impact_customers: Mapped[int | None]
    impact_revenue: Mapped[float | None]
    impact_currency: Mapped[str | None] = mapped_column(String(3))
    impact_sla_minutes: Mapped[int | None]
    impact_data: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40), default="api")
    external_id: Mapped[str | None] = mapped_column(String(200))
    tracker_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    timeline: Mapped[list[TimelineEvent]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="TimelineEvent.at"
    )
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="Evidence.id"
    )
    participants: Mapped[list[Participant]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="Participant.id"
    )
    causes: Mapped[list[Cause]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="Cause.id"
    )
    actions: Mapped[list[Action]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="Action.id"
    )
    postmortem: Mapped[Postmortem | None] = relationship(
        back_populates="incident", cascade="all, delete-orphan", uselist=False
    )


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_incident_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(40), default="manual")
    actor_role: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    is_decision: Mapped[bool] = mapped_column(default=False)
    rationale: Mapped[str | None] = mapped_column(Text)
    alternatives: Mapped[list[str]] = mapped_column(JSONType, default=list)
    evidence_links: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Migration 0007: the compliance obligation a `notification` event satisfies.
    obligation: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="timeline")


class Evidence(Base):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    uri: Mapped[str] = mapped_column(String(2000))
    sha256: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    # Set only for an uploaded file, stored content-addressed by its sha256 (Hindsight computed
    # it); a link's sha256 is what the caller said about a resource Hindsight never saw.
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    media_type: Mapped[str | None] = mapped_column(String(127))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="evidence")


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(40))
    team: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))

    incident: Mapped[Incident] = relationship(back_populates="participants")


class Cause(Base):
    __tablename__ = "causes"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("causes.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    category: Mapped[str] = mapped_column(String(30))
    statement: Mapped[str] = mapped_column(Text)
    why: Mapped[str | None] = mapped_column(Text)
    evidence_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="causes")


class Postmortem(Base):
    __tablename__ = "postmortems"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(20), default="draft")
    facilitator: Mapped[str | None] = mapped_column(String(200))
    review_due: Mapped[date | None]
    review_held_at: Mapped[datetime | None]
    summary: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    went_well: Mapped[list[str]] = mapped_column(JSONType, default=list)
    went_wrong: Mapped[list[str]] = mapped_column(JSONType, default=list)
    lucky: Mapped[list[str]] = mapped_column(JSONType, default=list)
    lessons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    published_at: Mapped[datetime | None]
    tracker_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="postmortem")
