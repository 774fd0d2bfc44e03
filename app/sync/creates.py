"""The create half of a push round: search by label, adopt what exists, bulk-create the rest.

The search always comes first, in every round: a create whose answer was
lost (a timeout, a 5xx, a dropped connection) is an unknown outcome, found by
its `hs-<key>` label next time and adopted, so it is never made twice. Jira's
search index lags behind creates, so a search that misses such an issue
proves nothing until the settle window (HINDSIGHT_SYNC_CREATE_SETTLE_SECONDS)
after the lost answer has passed: until then the entity, and the children
that would link to it, wait without counting an attempt and are searched for
again at the window's end. Only then is it created again. Whatever still
slips through (a window shorter than the lag) is closed as a duplicate by the
reconcile (`app/services/tracker_duplicates.py`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import links
from .items import Item
from .tracker import IssueDraft, Link, RemoteIssue, StatusTarget, TrackerError, UserRef

if TYPE_CHECKING:
    from .push import Pusher

CREATE_CHUNK = 50  # Jira's bulk-create limit


def create_missing(p: Pusher, items: list[Item]) -> None:
    ready = []
    for item in items:
        parent = p.items.get(item.parent) if item.parent else None
        if parent is not None and parent.outcome == "settling":
            _settle(item, parent.wait_until, "waiting for the parent issue to show in search")
        elif p.as_subtask(item) and not p.parent_key(item):
            item.outcome = "waiting"  # a sub-task cannot exist before its parent
        else:
            ready.append(item)
    if not ready:
        return
    try:
        p.call(lambda: _search_then_create(p, ready), ready)
    except TrackerError as exc:  # permanent for the whole search (e.g. bad project)
        for item in ready:
            if item.issue_key is None and item.outcome is None:
                p.dead(item, str(exc))


def _search_then_create(p: Pusher, items: list[Item]) -> None:
    """One search covers the whole phase (the adapter splits it by JQL length), then
    creates go out in bulk chunks."""
    todo = [i for i in items if i.issue_key is None and i.outcome is None]
    if not todo:
        return
    found = p.ctx.tracker.find_by_labels([i.label for i in todo])
    for item in todo:
        if item.label in found:
            _adopt(p, item, found[item.label])
    now, window = p.clock(), timedelta(seconds=p.create_settle)
    for item in todo:
        since = item.create_unconfirmed_at
        if item.issue_key is None and since is not None and now < since + window:
            _settle(item, since + window, "a create whose answer was lost may not be indexed yet")
    todo = [i for i in todo if i.issue_key is None and i.outcome is None]
    for n in range(0, len(todo), CREATE_CHUNK):
        p.hold_lease()  # the search and each chunk are separate requests
        _create_chunk(p, todo[n : n + CREATE_CHUNK])
    links.verify_created(p, todo)  # some sites drop links sent in a create
    missing = [i for i in todo if i.issue_key is None and i.outcome is None]
    if missing:  # Jira said "created" without telling us the key: search next time
        p.unconfirmed(missing)
        raise TrackerError("bulk create returned fewer issues than requested", status=502)


def _create_chunk(p: Pusher, chunk: list[Item]) -> None:
    drafts = [draft(p, i) for i in chunk]
    try:
        outcomes = p.ctx.tracker.create_issues(drafts)
    except TrackerError as exc:
        if exc.outcome_unknown:
            # The create may have landed (or still land, a slow Jira finishing after our
            # timeout) and search lags behind: the next rounds search before creating again.
            p.unconfirmed(chunk)
        if exc.transient or exc.refuses_credentials:
            raise
        for item in chunk:  # the request as a whole was refused
            p.dead(item, str(exc))
        return
    by_ref = {o.ref: o for o in outcomes}
    for item, d in zip(chunk, drafts, strict=True):
        outcome = by_ref.get(d.ref)
        if outcome is not None and outcome.issue is not None:
            _created(p, item, outcome.issue, d)
        elif outcome is not None and outcome.error:
            p.dead(item, outcome.error)


def _settle(item: Item, until: datetime | None, why: str) -> None:
    item.outcome, item.wait_until, item.error = "settling", until, why


def draft(p: Pusher, item: Item) -> IssueDraft:
    d, flavour, mapping = item.desired, p.ctx.flavour, p.ctx.mapping
    assignee = None
    if d.get("assignee"):
        assignee = (
            UserRef(account_id=d["assignee"]) if flavour == "cloud" else UserRef(name=d["assignee"])
        )
    custom = {
        k.removeprefix("custom:"): v
        for k, v in d.items()
        if k.startswith("custom:") and v is not None
    }
    parent_key = p.parent_key(item)
    subtask = p.as_subtask(item)
    return IssueDraft(
        ref=item.label,
        issue_type=item.issue_type,
        summary=d["summary"],
        labels=[*mapping.labels, item.label],
        description=d.get("description") or "",
        priority=d.get("priority"),
        duedate=d.get("duedate"),
        assignee=assignee,
        custom=custom,
        defaults=dict(mapping.defaults.get(item.entity_type, {})),
        link=Link(mapping.link_type, parent_key) if parent_key and not subtask else None,
        parent=parent_key if subtask else None,
    )


def _created(p: Pusher, item: Item, issue: RemoteIssue, d: IssueDraft) -> None:
    agreed = {k: v for k, v in item.desired.items() if k != "status"}
    agreed["status"] = StatusTarget("new").token()
    agreed["link"] = None  # sent, but agreed only once seen (`links.verify_created`)
    agreed.setdefault("assignee", None)  # none sent (an owner Jira cannot name): none there
    item.fresh = True
    p.save_key(item, issue, agreed)
    p.report.created += 1


def _adopt(p: Pusher, item: Item, issue: RemoteIssue) -> None:
    """An issue we created earlier but never recorded: take what Jira shows as agreed
    for the fields the search returned; the rest is pushed as a normal update."""
    assignee = None
    if issue.assignee is not None:
        assignee = issue.assignee.account_id if p.ctx.flavour == "cloud" else issue.assignee.name
    wanted_link = p.parent_key(item)
    agreed = {
        "status": issue.status_token(),
        "priority": issue.priority,
        "duedate": issue.duedate,
        "assignee": assignee,
        "link": wanted_link if wanted_link in issue.linked_keys else None,
    }
    # Fields the search returned that already match need no PUT; the rest get one.
    seen = {
        "summary": issue.summary,
        "description": issue.description,
        **{f"custom:{k}": _option_value(v) for k, v in issue.custom.items()},
    }
    agreed.update(
        {k: v for k, v in seen.items() if k in item.desired and _same(item.desired[k], v)}
    )
    p.save_key(item, issue, agreed)
    p.report.adopted += 1


def _option_value(value: Any) -> Any:
    """A select option comes back with id and self; we send (and compare) only `value`."""
    if isinstance(value, dict) and "value" in value:
        return {"value": value["value"]}
    return value


def _same(desired: Any, remote: Any) -> bool:
    return desired == remote or (desired in (None, "") and remote in (None, ""))
