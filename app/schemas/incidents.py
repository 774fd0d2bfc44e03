"""API models for incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from app.domain.vocabulary import IncidentStatus, RegulatoryFlag, Severity

from .common import (
    Count,
    Input,
    LongText,
    Money,
    NotNull,
    Output,
    PageQuery,
    ShortText,
    Tag,
    Timestamp,
)

TIME_FIELDS = (
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
)


Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Impact(Input):
    customers: Count | None = None
    revenue: Money | None = None
    currency: Currency | None = Field(
        default=None, description="ISO 4217 code of revenue, e.g. USD or EUR"
    )
    sla_minutes: Count | None = None
    data: LongText | None = None


class IncidentFields(Input):
    summary: LongText = ""
    status: IncidentStatus = IncidentStatus.OPEN
    services: list[Tag] = Field(default_factory=list, max_length=50)
    domain: Tag | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    regulatory: list[RegulatoryFlag] = Field(default_factory=list)
    started_at: Timestamp | None = None
    detected_at: Timestamp | None = None
    acknowledged_at: Timestamp | None = None
    mitigated_at: Timestamp | None = None
    resolved_at: Timestamp | None = None
    closed_at: Timestamp | None = None
    impact: Impact = Field(default_factory=Impact)

    @model_validator(mode="after")
    def _times_in_order(self) -> IncidentFields:
        check_time_order({f: getattr(self, f) for f in TIME_FIELDS})
        return self


class IncidentCreate(IncidentFields):
    title: ShortText
    severity: Severity


class IncidentUpdate(Input):
    """Every field optional; only the fields sent are changed."""

    title: Annotated[ShortText | None, NotNull()] = None
    severity: Annotated[Severity | None, NotNull()] = None
    summary: Annotated[LongText | None, NotNull()] = None
    status: Annotated[IncidentStatus | None, NotNull()] = None
    services: Annotated[list[Tag] | None, NotNull()] = None
    domain: Tag | None = None
    tags: Annotated[list[Tag] | None, NotNull()] = None
    regulatory: Annotated[list[RegulatoryFlag] | None, NotNull()] = None
    started_at: Timestamp | None = None
    detected_at: Timestamp | None = None
    acknowledged_at: Timestamp | None = None
    mitigated_at: Timestamp | None = None
    resolved_at: Timestamp | None = None
    closed_at: Timestamp | None = None
    impact: Impact | None = None


class IncidentRead(Output):
    key: str
    title: str
    summary: str
    severity: Severity
    status: IncidentStatus
    services: list[str]
    domain: str | None
    tags: list[str]
    regulatory: list[RegulatoryFlag]
    started_at: datetime | None
    detected_at: datetime | None
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    impact: Impact
    source: str
    tracker_key: str | None
    postmortem_status: str | None
    open_actions: int
    created_at: datetime
    updated_at: datetime


class IncidentReopen(Input):
    reason: LongText = Field(min_length=10, description="why the incident is not over after all")
    status: Literal["open", "investigating", "mitigated"] = Field(
        default="open", description="the live state it goes back to"
    )


class IncidentQuery(PageQuery):
    status: IncidentStatus | None = None
    severity: Severity | None = None
    service: str | None = None
    domain: str | None = None
    tag: str | None = None
    since: Timestamp | None = Field(default=None, description="started at or after")
    until: Timestamp | None = Field(default=None, description="started before")


class TimeOrderError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_time_order(times: dict[str, datetime | None]) -> None:
    """An incident cannot be detected before it started or closed before it resolved."""
    previous: tuple[str, datetime] | None = None
    for field in TIME_FIELDS:
        value = times.get(field)
        if value is None:
            continue
        if previous and value < previous[1]:
            raise TimeOrderError(field, f"{field} is earlier than {previous[0]}")
        previous = (field, value)
