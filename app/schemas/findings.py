"""API models for rule findings and waivers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from app.domain.vocabulary import FindingSeverity

from .common import Input, LongText, Output, Timestamp


class FindingRead(Output):
    id: int
    rule: str
    severity: FindingSeverity
    entity_type: str
    entity_key: str
    message: str
    suggestion: str
    details: dict[str, Any]
    fingerprint: str
    waived: bool = False
    waiver_reason: str | None = None
    waived_by: str | None = None
    waiver_expires_at: datetime | None = None
    waiver_lapsed: bool = Field(
        default=False, description="a waiver was given but its expiry passed: the finding counts"
    )
    created_at: datetime


class WaiverCreate(Input):
    reason: LongText = Field(min_length=10, description="why this finding does not apply")
    expires_at: Timestamp | None = Field(
        default=None, description="the waiver lapses then and the finding counts again"
    )
