"""The update half of a push round: send what changed since both sides last agreed.

Only fields whose desired value differs from the agreed one (`TrackerLink.fields`)
are sent; each success is recorded as agreed at once, so a round that ends
early never sends it again. Links and transitions are not idempotent in
Jira, so both look at the issue's state before repeating themselves.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from app import audit
from app.models import Action

from .items import Item, load_entity
from .mapping import changed_fields
from .tracker import Link, StatusTarget, TrackerError, TransitionOption
from .workflow import MAX_HOPS, UNKNOWN, NoPath, Step, describe, next_step

if TYPE_CHECKING:
    from .push import Pusher

log = logging.getLogger(__name__)


def update(p: Pusher, item: Item) -> None:
    assert item.issue_key is not None
    key, tracker = item.issue_key, p.ctx.tracker
    wanted = dict(item.desired)  # plus the link, which depends on the parent's key now
    if item.parent is not None and not p.as_subtask(item):
        wanted["link"] = p.parent_key(item)
    diff = changed_fields(wanted, item.agreed)
    if "link" in diff and not diff["link"]:
        diff.pop("link")  # never unlink: a person may have linked it on purpose
    try:
        plain = {k: v for k, v in diff.items() if k not in ("status", "link")}
        if plain:
            p.call(lambda: tracker.update_fields(key, plain), [item])
            p.agree(item, plain)
        if "link" in diff:
            _link(p, item, key, diff["link"])
            p.agree(item, {"link": diff["link"]})
        if "status" in diff:
            _move(p, item, key, StatusTarget.from_token(diff["status"]))
            p.agree(item, {"status": diff["status"]})
    except TrackerError as exc:
        if exc.not_found:
            _issue_gone(p, item, exc)
        else:
            p.dead(item, str(exc))
        return
    if diff:
        p.report.updated += 1
    item.outcome = "done"


def _move(p: Pusher, item: Item, key: str, target: StatusTarget) -> None:
    """Walk the workflow to the target status and resolution, one offered hop at a time
    (`workflow.next_step`). What a status offers is the same for every issue of a type, so
    it is fetched once per (issue type, status) in a round: issues created in this round
    start in their workflow's initial status, and each hop lands on a known status."""
    tracker, known = p.ctx.tracker, p.ctx.mapping.resolution_names
    status: str | None = "initial" if item.fresh else None
    visited: set[str] = set()
    retried = False
    hops = 0
    while hops <= MAX_HOPS:
        options = _offered(p, item, key, status)
        try:
            step = next_step(options, target, visited, known, hops)
        except NoPath:
            if hops == 0 and _already_there(p, item, key, target):
                return
            raise
        try:
            p.call(partial(tracker.transition, key, step.option, target.resolution), [item])
        except TrackerError as exc:
            # 400 "not valid for this issue": the status moved under us (a person, or our
            # own earlier attempt whose answer was lost). Ask again what is offered now.
            if exc.status != 400 or retried:
                raise
            retried, status = True, None
            continue
        hops += 1
        visited.add(step.option.to_id)
        status = step.option.to_id
        if step.final:
            if step.certainty == UNKNOWN:
                _check_landed(p, item, key, target, step)
            return
    raise NoPath(f"{describe(target)} not reached within {MAX_HOPS} transitions")


def _offered(p: Pusher, item: Item, key: str, status: str | None) -> list[TransitionOption]:
    cache_key = (item.issue_type, status) if status else None
    options = p.offered.get(cache_key) if cache_key else None
    if options is None:
        tracker = p.ctx.tracker
        options = p.call(lambda: tracker.transitions(key), [item])
        if cache_key:
            p.offered[cache_key] = options
    return options


def _already_there(p: Pusher, item: Item, key: str, target: StatusTarget) -> bool:
    """No path from here may mean we are there already (a person moved it)."""
    issue = p.call(lambda: p.ctx.tracker.issue(key), [item])
    return issue.status_token() == StatusTarget(target.category, target.resolution).token() and (
        not target.status_name or issue.status_name == target.status_name
    )


def _check_landed(p: Pusher, item: Item, key: str, target: StatusTarget, step: Step) -> None:
    """A screenless transition whose resolution we could not tell: look at what it set."""
    issue = p.call(lambda: p.ctx.tracker.issue(key), [item])
    if (issue.resolution or None) != (target.resolution or None):
        raise NoPath(
            f"transition {step.option.name or step.option.id!r} set resolution "
            f"{issue.resolution!r}, not {target.resolution!r}"
        )


def _link(p: Pusher, item: Item, key: str, target: str) -> None:
    """An earlier round's attempt may have linked it without our hearing back, and a
    second link would be a duplicate: look first (links are added rarely, since a
    child created after its parent carries the link in its create)."""
    tracker = p.ctx.tracker
    if target in p.call(lambda: tracker.issue(key).linked_keys, [item]):
        return
    p.call(lambda: tracker.add_link(key, Link(p.ctx.mapping.link_type, target)), [item])


def _issue_gone(p: Pusher, item: Item, exc: TrackerError) -> None:
    """Deleted in Jira: flag the action (never delete it) and stop pushing it."""
    with p.db.sessions() as session, session.begin():
        entity = load_entity(session, item.entity_type, item.entity_id)
        if isinstance(entity, Action) and not entity.tracker_deleted:
            entity.tracker_deleted = True
            audit.record(
                session,
                actor="jira-sync",
                action="action.tracker_deleted",
                entity_type="action",
                entity_key=entity.key or "",
                before={"tracker_deleted": False},
                after={"tracker_deleted": True, "tracker_key": item.issue_key},
            )
    p.dead(item, str(exc))
