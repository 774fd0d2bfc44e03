"""Transactional outbox: the change and its 'send to tracker' row commit together."""

from __future__ import annotations

from app.db import JobRequest, UnitOfWork
from app.models import OutboxItem
from app.settings import Settings


def record_change(
    uow: UnitOfWork, settings: Settings, entity_type: str, entity_id: int, entity_key: str
) -> None:
    """With no tracker configured, actions live in Hindsight alone: nothing to send."""
    if not settings.jira_enabled:
        return
    uow.session.add(OutboxItem(entity_type=entity_type, entity_id=entity_id, entity_key=entity_key))
    uow.after_commit(
        JobRequest("app.jobs.sync_entity", (entity_type, entity_id), f"sync-{entity_type}-{entity_id}", "sync")
    )
