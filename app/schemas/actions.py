"""API models for improvement actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.domain.vocabulary import ActionStatus, ActionType, Effort, Priority

from .common import (
    Day,
    Id,
    Input,
    LongText,
    Name,
    NotNull,
    Output,
    PageQuery,
    ShortText,
    Tag,
    Timestamp,
)

ComplianceRule = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9_]+\.[a-z0-9_.]+$", max_length=80)
]


class ActionFields(Input):
    """What an action is, shared by the API's create model and the import document."""

    title: ShortText
    type: ActionType
    description: LongText = ""
    owner: Name | None = None
    team: Tag | None = None
    due_date: Day | None = None
    priority: Priority | None = None
    effort: Effort | None = None
    success_criteria: LongText | None = None
    validation_method: LongText | None = None
    compliance_rule: ComplianceRule | None = Field(
        default=None, description="the policy obligation this action fulfils, e.g. hipaa.hhs_notice"
    )


class ActionCreate(ActionFields):
    cause_ids: list[Id] = Field(default_factory=list, description="causes this action addresses")


class ActionUpdate(Input):
    title: Annotated[ShortText | None, NotNull()] = None
    type: Annotated[ActionType | None, NotNull()] = None
    description: Annotated[LongText | None, NotNull()] = None
    owner: Name | None = None
    team: Tag | None = None
    due_date: Day | None = None
    priority: Priority | None = None
    effort: Effort | None = None
    success_criteria: LongText | None = None
    validation_method: LongText | None = None
    cause_ids: Annotated[list[Id] | None, NotNull()] = None
    compliance_rule: ComplianceRule | None = None
    status: Annotated[ActionStatus | None, NotNull()] = None
    status_reason: LongText | None = None


class StatusChangeRead(Output):
    from_status: ActionStatus | None
    to_status: ActionStatus
    reason: str | None
    actor: str
    source: str
    at: datetime


class ValidationCreate(Input):
    """A check of whether an action worked: the evidence `verified` rests on."""

    checked: LongText = Field(min_length=1, description="what was checked, and how")
    result: Literal["pass", "fail"]
    evidence: str = Field(
        min_length=1, max_length=2000, description="a link to the evidence (run, dashboard, log)"
    )
    checked_at: Timestamp | None = Field(default=None, description="when; default: now")
    note: LongText | None = None


class ValidationRead(Output):
    id: int
    checked: str
    result: Literal["pass", "fail"]
    evidence: str
    checked_at: datetime
    checked_by: str
    note: str | None
    created_at: datetime


class ActionRead(Output):
    key: str
    incident_key: str
    title: str
    description: str
    type: ActionType
    owner: str | None
    team: str | None
    due_date: Day | None
    priority: Priority | None
    score: float | None
    effort: Effort | None
    success_criteria: str | None
    validation_method: str | None
    status: ActionStatus
    status_reason: str | None
    cause_ids: list[int]
    is_compliance: bool
    compliance_rule: str | None
    escalation_level: int
    tracker_key: str | None
    tracker_deleted: bool
    completed_at: datetime | None
    verified_at: datetime | None
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime = Field(
        description="the last change by anyone: deadlines.stale counts idle days from it"
    )
    history: list[StatusChangeRead]
    validations: list[ValidationRead] = Field(
        default_factory=list, description="every validation record, oldest first"
    )


class ActionQuery(PageQuery):
    status: ActionStatus | None = None
    owner: str | None = None
    team: str | None = None
    priority: Priority | None = None
    incident: str | None = Field(default=None, description="incident key")
    overdue: bool | None = None
