"""One round of outbound sync: turn due outbox rows into as few Jira calls as possible.

Per entity the push is idempotent:

* no key yet -> search by the entity's `hs-<key>` label first, adopt what is
  found, create only the rest (a crash or lost response between Jira creating
  the issue and us saving its key therefore never makes a duplicate); parents
  go first so children carry their links in the (bulk) create payload;
* key known -> send only the fields whose value differs from what both sides
  last agreed on (`TrackerLink.fields`), then link and transition if needed.

Transient failures are retried in-process while the wait is short and
otherwise deferred on the rows; permanent 4xx go to the dead letter.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.models import Action, Incident, Postmortem

from . import outbox
from .connect import SyncContext
from .mapping import ENTITY_TYPES, EntityType, desired_fields
from .models import TrackerLink
from .retry import Backoff
from .state import Lease
from .tracker import (
    IssueDraft,
    Link,
    RemoteIssue,
    StatusTarget,
    TrackerError,
    TransitionOption,
    UserRef,
    choose_transition,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

CREATE_CHUNK = 50  # Jira's bulk-create limit
INLINE_TRIES = 8


def load_entity(
    session: Session, entity_type: str, entity_id: int
) -> Incident | Postmortem | Action | None:
    if entity_type == "incident":
        return session.get(Incident, entity_id)
    if entity_type == "postmortem":
        return session.get(Postmortem, entity_id)
    if entity_type == "action":
        return session.get(Action, entity_id)
    return None


class Deferred(Exception):
    """The tracker is unhealthy for longer than we want to sleep in this job."""

    def __init__(self, delay: float, error: TrackerError) -> None:
        super().__init__(str(error))
        self.delay, self.error = delay, error


class LeaseLost(Exception):
    """Another process took the push lease (ours expired): stop before calling Jira."""


@dataclass
class Item:
    """One entity to push, with everything needed to do it without the ORM session."""

    entity_type: EntityType
    entity_id: int
    entity_key: str
    label: str
    issue_type: str
    desired: dict[str, Any]
    agreed: dict[str, Any]
    issue_key: str | None
    link_id: int
    parent: tuple[EntityType, int] | None
    row_ids: list[int] = field(default_factory=list)
    outcome: str | None = None  # done | dead | deferred (None: not finished)
    error: str | None = None
    fresh: bool = False  # created in this drain: still in its workflow's initial status


@dataclass
class DrainReport:
    created: int = 0
    adopted: int = 0
    updated: int = 0
    dead: int = 0
    deferred: int = 0
    rounds: int = 0
    skipped: bool = False
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.skipped:
            return "another process is pushing; nothing done here"
        return (f"created {self.created}, adopted {self.adopted}, updated {self.updated}, "
                f"deferred {self.deferred}, dead letter {self.dead}")


class Pusher:
    """One round: build items from rows (plus their parents), create, update, settle rows."""

    def __init__(self, ctx: SyncContext, lease: Lease, report: DrainReport) -> None:
        self.ctx, self.lease, self.report = ctx, lease, report
        self.db = ctx.runtime.db
        s = ctx.runtime.settings
        self.backoff = Backoff(s.sync_backoff_base_seconds, s.sync_backoff_cap_seconds,
                               s.sync_max_attempts)
        self.inline_max = s.sync_inline_retry_seconds
        self.create_settle = s.sync_create_settle_seconds
        self.items: dict[tuple[str, int], Item] = {}
        self.delay = 0.0  # back-off for rows deferred by a Deferred
        self.initial_transitions: dict[str, list[TransitionOption]] = {}

    # .. building ...............................................................................
    def push(self, refs: list[tuple[str, int, int]]) -> None:
        with self.db.sessions() as session, session.begin():
            self._build(session, refs)
        try:
            for entity_type in ENTITY_TYPES:  # parents first, so children link in the create
                phase = [i for i in self.items.values()
                         if i.entity_type == entity_type and i.outcome is None]
                self._create_missing([i for i in phase if i.issue_key is None])
                for item in phase:
                    if item.issue_key is not None and item.outcome is None:
                        self._update(item)
                    elif item.outcome is None and item.issue_key is None:
                        item.outcome = "waiting"
        except Deferred as d:
            self._defer_rest(d)
        self._finish()

    def _build(self, session: Session, refs: list[tuple[str, int, int]]) -> None:
        rows_by_entity: dict[tuple[str, int], list[int]] = {}
        for entity_type, entity_id, row_id in refs:
            rows_by_entity.setdefault((entity_type, entity_id), []).append(row_id)
        wanted = list(rows_by_entity)
        seen: set[tuple[str, int]] = set()
        while wanted:
            ref = wanted.pop()
            if ref in seen:
                continue
            seen.add(ref)
            item, parents = self._item(session, ref, rows_by_entity.get(ref, []))
            if item is not None:
                self.items[ref] = item
            wanted.extend(parents)

    def _item(
        self, session: Session, ref: tuple[str, int], row_ids: list[int]
    ) -> tuple[Item | None, list[tuple[str, int]]]:
        entity_type, entity_id = ref
        entity = load_entity(session, entity_type, entity_id)
        if entity is None or entity_type not in ENTITY_TYPES:
            outbox.mark(session, row_ids, outbox.DONE, "entity no longer exists")
            return None, []
        et: EntityType = entity_type  # type: ignore[assignment]
        if isinstance(entity, Action) and entity.tracker_deleted:
            outbox.mark(session, row_ids, outbox.DONE, "the Jira issue was deleted; not re-created")
            return None, []
        mapping = self.ctx.mapping
        key = entity.incident.key if isinstance(entity, Postmortem) else entity.key
        label = mapping.entity_label(et, key or f"{entity_type}-{entity_id}")
        link = session.scalar(select(TrackerLink).where(
            TrackerLink.entity_type == entity_type, TrackerLink.entity_id == entity_id))
        if link is None:
            link = TrackerLink(entity_type=entity_type, entity_id=entity_id,
                               entity_key=key or "", label=label, fields={}, versions={})
            session.add(link)
            session.flush()
        parents: list[tuple[str, int]] = []
        parent: tuple[EntityType, int] | None = None
        if isinstance(entity, Action):
            pm = entity.incident.postmortem
            parent = ("postmortem", pm.id) if pm else ("incident", entity.incident_id)
            parents = [("incident", entity.incident_id)] + ([("postmortem", pm.id)] if pm else [])
        elif isinstance(entity, Postmortem):
            parent = ("incident", entity.incident_id)
            parents = [("incident", entity.incident_id)]
        desired = desired_fields(mapping, self.ctx.catalog, self.ctx.flavour, et, entity)
        item = Item(et, entity_id, key or "", label, mapping.issue_types[et], desired,
                    dict(link.fields or {}), link.issue_key, link.id, parent, row_ids)
        return item, parents

    def _parent_key(self, item: Item) -> str | None:
        if item.parent is None:
            return None
        parent = self.items.get(item.parent)
        if parent is not None:
            return parent.issue_key
        with self.db.sessions() as session:  # a parent whose build was skipped (deleted)
            return session.scalar(select(TrackerLink.issue_key).where(
                TrackerLink.entity_type == item.parent[0],
                TrackerLink.entity_id == item.parent[1]))

    def _wanted(self, item: Item) -> dict[str, Any]:
        """Desired fields plus the link, which depends on the parent's key at push time."""
        wanted = dict(item.desired)
        if item.parent is not None and not self._as_subtask(item):
            wanted["link"] = self._parent_key(item)
        return wanted

    def _as_subtask(self, item: Item) -> bool:
        return item.entity_type == "action" and self.ctx.mapping.actions_as_subtasks

    # .. calls ..................................................................................
    def _call(self, fn: Callable[[], T]) -> T:
        """Retry transient failures in-process while the wait is short; else defer."""
        failures = 0
        while True:
            if not self.lease.renew():
                raise LeaseLost()
            try:
                return fn()
            except TrackerError as exc:
                if not exc.transient:
                    raise
                failures += 1
                delay = self.backoff.delay(failures, exc)
                if delay > self.inline_max or failures >= INLINE_TRIES:
                    raise Deferred(delay, exc) from exc
                log.info("tracker busy (%s); retrying in %.1fs", exc, delay)
                time.sleep(delay)

    # .. creates ................................................................................
    def _create_missing(self, items: list[Item]) -> None:
        ready = []
        for item in items:
            if self._as_subtask(item) and not self._parent_key(item):
                item.outcome = "waiting"  # a sub-task cannot exist before its parent
            else:
                ready.append(item)
        if not ready:
            return
        try:
            self._call(partial(self._search_then_create, ready))
        except TrackerError as exc:  # permanent for the whole search (e.g. bad project)
            for item in ready:
                if item.issue_key is None and item.outcome is None:
                    self._dead(item, str(exc))

    def _search_then_create(self, items: list[Item]) -> None:
        """One attempt; a retry repeats the search, so a create whose answer was lost is
        adopted rather than made twice. One search covers the whole phase (the adapter
        splits it by JQL length), then creates go out in bulk chunks."""
        todo = [i for i in items if i.issue_key is None and i.outcome is None]
        if not todo:
            return
        found = self.ctx.tracker.find_by_labels([i.label for i in todo])
        for item in todo:
            if item.label in found:
                self._adopt(item, found[item.label])
        todo = [i for i in todo if i.issue_key is None]
        for n in range(0, len(todo), CREATE_CHUNK):
            chunk = todo[n:n + CREATE_CHUNK]
            drafts = [self._draft(i) for i in chunk]
            try:
                outcomes = self.ctx.tracker.create_issues(drafts)
            except TrackerError as exc:
                if exc.outcome_unknown:
                    # The create may still land (a slow Jira finishing after our timeout)
                    # and Cloud's search lags behind writes: give it time before the retry
                    # searches for it, or the search could miss it and we would create twice.
                    exc.retry_after = max(exc.retry_after or 0.0, self.create_settle)
                if exc.transient:
                    raise
                for item in chunk:  # the request as a whole was refused
                    self._dead(item, str(exc))
                continue
            by_ref = {o.ref: o for o in outcomes}
            for item, draft in zip(chunk, drafts, strict=True):
                outcome = by_ref.get(draft.ref)
                if outcome is not None and outcome.issue is not None:
                    self._created(item, outcome.issue, draft)
                elif outcome is not None and outcome.error:
                    self._dead(item, outcome.error)
        missing = [i for i in todo if i.issue_key is None and i.outcome is None]
        if missing:  # Jira said "created" without telling us the key: search next time
            raise TrackerError("bulk create returned fewer issues than requested", status=502)

    def _draft(self, item: Item) -> IssueDraft:
        d, flavour = item.desired, self.ctx.flavour
        assignee = None
        if d.get("assignee"):
            assignee = UserRef(account_id=d["assignee"]) if flavour == "cloud" \
                else UserRef(name=d["assignee"])
        custom = {k.removeprefix("custom:"): v for k, v in d.items()
                  if k.startswith("custom:") and v is not None}
        parent_key = self._parent_key(item)
        link = None
        if parent_key and not self._as_subtask(item):
            link = Link(self.ctx.mapping.link_type, parent_key)
        return IssueDraft(
            ref=item.label, issue_type=item.issue_type, summary=d["summary"],
            labels=[*self.ctx.mapping.labels, item.label], description=d.get("description") or "",
            priority=d.get("priority"), duedate=d.get("duedate"), assignee=assignee,
            custom=custom, defaults=dict(self.ctx.mapping.defaults.get(item.entity_type, {})),
            link=link,
            parent=parent_key if self._as_subtask(item) else None,
        )

    def _created(self, item: Item, issue: RemoteIssue, draft: IssueDraft) -> None:
        agreed = {k: v for k, v in item.desired.items() if k != "status"}
        agreed["status"] = StatusTarget("new").token()
        agreed["link"] = draft.link.target if draft.link else None
        item.fresh = True
        self._save_key(item, issue, agreed)
        self.report.created += 1

    def _adopt(self, item: Item, issue: RemoteIssue) -> None:
        """An issue we created earlier but never recorded: take what Jira shows as agreed
        for the fields the search returned; the rest is pushed as a normal update."""
        flavour = self.ctx.flavour
        assignee = None
        if issue.assignee is not None:
            assignee = issue.assignee.account_id if flavour == "cloud" else issue.assignee.name
        wanted_link = self._parent_key(item)
        agreed = {"status": issue.status_token(), "priority": issue.priority,
                  "duedate": issue.duedate, "assignee": assignee,
                  "link": wanted_link if wanted_link in issue.linked_keys else None}
        # Fields the search returned that already match need no PUT; the rest get one.
        seen = {"summary": issue.summary, "description": issue.description,
                **{f"custom:{k}": _option_value(v) for k, v in issue.custom.items()}}
        agreed.update({k: v for k, v in seen.items()
                       if k in item.desired and _same(item.desired[k], v)})
        self._save_key(item, issue, agreed)
        self.report.adopted += 1

    def _save_key(self, item: Item, issue: RemoteIssue, agreed: dict[str, Any]) -> None:
        item.issue_key, item.agreed = issue.key, agreed
        with self.db.sessions() as session, session.begin():
            link = session.get(TrackerLink, item.link_id)
            assert link is not None
            link.issue_key, link.issue_id = issue.key, issue.id
            link.fields = {**(link.fields or {}), **agreed}
            entity = load_entity(session, item.entity_type, item.entity_id)
            if entity is not None:
                entity.tracker_key = issue.key

    # .. updates ................................................................................
    def _update(self, item: Item) -> None:
        assert item.issue_key is not None
        key, tracker = item.issue_key, self.ctx.tracker
        wanted = self._wanted(item)
        diff = {k: v for k, v in wanted.items() if item.agreed.get(k, _MISSING) != v}
        if "link" in diff and not diff["link"]:
            diff.pop("link")  # never unlink: a person may have linked it on purpose
        try:
            plain = {k: v for k, v in diff.items() if k not in ("status", "link")}
            if plain:
                self._call(lambda: tracker.update_fields(key, plain))
                self._agree(item, plain)
            if "link" in diff:
                self._link(key, diff["link"])
                self._agree(item, {"link": diff["link"]})
            if "status" in diff:
                self._move(item, key, StatusTarget.from_token(diff["status"]))
                self._agree(item, {"status": diff["status"]})
        except TrackerError as exc:
            if exc.not_found:
                self._issue_gone(item, exc)
            else:
                self._dead(item, str(exc))
            return
        if diff:
            self.report.updated += 1
        item.outcome = "done"

    def _move(self, item: Item, key: str, target: StatusTarget) -> None:
        """Transition; issues created in this drain all start in their workflow's initial
        status, so the offered transitions are fetched once per issue type, not per issue."""
        tracker = self.ctx.tracker
        cache_key = item.issue_type if item.fresh else None
        options = self.initial_transitions.get(cache_key) if cache_key else None
        if options is None:
            options = self._call(lambda: tracker.transitions(key))
            if cache_key:
                self.initial_transitions[cache_key] = options
        for fetched_now in (cache_key is None, True):
            option = choose_transition(options, target)
            if option is None:
                log.info("%s: no transition into %s offered; treating it as reached", key,
                         target.token())
                return
            try:
                self._call(partial(tracker.transition, key, option, target.resolution))
                return
            except TrackerError as exc:
                # 400 "not valid for this issue": the status moved under us, e.g. our own
                # earlier attempt whose response was lost. Ask again what is offered now.
                if exc.status != 400 or fetched_now:
                    raise
                options = self._call(lambda: tracker.transitions(key))

    def _link(self, key: str, target: str) -> None:
        """Links are not idempotent in Jira: after a failed attempt, look before re-adding."""
        tracker, tries = self.ctx.tracker, [0]

        def once() -> None:
            tries[0] += 1
            if tries[0] > 1 and target in tracker.issue(key).linked_keys:
                return
            tracker.add_link(key, Link(self.ctx.mapping.link_type, target))

        self._call(once)

    def _agree(self, item: Item, values: dict[str, Any]) -> None:
        item.agreed.update(values)
        with self.db.sessions() as session, session.begin():
            link = session.get(TrackerLink, item.link_id)
            assert link is not None
            link.fields = {**(link.fields or {}), **values}

    def _issue_gone(self, item: Item, exc: TrackerError) -> None:
        """Deleted in Jira: flag the action (never delete it) and stop pushing it."""
        with self.db.sessions() as session, session.begin():
            entity = load_entity(session, item.entity_type, item.entity_id)
            if isinstance(entity, Action) and not entity.tracker_deleted:
                entity.tracker_deleted = True
                audit.record(session, actor="jira-sync", action="action.tracker_deleted",
                             entity_type="action", entity_key=entity.key or "",
                             before={"tracker_deleted": False},
                             after={"tracker_deleted": True, "tracker_key": item.issue_key})
        self._dead(item, str(exc))

    # .. outcomes ...............................................................................
    def _dead(self, item: Item, error: str) -> None:
        item.outcome, item.error = "dead", error
        self.report.errors.append(f"{item.entity_key}: {error}")

    def _defer_rest(self, d: Deferred) -> None:
        for item in self.items.values():
            if item.outcome is None:
                item.outcome, item.error = "deferred", str(d.error)
        self.delay = d.delay

    def _finish(self) -> None:
        max_attempts = self.ctx.runtime.settings.sync_max_attempts
        with self.db.sessions() as session, session.begin():
            for item in self.items.values():
                if not item.row_ids:
                    continue
                if item.outcome == "done":
                    outbox.mark(session, item.row_ids, outbox.DONE)
                elif item.outcome == "dead":
                    outbox.bury(session, item.entity_type, item.entity_id, item.row_ids,
                                item.error or "refused")
                    self.report.dead += 1
                elif item.outcome == "waiting":
                    dead = outbox.defer(session, item.row_ids, max(self.delay, 1.0),
                                        "waiting for the parent issue to be created",
                                        max_attempts)
                    self.report.dead += dead
                    self.report.deferred += 1
                else:  # at least a second: a zero back-off would spin the drain loop
                    dead = outbox.defer(session, item.row_ids, max(self.delay, 1.0),
                                        item.error or "deferred", max_attempts)
                    self.report.dead += dead
                    self.report.deferred += 1


_MISSING = object()


def _option_value(value: Any) -> Any:
    """A select option comes back with id and self; we send (and compare) only `value`."""
    if isinstance(value, dict) and "value" in value:
        return {"value": value["value"]}
    return value


def _same(desired: Any, remote: Any) -> bool:
    return desired == remote or (desired in (None, "") and remote in (None, ""))
