"""Stored webhook deliveries as the API shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.domain.vocabulary import DeliveryStatus

from .common import Output, PageQuery


class DeliveryQuery(PageQuery):
    status: DeliveryStatus | None = None
    source: str | None = Field(default=None, max_length=30)


class DeliveryRead(Output):
    id: int
    source: str
    delivery_id: str
    status: DeliveryStatus
    error: str | None
    attempts: int
    next_attempt_at: datetime | None
    received_at: datetime
    processed_at: datetime | None
