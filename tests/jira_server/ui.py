"""What a human does in the Jira UI, expressed through the same ops REST uses.

Tests about sync conflicts need "someone else changed the ticket" without a second
client; going through ``ops`` keeps validation, changelog and webhooks identical to a
REST change, just attributed to that person.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

from . import ops
from .model import Change, Issue, User
from .state import JiraState


class Unset(enum.Enum):
    UNSET = "UNSET"


UNSET = Unset.UNSET


def user_ref(st: JiraState, ident: str | None) -> dict[str, Any] | None:
    """A user object in the flavour's REST shape (accountId on Cloud, name on DC)."""
    if ident is None:
        return None
    u = st.find_user(ident)
    if u is None:
        raise KeyError(f"unknown user {ident!r}")
    return {"accountId": u.account_id} if st.mode == "cloud" else {"name": u.name}


def user_edit(
    st: JiraState,
    actor: User,
    issue: Issue,
    *,
    status: str | None = None,
    resolution: str | None = None,
    assignee: str | None | Unset = UNSET,
    duedate: str | None | Unset = UNSET,
    priority: str | None = None,
    summary: str | None = None,
    labels: Sequence[str] | None = None,
    fields: Mapping[str, Any] | None = None,
    comment: str | None = None,
    delete: bool = False,
    via: str | None = None,
) -> list[Change]:
    """Transition first (one event: the transition named `via`, else the first into
    `status`), then one Edit-dialog save, then comment, then delete."""
    changes: list[Change] = []
    if status is not None:
        target = st.status_by_name(status)
        t = next(
            (
                x
                for x in st.transitions(issue)
                if target and x.to == target.id and via in (None, x.name)
            ),
            None,
        )
        if t is None:
            offered = [f"{x.name} -> {st.status(x.to).name}" for x in st.transitions(issue)]
            raise ValueError(f"{issue.key}: no transition to {status!r}; offered: {offered}")
        payload: dict[str, Any] = {"transition": {"id": t.id}}
        if resolution is not None and "resolution" in t.screen:
            payload["fields"] = {"resolution": {"name": resolution}}
        changes += ops.transition(st, actor, issue, payload, "2")
    edit: dict[str, Any] = dict(fields or {})
    if not isinstance(assignee, Unset):
        edit["assignee"] = user_ref(st, assignee)
    if not isinstance(duedate, Unset):
        edit["duedate"] = duedate
    if priority is not None:
        edit["priority"] = {"name": priority}
    if summary is not None:
        edit["summary"] = summary
    if labels is not None:
        edit["labels"] = list(labels)
    if edit:
        changes += ops.edit_issue(st, actor, issue, {"fields": edit}, "2")
    if comment is not None:
        changes += ops.add_comment(st, actor, issue, comment)[1]
    if delete:
        changes += ops.delete_issue(st, actor, issue, delete_subtasks=True)  # UI confirms
    return changes
