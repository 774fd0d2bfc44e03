"""Applying tracker changes field by field, to actions, postmortems and incidents alike.

Webhook deliveries (`tracker_inbound`) and the reconcile (`tracker_reconcile`)
both arrive here as `RemoteChange` values, which the Jira adapter made from
Jira's JSON; `tracker_targets` says which fields each entity takes and writes
them through its own service writers:

* a change older than the newest one already applied to that field is
  dropped (`TrackerLink.versions`), so out-of-order deliveries cannot roll a
  field back;
* a field whose Jira value is what both sides last agreed on (`TrackerLink.fields`,
  what Hindsight pushed or took) is no change: Hindsight's own writes, read
  back by a webhook or a search in any order, change nothing;
* after applying, the agreed value is set to what Hindsight would now push,
  so the outbox finds nothing to send back (no echo), and no outbox row is
  written for an inbound change in the first place;
* a local change not yet pushed wins over an older Jira change, and loses to
  a newer one (compared by time), so neither side silently eats the other;
* a move the workflow or a gate refuses (a publish with blocking findings, an
  incident taken back from resolved) is audited and forced neither way; the
  refused Jira value is remembered (`versions["<field>.refused"]`), so a
  replay or the next reconcile does not refuse it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from app import audit
from app.catalog import Catalog
from app.db import UnitOfWork
from app.models import Action
from app.runtime import Runtime
from app.sync import connect
from app.sync.mapping import JiraMapping, desired_fields, user_id
from app.sync.models import TrackerLink
from app.sync.tracker import Flavour, RemoteChange, RemoteState, StatusTarget, UserRef

from .changes import evaluate_later
from .tracker_targets import SOURCE, Refused, Target, same_status, target_for

log = logging.getLogger(__name__)
__all__ = ["SOURCE", "InboundContext", "Outcome", "apply_changes", "apply_remote", "target_for"]


@dataclass
class InboundContext:
    mapping: JiraMapping
    catalog: Catalog
    flavour: Flavour
    me: UserRef | None
    bot_login: str | None  # HINDSIGHT_JIRA_USER, for when the account id is not known yet


@dataclass
class Outcome:
    """What one change did: fields written, and moves refused (with why)."""

    applied: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.applied)

    def note(self) -> str | None:
        if self.refused:
            return "refused: " + "; ".join(self.refused)
        return None if self.applied else "nothing new to apply"


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
) -> dict[str, int]:
    """A page of changes (the reconcile's) in one transaction; returns how many entities
    changed, by entity type."""
    applied: dict[str, int] = {}
    if not changes:
        return applied
    with runtime.uow() as uow:
        links = {
            link.issue_key: link
            for link in uow.session.scalars(
                select(TrackerLink)
                .where(TrackerLink.issue_key.in_([c.issue_key for c in changes]))
                .order_by(TrackerLink.id)
                .with_for_update()
            )
        }
        for change in changes:
            link = links.get(change.issue_key)
            if link is None:
                continue
            target = target_for(uow.session, link.entity_type, link.entity_id)
            if target is not None and apply_remote(uow, ctx, link, target, change, who):
                applied[target.entity_type] = applied.get(target.entity_type, 0) + 1
        uow.commit()
    return applied


# -- applying -------------------------------------------------------------------------------------


def apply_remote(
    uow: UnitOfWork,
    ctx: InboundContext,
    link: TrackerLink,
    target: Target,
    change: RemoteChange,
    who: str,
) -> Outcome:
    """Apply the tracker's values for the fields `change` touched that this entity takes."""
    versions = dict(link.versions or {})
    agreed = dict(link.fields or {})
    before = target.snapshot()
    pending = _pending(ctx, target, agreed)
    outcome = Outcome()
    settled: list[str] = []  # fields where both sides now agree again
    for name in target.fields:
        if name not in change.touched:
            continue
        if tuple(versions.get(name) or (0, 0)) > change.version:
            continue  # a newer change to this field was applied already
        known, value = _remote_value(ctx, target, name, change.state)
        if not known:
            continue
        versions[name] = list(change.version)  # the newest state of this field we have seen
        refused_key = f"{name}.refused"
        if versions.get(refused_key) not in (None, str(value)):
            versions.pop(refused_key)  # Jira shows something else now: a new decision
        if versions.get(refused_key) == str(value):
            continue  # refused already; a replay or a reconcile asks nothing new
        if not _remote_wins(ctx, target, name, value, agreed, name in pending, change):
            continue
        try:
            if _set_field(uow, ctx, target, name, value, change, link.issue_key or "", who):
                outcome.applied.append(name)
        except Refused as exc:
            target.refused(uow, name, value, exc, who)
            versions[refused_key] = str(value)
            outcome.refused.append(f"{name} {value}: {exc.message}")
            continue
        settled.append(name)
    desired = _desired(ctx, target)  # after the writes: what Hindsight would push now
    for name in settled:  # an assignee Hindsight does not send: agreed as Jira shows it
        agreed[name] = desired[name] if name in desired else _jira_user(ctx, change.state)
    link.fields, link.versions = agreed, versions
    if outcome.applied:
        target.record(uow, before, change.when, who)
    return outcome


def _desired(ctx: InboundContext, target: Target) -> dict[str, Any]:
    return desired_fields(ctx.mapping, ctx.catalog, ctx.flavour, target.entity_type, target.entity)


def _pending(ctx: InboundContext, target: Target, agreed: dict[str, Any]) -> set[str]:
    """Fields changed here and not pushed yet: what the pusher would send now."""
    desired = _desired(ctx, target)
    return {n for n in target.fields if n in agreed and n in desired and desired[n] != agreed[n]}


def _remote_value(
    ctx: InboundContext, target: Target, name: str, remote: RemoteState
) -> tuple[bool, Any]:
    """(known, Hindsight value) for one field as the tracker shows it."""
    if name == "status":
        status = ctx.mapping.inbound_status(
            target.entity_type, remote.status_name, remote.status_category, remote.resolution
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


def _agreed_value(ctx: InboundContext, target: Target, name: str, agreed: dict[str, Any]) -> Any:
    """What the last agreed tracker value means in Hindsight terms."""
    value = agreed.get(name)
    if name == "status":
        if not value:
            return None
        t = StatusTarget.from_token(value)
        return ctx.mapping.inbound_status(
            target.entity_type, t.status_name, t.category, t.resolution
        )
    if name == "assignee":
        person = ctx.catalog.person(value)
        return person.name if person else value
    if name == "duedate":
        return date.fromisoformat(value) if value else None
    return ctx.mapping.hindsight_priority(value)


def _remote_wins(
    ctx: InboundContext,
    target: Target,
    name: str,
    value: Any,
    agreed: dict[str, Any],
    local_pending: bool,
    change: RemoteChange,
) -> bool:
    if name == "assignee" and name in agreed:  # by Jira id: people outside the catalog too
        unchanged = _jira_user(ctx, change.state) == agreed[name]
    else:
        unchanged = name in agreed and value == _agreed_value(ctx, target, name, agreed)
    if unchanged:
        return False  # the tracker shows what we last agreed on: nothing changed there
    updated = target.entity.updated_at
    # Changed here after the tracker did: our pending push wins.
    return not (local_pending and updated and updated > change.when)


def _jira_user(ctx: InboundContext, remote: RemoteState) -> str | None:
    """The assignee's id as Hindsight would send it (account id on Cloud, name on DC)."""
    return user_id(remote.assignee, ctx.flavour)


def _set_field(
    uow: UnitOfWork,
    ctx: InboundContext,
    target: Target,
    name: str,
    value: Any,
    change: RemoteChange,
    issue_key: str,
    who: str,
) -> bool:
    """Write one field; False when the entity already says it. Raises `Refused`."""
    remote = change.state
    if name == "status":
        current = target.current("status")
        if value == current:
            return False
        wanted = ctx.mapping.status_target(target.entity_type, current)
        if same_status(wanted.category, wanted.resolution, remote):
            return False
        reason = (
            f"{issue_key} in Jira: {remote.status_name or remote.status_category}"
            + (f" ({remote.resolution})" if remote.resolution else "")
            + f", by {who}"
        )
        target.move(uow, value, reason, who, change.when)
        return True
    if value == target.current(name):
        return False
    target.set_value(name, value)
    return True


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
