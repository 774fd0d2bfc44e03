"""Inbound sync: apply changes made in Jira to Hindsight actions.

Webhook deliveries and the reconcile both end in `apply_remote`, which works
field by field (status, assignee, due date, priority):

* a change older than the newest one already applied to that field is
  dropped (`TrackerLink.versions`), so out-of-order deliveries cannot roll a
  field back;
* after applying, the agreed value is set to what Hindsight would now push,
  so the outbox finds nothing to send back (no echo), and no outbox row is
  written for an inbound change in the first place;
* a local change not yet pushed wins over an older Jira change, and loses to
  a newer one (compared by time), so neither side silently eats the other.

Changes made by Hindsight's own Jira account are ignored outright.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit
from app.catalog import Catalog, load_catalog
from app.db import JobRequest, UnitOfWork
from app.domain.transitions import TransitionError, check_action_transition
from app.domain.vocabulary import ActionStatus
from app.models import Action, WebhookDelivery
from app.runtime import Runtime
from app.services import deliveries
from app.services.changes import evaluate_later
from app.services.common import snapshot
from app.services.records import set_status

from .connect import cached_identity, cached_site, open_context
from .mapping import INBOUND_FIELDS, JiraMapping, desired_fields, load_mapping
from .models import TrackerLink
from .state import rowcount
from .tracker import Flavour, StatusTarget, UserRef

log = logging.getLogger(__name__)
SOURCE = "jira"
# Changelog field ids we act on; resolution travels with status.
FIELD_OF_ITEM = {"status": "status", "resolution": "status", "assignee": "assignee",
                 "duedate": "duedate", "priority": "priority"}


@dataclass(frozen=True)
class RemoteState:
    """Jira's values for the inbound fields, from a webhook snapshot or a search hit."""

    status_name: str | None
    status_category: str | None
    resolution: str | None
    assignee: UserRef | None
    duedate: str | None
    priority: str | None


@dataclass
class InboundContext:
    mapping: JiraMapping
    catalog: Catalog
    flavour: Flavour
    me: UserRef | None
    bot_login: str | None  # HINDSIGHT_JIRA_USER, for when the account id is not known yet


def inbound_context(runtime: Runtime) -> InboundContext:
    s = runtime.settings
    mapping = load_mapping(s.config_dir, s.jira_project)
    me, flavour = cached_identity(runtime), None
    if me is None and s.jira_enabled:
        try:  # learn (and cache) who we are; at most once per site
            ctx = open_context(runtime)
            me, flavour = ctx.me, ctx.flavour
            ctx.close()
        except Exception:
            log.warning("could not ask Jira who Hindsight is; matching on HINDSIGHT_JIRA_USER")
    if flavour is None:
        site = cached_site(runtime)
        flavour = site["flavour"] if site else "cloud"
    return InboundContext(mapping, load_catalog(s.config_dir), flavour, me, s.jira_user)


# -- receiving ----------------------------------------------------------------------------------


def store_delivery(
    runtime: Runtime, identifier: str, payload: dict[str, Any]
) -> tuple[int, bool]:
    """Persist one Jira delivery, unique on its webhook identifier; (id, is_duplicate)."""
    ts = payload.get("timestamp")
    event_time = datetime.fromtimestamp(ts / 1000, UTC) if isinstance(ts, int | float) else None
    return deliveries.store_delivery(runtime, SOURCE, identifier, payload, delivery_job, event_time)


def delivery_job(delivery_id: int) -> JobRequest:
    return JobRequest("app.jobs.process_jira_delivery", (delivery_id,),
                      f"jira-delivery-{delivery_id}", "sync")


# -- processing ---------------------------------------------------------------------------------


def process_delivery(runtime: Runtime, delivery_id: int) -> str:
    """Apply one stored delivery; returns its final status (done / ignored / ...)."""
    ctx = inbound_context(runtime)
    with runtime.uow() as uow:
        claimed = rowcount(uow.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending")
            .values(status="processing")
        ))
        if not claimed:
            return "not pending"
        delivery = uow.session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        status, note = _process(uow, ctx, delivery.payload)
        delivery.status, delivery.error = status, note
        delivery.processed_at = datetime.now(UTC)
        uow.commit()
        return status


def _actor(payload: dict[str, Any]) -> tuple[UserRef | None, str | None]:
    user = payload.get("user")
    if not isinstance(user, dict):
        return None, None
    ref = UserRef(account_id=user.get("accountId"), name=user.get("name"), key=user.get("key"),
                  display_name=user.get("displayName"))
    return ref, user.get("emailAddress")


def _is_me(ctx: InboundContext, actor: UserRef | None, email: str | None) -> bool:
    if actor is None:
        return False
    if ctx.me is not None and ctx.me.matches(actor):
        return True
    return bool(ctx.bot_login) and ctx.bot_login in {email, actor.name}


def remote_state_from_issue(fields: dict[str, Any]) -> RemoteState:
    status = fields.get("status") or {}
    assignee = fields.get("assignee")
    return RemoteState(
        status_name=status.get("name"),
        status_category=(status.get("statusCategory") or {}).get("key"),
        resolution=(fields.get("resolution") or {}).get("name"),
        assignee=UserRef(account_id=assignee.get("accountId"), name=assignee.get("name"),
                         key=assignee.get("key"), display_name=assignee.get("displayName"))
        if isinstance(assignee, dict) else None,
        duedate=fields.get("duedate"),
        priority=(fields.get("priority") or {}).get("name"),
    )


def _find_link(session: Session, issue: dict[str, Any]) -> TrackerLink | None:
    issue_id, key = str(issue.get("id") or ""), str(issue.get("key") or "")
    stmt = select(TrackerLink).with_for_update()
    link = session.scalar(stmt.where(TrackerLink.issue_id == issue_id)) if issue_id else None
    if link is None and key:
        link = session.scalar(stmt.where(TrackerLink.issue_key == key))
    return link


def _process(
    uow: UnitOfWork, ctx: InboundContext, payload: dict[str, Any]
) -> tuple[str, str | None]:
    event = str(payload.get("webhookEvent") or "")
    issue = payload.get("issue")
    if not isinstance(issue, dict):
        return "ignored", f"{event or 'event'} carries no issue"
    actor, email = _actor(payload)
    if _is_me(ctx, actor, email):
        return "ignored", "made by Hindsight's own Jira account"
    session = uow.session
    link = _find_link(session, issue)
    if link is None or link.entity_type != "action":
        return "ignored", "not a Hindsight action issue"
    action = session.get(Action, link.entity_id)
    if action is None:
        return "ignored", "the action no longer exists"
    who = _who(actor)
    ts = payload.get("timestamp")
    event_time = datetime.fromtimestamp(ts / 1000, UTC) if isinstance(ts, int | float) \
        else datetime.now(UTC)
    if event == "jira:issue_deleted":
        flag_deleted(uow, action, link, who)
        return "done", None
    if event != "jira:issue_updated":
        return "ignored", f"{event} does not change synced fields"
    items = (payload.get("changelog") or {}).get("items") or []
    touched = {FIELD_OF_ITEM[f] for f in (_field_id(i) for i in items) if f in FIELD_OF_ITEM}
    if not touched:
        return "ignored", "no synced field changed"
    changelog_id = _int((payload.get("changelog") or {}).get("id"))
    version = [int(event_time.timestamp() * 1000), changelog_id]
    remote = remote_state_from_issue(issue.get("fields") or {})
    applied = apply_remote(uow, ctx, link, action, remote, touched, version, event_time, who)
    return "done", None if applied else "nothing new to apply"


def _field_id(item: dict[str, Any]) -> str:
    return str(item.get("fieldId") or item.get("field") or "").lower()


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _who(actor: UserRef | None) -> str:
    if actor is None:
        return "jira"
    return f"jira:{actor.display_name or actor.name or actor.account_id}"[:200]


# -- applying -------------------------------------------------------------------------------------


def _jira_value(ctx: InboundContext, name: str, remote: RemoteState) -> tuple[bool, Any]:
    """(known, Hindsight value) for one field as Jira shows it."""
    if name == "status":
        status = ctx.mapping.hindsight_status(remote.status_name, remote.status_category,
                                              remote.resolution)
        return status is not None, status
    if name == "assignee":
        if remote.assignee is None:
            return True, None
        for ident in (remote.assignee.account_id, remote.assignee.name, remote.assignee.key):
            person = ctx.catalog.person(ident)
            if person is not None:
                return True, person.name
        return True, remote.assignee.display_name or next(iter(remote.assignee.ids()), None)
    if name == "duedate":
        return True, date.fromisoformat(remote.duedate[:10]) if remote.duedate else None
    priority = ctx.mapping.hindsight_priority(remote.priority)
    return priority is not None or remote.priority is None, priority


def _agreed_value(ctx: InboundContext, name: str, agreed: dict[str, Any]) -> Any:
    """What the last agreed tracker value means in Hindsight terms."""
    value = agreed.get(name)
    if name == "status":
        if not value:
            return None
        t = StatusTarget.from_token(value)
        return ctx.mapping.hindsight_status(t.status_name, t.category, t.resolution)
    if name == "assignee":
        person = ctx.catalog.person(value)
        return person.name if person else value
    if name == "duedate":
        return date.fromisoformat(value) if value else None
    return ctx.mapping.hindsight_priority(value)


def _current(action: Action, name: str) -> Any:
    if name == "status":
        return ActionStatus(action.status)
    if name == "assignee":
        return action.owner
    if name == "duedate":
        return action.due_date
    return action.priority


def _same_status(ctx: InboundContext, current: ActionStatus, remote: RemoteState,
                 mapped: ActionStatus) -> bool:
    """verified and done both look like Done/Done in Jira: not a change."""
    if mapped == current:
        return True
    target = ctx.mapping.status_target("action", current.value)
    return target.category == remote.status_category and \
        (target.resolution or None) == (remote.resolution or None)


def apply_remote(
    uow: UnitOfWork,
    ctx: InboundContext,
    link: TrackerLink,
    action: Action,
    remote: RemoteState,
    fields: set[str],
    version: list[int],
    event_time: datetime,
    who: str,
) -> bool:
    """Apply Jira's values for `fields`; True when the action changed."""
    session = uow.session
    versions = dict(link.versions or {})
    agreed = dict(link.fields or {})
    before = snapshot(action)
    applied: list[str] = []
    settled: list[str] = []  # fields where both sides now agree again
    for name in INBOUND_FIELDS:
        if name not in fields:
            continue
        if list(versions.get(name) or [0, 0]) > version:
            continue  # a newer change to this field was applied already
        known, value = _jira_value(ctx, name, remote)
        if not known:
            continue
        versions[name] = version  # the newest Jira state of this field we have seen
        current = _current(action, name)
        agreed_hs = _agreed_value(ctx, name, agreed)
        if name in agreed and value == agreed_hs:
            continue  # Jira shows what we last agreed on: nothing changed there
        local_pending = name in agreed and current != agreed_hs
        if local_pending and action.updated_at and action.updated_at > event_time:
            continue  # changed here after Jira did; our pending push wins
        settled.append(name)
        if name == "status":
            if _same_status(ctx, current, remote, value):
                continue
            _move(session, action, value, remote, link.issue_key or "", who)
        elif value == current:
            continue
        elif name == "assignee":
            action.owner = value
        elif name == "duedate":
            action.due_date = value
        else:
            action.priority = value
        applied.append(name)
    desired = desired_fields(ctx.mapping, ctx.catalog, ctx.flavour, "action", action)
    for name in settled:
        agreed[name] = desired[name]
    link.fields, link.versions = agreed, versions
    if not applied:
        return False
    now = datetime.now(UTC)
    action.last_activity_at = now
    if action.tracker_updated_at is None or action.tracker_updated_at < event_time:
        action.tracker_updated_at = event_time
    after = snapshot(action)
    changed = {k: after[k] for k in after if before.get(k) != after.get(k)}
    audit.record(session, actor=who, action="action.sync_in", entity_type="action",
                 entity_key=action.key or "", before={k: before.get(k) for k in changed},
                 after={**changed, "tracker_key": link.issue_key})
    _rerun_rules(uow, action)
    return True


def _move(session: Session, action: Action, new: ActionStatus, remote: RemoteState,
          issue_key: str, who: str) -> None:
    """Jira allows jumps Hindsight's workflow does not (Won't Do -> Done); walk a path."""
    reason = f"{issue_key} in Jira: {remote.status_name or remote.status_category}" + (
        f" ({remote.resolution})" if remote.resolution else "") + f", by {who}"
    for step in status_path(ActionStatus(action.status), new):
        set_status(session, action, step, reason, actor=who, source=SOURCE)


def status_path(current: ActionStatus, target: ActionStatus) -> list[ActionStatus]:
    """Shortest chain of allowed transitions (breadth-first over the workflow)."""
    if current == target:
        return []
    queue: deque[tuple[ActionStatus, list[ActionStatus]]] = deque([(current, [])])
    seen = {current}
    while queue:
        here, path = queue.popleft()
        for nxt in ActionStatus:
            if nxt in seen:
                continue
            try:
                check_action_transition(here, nxt, "via Jira")
            except TransitionError:
                continue
            if nxt == target:
                return [*path, nxt]
            seen.add(nxt)
            queue.append((nxt, [*path, nxt]))
    return [target]  # unreachable in the workflow: let set_status explain why


def flag_deleted(uow: UnitOfWork, action: Action, link: TrackerLink, who: str) -> None:
    """A deleted Jira issue flags the action; the action and its history stay."""
    if action.tracker_deleted:
        return
    action.tracker_deleted = True
    audit.record(uow.session, actor=who, action="action.tracker_deleted", entity_type="action",
                 entity_key=action.key or "", before={"tracker_deleted": False},
                 after={"tracker_deleted": True, "tracker_key": link.issue_key})
    _rerun_rules(uow, action)


def _rerun_rules(uow: UnitOfWork, action: Action) -> None:
    evaluate_later(uow, action.incident_id)


def pending_deliveries(session: Session, older_than: datetime, limit: int = 500) -> list[int]:
    return deliveries.pending_deliveries(session, [SOURCE], older_than, limit)
