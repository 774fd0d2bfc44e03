"""What a channel is given, and how it says it failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str  # e.g. "text/calendar"
    content: bytes


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str | None = None
    link: str | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    channel_name: str | None = None  # a chat channel (e.g. "#sre"), where the hook honours it


class DeliveryError(Exception):
    """`transient`: the same message may go through later (timeouts, 5xx, 429, 4xx SMTP)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Channel(Protocol):
    def send(self, recipient: str, message: Message) -> str:
        """Deliver or raise `DeliveryError`; returns a short receipt for the record."""
        ...
