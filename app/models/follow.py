"""Follow-through tables (migration 0009): scheduled runs, escalation steps, notifications.

Each is a row because each is a promise that must survive a crash: a claimed
schedule slot says "this interval's run belongs to one process", an
escalation step says "this rung was taken, never again", and a notification
row says "this message still has to reach its channel".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, utcnow


class ScheduleRun(Base):
    """One run of one scheduled job for one interval; the unique slot is the lock."""

    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("job", "slot", name="uq_schedule_runs_job_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    slot: Mapped[datetime]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(20), default="running")
    summary: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)


class Escalation(Base):
    """One step of an action's follow-through ladder: reminder, a level, or a repeat.

    `step` names the rung and the due date it was measured against, so the
    same rung is taken once per commitment: a new due date starts a new ladder.
    """

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("action_id", "step", name="uq_escalations_action_step"),
        Index("ix_escalations_team_level", "team", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    action_key: Mapped[str] = mapped_column(String(32))
    incident_key: Mapped[str] = mapped_column(String(32))
    team: Mapped[str | None] = mapped_column(String(100))
    step: Mapped[str] = mapped_column(String(80))
    level: Mapped[int]
    recipient: Mapped[str | None] = mapped_column(String(200))
    rung: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    channels: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """The notification outbox: one row per channel and recipient, delivered by a job."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    dedupe_key: Mapped[str] = mapped_column(String(240), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(String(100))
    incident_key: Mapped[str | None] = mapped_column(String(32))
    action_key: Mapped[str | None] = mapped_column(String(32))
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
