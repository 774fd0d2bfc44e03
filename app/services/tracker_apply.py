"""Applying tracker changes to actions, field by field (status, assignee, due date, priority).

Webhook deliveries (`tracker_inbound`) and the reconcile (`tracker_reconcile`)
both arrive here as `RemoteChange` values, which the Jira adapter made from
Jira's JSON:

* a change older than the newest one already applied to that field is
  dropped (`TrackerLink.versions`), so out-of-order deliveries cannot roll a
  field back;
* after applying, the agreed value is set to what Hindsight would now push,
  so the outbox finds nothing to send back (no echo), and no outbox row is
  written for an inbound change in the first place;
* a local change not yet pushed wins over an older Jira change, and loses to
  a newer one (compared by time), so neither side silently eats the other.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.catalog import Catalog
from app.db import UnitOfWork
from app.domain.transitions import TransitionError, check_action_transition
from app.domain.vocabulary import ActionStatus
from app.models import Action
from app.runtime import Runtime
from app.sync import connect
from app.sync.mapping import INBOUND_FIELDS, JiraMapping, desired_fields, user_id
from app.sync.models import TrackerLink
from app.sync.tracker import Flavour, RemoteChange, RemoteState, StatusTarget, UserRef

from .changes import evaluate_later
from .common import snapshot
from .records import set_status

log = logging.getLogger(__name__)
SOURCE = "jira"  # the webhook source, and the source of status changes made from Jira
_COLUMN = {"assignee": "owner", "duedate": "due_date", "priority": "priority"}


@dataclass
class InboundContext:
    mapping: JiraMapping
    catalog: Catalog
    flavour: Flavour
    me: UserRef | None
    bot_login: str | None  # HINDSIGHT_JIRA_USER, for when the account id is not known yet


def inbound_context(runtime: Runtime) -> InboundContext:
    s = runtime.settings
    me, flavour = connect.cached_identity(runtime.db, s.jira_url), None
    if me is None and s.jira_enabled:
        try:  # learn (and cache) who we are; at most once per site
            ctx = connect.open_context(runtime.db, s, runtime.jira_mapping, runtime.catalog)
            me, flavour = ctx.me, ctx.flavour
            ctx.close()
        except Exception:
            log.warning("could not ask Jira who Hindsight is; matching on HINDSIGHT_JIRA_USER")
    if flavour is None:
        site = connect.cached_site(runtime.db, s.jira_url)
        flavour = site["flavour"] if site else "cloud"
    return InboundContext(runtime.jira_mapping, runtime.catalog, flavour, me, s.jira_user)


def apply_changes(
    runtime: Runtime, ctx: InboundContext, changes: list[RemoteChange], who: str
) -> int:
    """A page of changes (the reconcile's) in one transaction; returns how many applied."""
    if not changes:
        return 0
    applied = 0
    with runtime.uow() as uow:
        links = {
            link.issue_key: link
            for link in uow.session.scalars(
                select(TrackerLink)
                .where(
                    TrackerLink.issue_key.in_([c.issue_key for c in changes]),
                    TrackerLink.entity_type == "action",
                )
                .with_for_update()
            )
        }
        for change in changes:
            link = links.get(change.issue_key)
            action = uow.session.get(Action, link.entity_id) if link is not None else None
            if (
                link is not None
                and action is not None
                and apply_remote(uow, ctx, link, action, change, who)
            ):
                applied += 1
        uow.commit()
    return applied


# -- applying -------------------------------------------------------------------------------------


def apply_remote(
    uow: UnitOfWork,
    ctx: InboundContext,
    link: TrackerLink,
    action: Action,
    change: RemoteChange,
    who: str,
) -> bool:
    """Apply the tracker's values for the fields `change` touched; True when the action
    changed."""
    versions = dict(link.versions or {})
    agreed = dict(link.fields or {})
    before = snapshot(action)
    applied: list[str] = []
    settled: list[str] = []  # fields where both sides now agree again
    for name in INBOUND_FIELDS:
        if name not in change.touched:
            continue
        if tuple(versions.get(name) or (0, 0)) > change.version:
            continue  # a newer change to this field was applied already
        known, value = _remote_value(ctx, name, change.state)
        if not known:
            continue
        versions[name] = list(change.version)  # the newest state of this field we have seen
        if not _remote_wins(ctx, action, name, value, agreed, change):
            continue
        settled.append(name)
        if _set_field(
            uow.session, ctx, action, name, value, change.state, link.issue_key or "", who
        ):
            applied.append(name)
    desired = desired_fields(ctx.mapping, ctx.catalog, ctx.flavour, "action", action)
    for name in settled:  # an assignee Hindsight does not send: agreed as Jira shows it
        agreed[name] = desired[name] if name in desired else _jira_user(ctx, change.state)
    link.fields, link.versions = agreed, versions
    if not applied:
        return False
    _record(uow, action, link, before, change.when, who)
    return True


def _remote_value(ctx: InboundContext, name: str, remote: RemoteState) -> tuple[bool, Any]:
    """(known, Hindsight value) for one field as the tracker shows it."""
    if name == "status":
        status = ctx.mapping.hindsight_status(
            remote.status_name, remote.status_category, remote.resolution
        )
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
    return getattr(action, _COLUMN[name])


def _remote_wins(
    ctx: InboundContext,
    action: Action,
    name: str,
    value: Any,
    agreed: dict[str, Any],
    change: RemoteChange,
) -> bool:
    agreed_hs = _agreed_value(ctx, name, agreed)
    if name == "assignee" and name in agreed:  # by Jira id: people outside the catalog too
        unchanged = _jira_user(ctx, change.state) == agreed[name]
    else:
        unchanged = name in agreed and value == agreed_hs
    if unchanged:
        return False  # the tracker shows what we last agreed on: nothing changed there
    local_pending = name in agreed and _current(action, name) != agreed_hs
    # Changed here after the tracker did: our pending push wins.
    return not (local_pending and action.updated_at and action.updated_at > change.when)


def _jira_user(ctx: InboundContext, remote: RemoteState) -> str | None:
    """The assignee's id as Hindsight would send it (account id on Cloud, name on DC)."""
    return user_id(remote.assignee, ctx.flavour)


def _set_field(
    session: Session,
    ctx: InboundContext,
    action: Action,
    name: str,
    value: Any,
    remote: RemoteState,
    issue_key: str,
    who: str,
) -> bool:
    """Write one field; False when the action already says it."""
    if name == "status":
        current = ActionStatus(action.status)
        if _same_status(ctx, current, remote, value):
            return False
        _move(session, action, value, remote, issue_key, who)
        return True
    if value == _current(action, name):
        return False
    setattr(action, _COLUMN[name], value)
    return True


def _same_status(
    ctx: InboundContext, current: ActionStatus, remote: RemoteState, mapped: ActionStatus
) -> bool:
    """verified and done both look like Done/Done in Jira: not a change."""
    if mapped == current:
        return True
    target = ctx.mapping.status_target("action", current.value)
    return target.category == remote.status_category and (target.resolution or None) == (
        remote.resolution or None
    )


def _record(
    uow: UnitOfWork,
    action: Action,
    link: TrackerLink,
    before: dict[str, Any],
    event_time: datetime,
    who: str,
) -> None:
    """Audit what changed and re-run the rules on the new values."""
    action.last_activity_at = datetime.now(UTC)
    if action.tracker_updated_at is None or action.tracker_updated_at < event_time:
        action.tracker_updated_at = event_time
    after = snapshot(action)
    changed = {k: after[k] for k in after if before.get(k) != after.get(k)}
    audit.record(
        uow.session,
        actor=who,
        action="action.sync_in",
        entity_type="action",
        entity_key=action.key or "",
        before={k: before.get(k) for k in changed},
        after={**changed, "tracker_key": link.issue_key},
    )
    evaluate_later(uow, action.incident_id)


def _move(
    session: Session,
    action: Action,
    new: ActionStatus,
    remote: RemoteState,
    issue_key: str,
    who: str,
) -> None:
    """Jira allows jumps Hindsight's workflow does not (Won't Do -> Done); walk a path.

    Jira cannot carry a validation record, so a status mapped to `verified` lands on done.
    """
    if new == ActionStatus.VERIFIED:
        new = ActionStatus.DONE
    reason = (
        f"{issue_key} in Jira: {remote.status_name or remote.status_category}"
        + (f" ({remote.resolution})" if remote.resolution else "")
        + f", by {who}"
    )
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
    audit.record(
        uow.session,
        actor=who,
        action="action.tracker_deleted",
        entity_type="action",
        entity_key=action.key or "",
        before={"tracker_deleted": False},
        after={"tracker_deleted": True, "tracker_key": link.issue_key},
    )
    evaluate_later(uow, action.incident_id)
