"""Read models and filters for the schedule, escalations and notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .common import Input, Output, PageQuery


class ScheduleRunRead(Output):
    id: int
    job: str
    slot: datetime
    started_at: datetime
    finished_at: datetime | None
    outcome: str = Field(description="queued, running, ok, failed or lost")
    summary: str | None
    error: str | None


class ScheduledJobRead(Output):
    name: str
    every_seconds: int = Field(description="0: off")
    enabled: bool
    queue: str
    last_run: ScheduleRunRead | None
    last_failure: ScheduleRunRead | None


class ScheduleRead(Output):
    jobs: list[ScheduledJobRead]
    failures: list[ScheduleRunRead] = Field(description="the latest failed or lost runs")


class ScheduleQuery(Input):
    failures: int = Field(default=20, ge=0, le=500, description="how many failed runs to list")


class ChannelResult(Output):
    channel: str
    recipient: str
    status: str = Field(description="pending, sending, sent or dead")
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class EscalationRead(Output):
    id: int
    action: str
    incident: str
    team: str | None
    level: int = Field(description="0: the reminder before the due date")
    step: str
    rung: str
    to: str | None
    why: str
    at: datetime
    action_status: str
    channels: list[ChannelResult]


class EscalationQuery(PageQuery):
    team: str | None = Field(default=None, max_length=100)
    level: int | None = Field(default=None, ge=0, le=100)
    open: bool | None = Field(default=None, description="only steps whose action is still open")
    action: str | None = Field(default=None, max_length=32, description="action key")


class NotificationRead(Output):
    id: int
    kind: str
    channel: str
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    incident_key: str | None
    action_key: str | None
    created_at: datetime
    sent_at: datetime | None


class NotificationQuery(PageQuery):
    status: Literal["pending", "sending", "sent", "dead"] | None = None
