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
from .tracker import Link, StatusTarget, TrackerError, choose_transition

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
    """Transition; issues created in this round all start in their workflow's initial
    status, so the offered transitions are fetched once per issue type, not per issue."""
    tracker = p.ctx.tracker
    cache_key = item.issue_type if item.fresh else None
    options = p.initial_transitions.get(cache_key) if cache_key else None
    if options is None:
        options = p.call(lambda: tracker.transitions(key), [item])
        if cache_key:
            p.initial_transitions[cache_key] = options
    for fetched_now in (cache_key is None, True):
        option = choose_transition(options, target)
        if option is None:
            log.info(
                "%s: no transition into %s offered; treating it as reached", key, target.token()
            )
            return
        try:
            p.call(partial(tracker.transition, key, option, target.resolution), [item])
            return
        except TrackerError as exc:
            # 400 "not valid for this issue": the status moved under us, e.g. our own
            # earlier attempt whose response was lost. Ask again what is offered now.
            if exc.status != 400 or fetched_now:
                raise
            options = p.call(lambda: tracker.transitions(key), [item])


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
