"""Improvement actions: the part of a postmortem that has to get done."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:
    from .incident import Cause, Incident

action_causes = Table(
    "action_causes",
    Base.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("cause_id", ForeignKey("causes.id", ondelete="CASCADE"), primary_key=True),
)


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (
        Index("ix_actions_status_due", "status", "due_date"),
        # The follow-through sweep reads open actions whose next step is due, by status.
        Index("ix_actions_status_follow_up", "status", "follow_up_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(32), unique=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(100))
    due_date: Mapped[date | None]
    priority: Mapped[str | None] = mapped_column(String(4))
    score: Mapped[float | None]
    effort: Mapped[str | None] = mapped_column(String(2))
    success_criteria: Mapped[str | None] = mapped_column(Text)
    validation_method: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    status_reason: Mapped[str | None] = mapped_column(Text)
    is_compliance: Mapped[bool] = mapped_column(default=False)
    compliance_rule: Mapped[str | None] = mapped_column(String(80))
    escalation_level: Mapped[int] = mapped_column(default=0)
    # When the follow-through sweep should next look at this action (migration 0009);
    # None: not yet worked out. A new due date clears it, so the ladder is measured again.
    follow_up_at: Mapped[datetime | None]
    tracker_key: Mapped[str | None] = mapped_column(String(64))
    tracker_updated_at: Mapped[datetime | None]
    tracker_deleted: Mapped[bool] = mapped_column(default=False)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="actions")
    causes: Mapped[list[Cause]] = relationship(secondary=action_causes, order_by="Cause.id")
    history: Mapped[list[ActionStatusChange]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ActionStatusChange.id"
    )
    # selectin: evaluation reads every action's latest check; one IN query, not one per action
    validations: Mapped[list[ActionValidation]] = relationship(
        back_populates="action",
        cascade="all, delete-orphan",
        order_by="ActionValidation.id",
        lazy="selectin",
    )


class ActionStatusChange(Base):
    """Status history, kept for the completion report and compliance exports."""

    __tablename__ = "action_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20), default="api")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    action: Mapped[Action] = relationship(back_populates="history")


class ActionValidation(Base):
    """Evidence that an action worked (migration 0007): what was checked, the result, by whom.

    A row of its own, never overwritten, so an auditor sees every check, the
    failed ones too; `verified` on the action is only ever the consequence of
    a passing row.
    """

    __tablename__ = "action_validations"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    checked: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(10))
    checked_at: Mapped[datetime]
    checked_by: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[str] = mapped_column(String(2000))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    action: Mapped[Action] = relationship(back_populates="validations")
