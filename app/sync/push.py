"""One round of outbound sync: turn due outbox rows into as few Jira calls as possible.

Per entity the push is idempotent:

* no key yet -> search by the entity's `hs-<key>` label first, adopt what is
  found, create only the rest (a crash or lost response between Jira creating
  the issue and us saving its key therefore never makes a duplicate); parents
  go first so children carry their links in the (bulk) create payload
  (`creates.py`);
* key known -> send only the fields whose value differs from what both sides
  last agreed on (`TrackerLink.fields`), then link and transition if needed
  (`updates.py`).

A transient failure (429, 5xx, no answer) ends the round at once: the rows
whose call failed count an attempt and back off, the others wait as long
without counting one (`retry.py` says how long). A 401 or 403 (a revoked
token, a lost permission) is the connection's problem, not a row's: it ends
the round like an outage, counts towards the breaker, and charges no row. Nothing is retried inside
the round; the next round searches again before creating. Permanent 4xx go
to the dead letter, transient failures only after the horizon (`retry.py`).
Each round tells the shared circuit breaker whether Jira answered
(`breaker.py`); time comes from the clock handed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import creates, outbox, updates
from .breaker import Breaker
from .connect import SyncContext
from .items import EntityRef, Item, RowRef, build_items, load_entity
from .mapping import ENTITY_TYPES
from .models import TrackerLink
from .retry import Backoff
from .state import Lease
from .tracker import RemoteIssue, TrackerError, TransitionOption

log = logging.getLogger(__name__)
T = TypeVar("T")


class Deferred(Exception):
    """A transient failure: the round stops; `items` were what the failed call was for."""

    def __init__(self, error: TrackerError, items: Sequence[Item]) -> None:
        super().__init__(str(error))
        self.error, self.items = error, list(items)


class LeaseLost(Exception):
    """Another process took the push lease (ours expired): stop before calling Jira."""


@dataclass
class DrainReport:
    created: int = 0
    adopted: int = 0
    updated: int = 0
    dead: int = 0
    deferred: int = 0
    held: int = 0  # rows kept back because the breaker was open
    rounds: int = 0
    skipped: bool = False
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.skipped:
            return "another process is pushing; nothing done here"
        return (
            f"created {self.created}, adopted {self.adopted}, updated {self.updated}, "
            f"deferred {self.deferred}, dead letter {self.dead}"
            + (f", held {self.held} (tracker unreachable)" if self.held else "")
        )


class Pusher:
    """One round: build items from rows (plus their parents), create, update, settle rows."""

    def __init__(
        self,
        ctx: SyncContext,
        lease: Lease,
        report: DrainReport,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        probe: bool = False,
    ) -> None:
        self.ctx, self.lease, self.report = ctx, lease, report
        self.db, self.clock, self.probe = ctx.db, clock, probe
        self.backoff = Backoff.from_settings(ctx.settings, clock)
        self.breaker = Breaker.from_settings(ctx.settings, clock)
        self.create_settle = ctx.settings.sync_create_settle_seconds
        self.answered = False  # the tracker answered a call in this round (even a 4xx)
        self.down: TrackerError | None = None  # the round ended with the tracker down
        self.items: dict[EntityRef, Item] = {}
        self.failed: set[EntityRef] = set()  # items whose call failed transiently
        self.delay = 0.0  # back-off for the rows of a round that ended early
        self.cut_short = False  # a transient failure ended the round before all was tried
        # rows that wait without counting an attempt: (row ids, due again at, note), written
        # in one statement when the round settles
        self._waits: list[tuple[list[int], datetime, str]] = []
        # (issue type, status id or "initial") -> what the workflow offers from there
        self.offered: dict[tuple[str, str], list[TransitionOption]] = {}

    def push(self, rows: list[RowRef]) -> None:
        with self.db.sessions() as session, session.begin():
            self.items = build_items(session, self.ctx, rows)
        try:
            for entity_type in ENTITY_TYPES:  # parents first, so children link in the create
                phase = [
                    i
                    for i in self.items.values()
                    if i.entity_type == entity_type and i.outcome is None
                ]
                creates.create_missing(self, [i for i in phase if i.issue_key is None])
                for item in phase:
                    if item.outcome is not None:
                        continue
                    if item.issue_key is None:
                        item.outcome = "waiting"
                    else:
                        updates.update(self, item)
        except Deferred as d:
            self._defer_rest(d)
        self._finish()

    # .. what the phases share ..................................................................
    def hold_lease(self) -> None:
        """Before every request to the tracker: once another process holds the lease, it
        may be searching for the very issues we would create."""
        if not self.lease.renew():
            raise LeaseLost()

    def call(self, fn: Callable[[], T], items: Sequence[Item]) -> T:
        """One tracker call on behalf of `items`; a transient failure ends the round."""
        self.hold_lease()
        try:
            result = fn()
        except TrackerError as exc:
            outage = exc.tracker_down or exc.refuses_credentials
            if outage:
                self.down = exc
            else:
                self.answered = True
            if not (exc.transient or outage):
                raise
            log.info("tracker busy or refusing us (%s); ending this round", exc)
            raise Deferred(exc, items) from exc
        self.answered = True
        return result

    def parent_key(self, item: Item) -> str | None:
        if item.parent is None:
            return None
        parent = self.items.get(item.parent)
        if parent is not None:
            return parent.issue_key
        with self.db.sessions() as session:  # a parent whose build was skipped (deleted)
            return session.scalar(
                select(TrackerLink.issue_key).where(
                    TrackerLink.entity_type == item.parent[0],
                    TrackerLink.entity_id == item.parent[1],
                )
            )

    def as_subtask(self, item: Item) -> bool:
        return item.entity_type == "action" and self.ctx.mapping.actions_as_subtasks

    def save_key(self, item: Item, issue: RemoteIssue, agreed: dict[str, Any]) -> None:
        item.issue_key, item.agreed = issue.key, agreed
        with self.db.sessions() as session, session.begin():
            link = session.get(TrackerLink, item.link_id)
            assert link is not None
            link.issue_key, link.issue_id = issue.key, issue.id
            link.create_unconfirmed_at = None
            link.fields = {**(link.fields or {}), **agreed}
            entity = load_entity(session, item.entity_type, item.entity_id)
            if entity is not None:
                entity.tracker_key = issue.key

    def unconfirmed(self, items: Sequence[Item]) -> None:
        """Creates sent for `items` whose outcome we never heard: until the settle window
        has passed, a search that misses them must not lead to a second create."""
        now = self.clock()
        with self.db.sessions() as session, session.begin():
            for item in items:
                item.create_unconfirmed_at = now
                link = session.get(TrackerLink, item.link_id)
                if link is not None:
                    link.create_unconfirmed_at = now

    def agree(self, item: Item, values: dict[str, Any]) -> None:
        item.agreed.update(values)
        with self.db.sessions() as session, session.begin():
            link = session.get(TrackerLink, item.link_id)
            assert link is not None
            link.fields = {**(link.fields or {}), **values}

    def dead(self, item: Item, error: str) -> None:
        item.outcome, item.error = "dead", error
        self.report.errors.append(f"{item.entity_key}: {error}")

    # .. outcomes ...............................................................................
    def _defer_rest(self, d: Deferred) -> None:
        self.cut_short = True
        for item in self.items.values():
            if item.outcome is None:
                item.outcome, item.error = "deferred", str(d.error)
        if d.error.refuses_credentials:  # the connection's problem: no row is charged
            self.failed = set()
            self.delay = self.backoff.delay(1, d.error)
            return
        self.failed = {i.ref for i in d.items}
        attempt = max((i.attempts for i in d.items), default=0) + 1
        self.delay = self.backoff.delay(attempt, d.error)

    def _finish(self) -> None:
        delay = max(self.delay, 1.0)  # at least a second: a zero back-off would spin the drain
        with self.db.sessions() as session, session.begin():
            for item in self.items.values():
                # The clock is read per item, as the rows are written: settling a large round
                # takes a while, so the rows come due spread over that while and the next
                # rounds are smaller (rebuilding every item of a stalled round each time was
                # what made the storm test crawl).
                if item.row_ids:
                    self._settle_rows(session, item, delay, self.clock())
            outbox.postpone_many(session, self._waits)
            if self.answered:
                self.breaker.succeeded(session)
            if self.down is not None:
                state = self.breaker.failed(session, self.down)
                if state.state == "open":
                    log.warning("tracker unreachable (%s); breaker open", self.down)
            elif self.probe and not self.answered:
                self.breaker.probe_unused(session)

    def _settle_rows(self, session: Session, item: Item, delay: float, now: datetime) -> None:
        if item.outcome == "done":
            outbox.mark(session, item.row_ids, outbox.DONE)
            return
        if item.outcome == "dead":
            outbox.bury(
                session, item.entity_type, item.entity_id, item.row_ids, item.error or "refused"
            )
            self.report.dead += 1
            return
        self.report.deferred += 1
        if item.outcome == "settling" and item.wait_until is not None:
            wait = max(1.0, (item.wait_until - now).total_seconds())
            self._wait(item, now + timedelta(seconds=wait), "settling")
        elif item.outcome == "waiting":
            self.report.dead += outbox.defer(
                session,
                item.row_ids,
                delay,
                "waiting for the parent issue to be created",
                self.backoff,
                now,
            )
        elif item.ref in self.failed:
            self.report.dead += outbox.defer(
                session, item.row_ids, delay, item.error or "deferred", self.backoff, now
            )
        else:
            self._wait(item, now + timedelta(seconds=delay), "deferred")

    def _wait(self, item: Item, until: datetime, default_note: str) -> None:
        self._waits.append((item.row_ids, until, item.error or default_note))
