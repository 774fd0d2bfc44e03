"""Links sent in a create payload are checked afterwards, and the missing ones added.

Some Jira sites create the issue but drop `update.issuelinks` (a create screen
without Linked Issues, an app, a post-function), and say nothing. So a freshly
created child's link to its parent is not taken as agreed until it has been
seen: one label search for the phase's parents shows every child's link
(links show on both sides), and only parents the search cannot see yet (index
lag) or that were mirrored in an earlier round are read one by one. Until a
link is seen it is not agreed, so a round that ends early leaves it to the next
round's update, which looks before it links (`updates._link`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .items import Item
from .models import TrackerLink
from .tracker import Link, RemoteIssue

if TYPE_CHECKING:
    from .push import Pusher


def verify_created(p: Pusher, items: list[Item]) -> None:
    """For items created in this round with a link to their parent: add what is missing.

    Looked at from the parents' side, where every child's link shows: the first mirror
    of 50 postmortems with 500 actions checks all 500 links in one search."""
    todo: dict[str, list[Item]] = {}  # parent key -> its fresh children
    for item in items:
        if not item.fresh or item.issue_key is None or p.as_subtask(item):
            continue
        target = p.parent_key(item)
        if target and item.agreed.get("link") != target:
            todo.setdefault(target, []).append(item)
    if not todo:
        return
    tracker = p.ctx.tracker
    labels = {i.issue_key: i.label for i in p.items.values() if i.issue_key in todo}
    found: dict[str, RemoteIssue] = {}
    if labels:
        p.hold_lease()
        found = {r.key: r for r in tracker.find_by_labels(list(labels.values())).values()}
    seen: list[tuple[Item, str]] = []
    for target, children in todo.items():
        parent = found.get(target)
        if parent is None:  # not searchable yet (index lag), or not in this round
            p.hold_lease()
            parent = tracker.issue(target)
        for child in children:
            assert child.issue_key is not None
            if child.issue_key not in parent.linked_keys:
                p.hold_lease()
                tracker.add_link(child.issue_key, Link(p.ctx.mapping.link_type, target))
            seen.append((child, target))
    _agree_links(p, seen)


def _agree_links(p: Pusher, seen: list[tuple[Item, str]]) -> None:
    """One transaction for the phase: each link is now known to be there."""
    with p.db.sessions() as session, session.begin():
        for item, target in seen:
            item.agreed["link"] = target
            link = session.get(TrackerLink, item.link_id)
            if link is not None:
                link.fields = {**(link.fields or {}), "link": target}
