"""Links sent in a create payload are checked afterwards, and the missing ones added.

Some Jira sites create the issue but drop `update.issuelinks` (a create screen
without Linked Issues, an app, a post-function), and say nothing. So a freshly
created child's link to its parent is not taken as agreed until it has been
seen: one label search covers a whole phase of creates (the same search the
create itself starts with), and only issues the search cannot see yet (index
lag) are read one by one. Until a link is seen it is not agreed, so a round
that ends early leaves it to the next round's update, which looks before it
links (`updates._link`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .items import Item
from .models import TrackerLink
from .tracker import Link

if TYPE_CHECKING:
    from .push import Pusher


def verify_created(p: Pusher, items: list[Item]) -> None:
    """For items created in this round with a link to their parent: add what is missing."""
    todo: dict[str, tuple[Item, str]] = {}
    for item in items:
        if not item.fresh or item.issue_key is None or p.as_subtask(item):
            continue
        target = p.parent_key(item)
        if target and item.agreed.get("link") != target:
            todo[item.label] = (item, target)
    if not todo:
        return
    tracker = p.ctx.tracker
    p.hold_lease()
    found = tracker.find_by_labels(list(todo))
    seen: list[tuple[Item, str]] = []
    for label, (item, target) in todo.items():
        key = item.issue_key
        assert key is not None
        issue = found.get(label)
        if issue is None or issue.key != key:  # not searchable yet: read it directly
            p.hold_lease()
            issue = tracker.issue(key)
        if target not in issue.linked_keys:
            p.hold_lease()
            tracker.add_link(key, Link(p.ctx.mapping.link_type, target))
        seen.append((item, target))
    _agree_links(p, seen)


def _agree_links(p: Pusher, seen: list[tuple[Item, str]]) -> None:
    """One transaction for the phase: each link is now known to be there."""
    with p.db.sessions() as session, session.begin():
        for item, target in seen:
            item.agreed["link"] = target
            link = session.get(TrackerLink, item.link_id)
            if link is not None:
                link.fields = {**(link.fields or {}), "link": target}
