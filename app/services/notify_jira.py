"""The Jira-comment channel: a reminder or escalation as a comment on the action's issue.

It goes through the Tracker port (`add_comment`), so it uses the same client,
credentials and timeouts as sync. An action not mirrored yet is a transient
failure: its create is usually still in the sync outbox, and the comment
follows once the issue exists.
"""

from __future__ import annotations

from sqlalchemy import select

from app.models import Action
from app.notify.message import DeliveryError, Message
from app.runtime import Runtime
from app.sync.connect import SyncContext
from app.sync.models import TrackerLink
from app.sync.tracker import TrackerError

from .tracker_sync import open_context


class JiraComments:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._ctx: SyncContext | None = None

    def _issue_key(self, action_key: str) -> str:
        with self.runtime.db.sessions() as session:
            row = session.execute(
                select(Action.id, Action.tracker_key).where(Action.key == action_key)
            ).first()
            if row is None:
                raise DeliveryError(f"{action_key} no longer exists", transient=False)
            linked = session.scalar(
                select(TrackerLink.issue_key).where(
                    TrackerLink.entity_type == "action", TrackerLink.entity_id == row.id
                )
            )
        key = linked or row.tracker_key
        if not key:
            raise DeliveryError(f"{action_key} is not mirrored in Jira yet", transient=True)
        return key

    def send(self, action_key: str, message: Message) -> str:
        issue = self._issue_key(action_key)
        body = f"{message.subject}\n\n{message.text}"
        if message.link:
            body += f"\n\n{message.link}"
        try:
            if self._ctx is None:
                self._ctx = open_context(self.runtime)
            self._ctx.tracker.add_comment(issue, body)
        except TrackerError as exc:
            raise DeliveryError(str(exc), transient=exc.transient) from exc
        return f"comment on {issue}"

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()
