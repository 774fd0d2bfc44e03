"""Mutations of the fake Jira. Each returns the ``Change`` records webhooks are built from.

REST handlers and ``simulate_user_edit`` both go through these functions, so a change a
"human" makes in the UI is validated, recorded in the changelog and announced exactly
like one the bot makes through REST. Callers must hold ``state.lock``.
"""

from __future__ import annotations

from typing import Any

from . import render
from .catalog import DEFAULT_PRIORITY
from .fields import (
    FieldError,
    ParsedEdit,
    display,
    not_settable,
    parse_comment_body,
    parse_edit,
    parse_value,
)
from .model import (
    Change,
    ChangeItem,
    Comment,
    History,
    Issue,
    IssueLink,
    IssueType,
    JiraApiError,
    RemoteLink,
    User,
)
from .state import JiraState

CREATED, UPDATED, DELETED = "jira:issue_created", "jira:issue_updated", "jira:issue_deleted"


def change(
    st: JiraState,
    event: str,
    issue: Issue | None,
    actor: User,
    *,
    items: list[ChangeItem] | None = None,
    history: History | None = None,
    type_name: str | None = None,
    comment: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Change:
    return Change(
        event=event,
        issue=st.webhook_issue(issue) if issue else None,
        user=st.webhook_user(actor),
        timestamp_ms=st.now_ms(),
        items=tuple(items or ()),
        changelog_id=history.id if history else None,
        comment=comment,
        issue_event_type_name=type_name,
        extra=extra or {},
    )


def _record(st: JiraState, issue: Issue, actor: User, items: list[ChangeItem]) -> History:
    h = History(str(st.next_id("history")), actor.account_id, st.clock(), items)
    issue.history.append(h)
    issue.updated = h.created
    return h


def create_issue(
    st: JiraState, actor: User, payload: dict[str, Any], api: str
) -> tuple[Issue, list[Change]]:
    fields = payload.get("fields") if isinstance(payload, dict) else None
    if not isinstance(fields, dict):
        raise JiraApiError(400, ["Issue must be an object with a 'fields' object."])
    p_ref, t_ref = fields.get("project"), fields.get("issuetype")
    project = st.find_project(p_ref) if isinstance(p_ref, dict) else None
    itype = st.find_issue_type(t_ref) if isinstance(t_ref, dict) else None
    errors: dict[str, str] = {}
    if project is None:
        errors["project"] = "Specify a valid project ID or key"
    if itype is None or (project and itype.id not in project.issue_types):
        errors["issuetype"] = "Specify a valid issue type"
    if errors or project is None or itype is None:
        raise JiraApiError(400, errors=errors)
    parsed = parse_edit(st, payload, screen=project.screens[itype.id], api=api, creating=True)
    _check_parent(st, itype, project.id, parsed, None)
    now = st.clock()
    issue = Issue(
        id=st.next_id("issue"),
        key=f"{project.key}-{project.next_number}",
        project_id=project.id,
        issuetype_id=itype.id,
        status_id=st.workflow_of_type(itype).initial,
        creator=actor.account_id,
        created=now,
        updated=now,
        status_changed=now,
        values={"reporter": actor.account_id, "priority": DEFAULT_PRIORITY, "labels": []},
    )
    project.next_number += 1
    issue.values.update(parsed.values)
    _apply_label_ops(issue, parsed)
    st.issues_by_id[issue.id] = issue
    st.issues_by_key[issue.key] = issue
    changes = [change(st, CREATED, issue, actor, type_name="issue_created")]
    for body in parsed.comments:
        changes += add_comment(st, actor, issue, body)[1]
    for type_id, other, other_is_outward in [] if st.drop_links_on_create else parsed.links:
        changes += link_from_edit(st, actor, issue, type_id, other, other_is_outward)
    return issue, changes


def _apply_label_ops(issue: Issue, parsed: ParsedEdit) -> None:
    labels = list(issue.values.get("labels") or [])
    for op, label in parsed.label_ops:
        if op == "add" and label not in labels:
            labels.append(label)
        elif op == "remove" and label in labels:
            labels.remove(label)
    issue.values["labels"] = labels


def edit_issue(
    st: JiraState, actor: User, issue: Issue, payload: dict[str, Any], api: str
) -> list[Change]:
    parsed = parse_edit(
        st, payload, screen=st.screen(issue), api=api, creating=False, self_id=issue.id
    )
    _check_parent(st, st.issue_type(issue.issuetype_id), issue.project_id, parsed, issue.id)
    return apply_edit(st, actor, issue, parsed)


def _check_parent(
    st: JiraState, itype: IssueType, project_id: str, parsed: ParsedEdit, self_id: int | None
) -> None:
    """A parent sits exactly one hierarchy level up; sub-tasks stay in their project."""
    pid = parsed.values.get("parent")
    if pid is None:
        return
    parent = st.issues_by_id[pid]
    level = st.issue_type(parent.issuetype_id).level
    if (
        pid == self_id
        or level != itype.level + 1
        or (itype.subtask and parent.project_id != project_id)
    ):
        msg = "Given parent issue does not belong to appropriate hierarchy."
        raise JiraApiError(400, errors={"parent": msg})


def apply_edit(st: JiraState, actor: User, issue: Issue, parsed: ParsedEdit) -> list[Change]:
    """Apply validated values; a no-op edit writes no history and fires no webhook."""
    before = dict(issue.values)
    issue.values.update(parsed.values)
    _apply_label_ops(issue, parsed)
    items = []
    for fid in sorted(parsed.values.keys() | ({"labels"} if parsed.label_ops else set())):
        old, new = before.get(fid), issue.values.get(fid)
        if (old or None) != (new or None):
            f = st.field(fid)
            (fr, frs), (to, tos) = display(f, old, st, st.mode), display(f, new, st, st.mode)
            items.append(
                ChangeItem(
                    f.name if f.custom else fid,
                    fid,
                    "custom" if f.custom else "jira",
                    fr,
                    frs,
                    to,
                    tos,
                )
            )
    changes: list[Change] = []
    if items:
        h = _record(st, issue, actor, items)
        kind = "issue_assigned" if [i.field_id for i in items] == ["assignee"] else "issue_updated"
        changes.append(change(st, UPDATED, issue, actor, items=items, history=h, type_name=kind))
    for body in parsed.comments:
        changes += add_comment(st, actor, issue, body)[1]
    for type_id, other, other_is_outward in parsed.links:
        changes += link_from_edit(st, actor, issue, type_id, other, other_is_outward)
    return changes


def assign(st: JiraState, actor: User, issue: Issue, body: dict[str, Any]) -> list[Change]:
    """``PUT /issue/{key}/assignee`` takes the bare user object, not a fields payload; here
    (and only here) Cloud documents ``{"accountId": null}`` as "unassigned"."""
    if st.mode == "cloud" and isinstance(body, dict) and body.get("accountId", "") is None:
        return apply_edit(st, actor, issue, ParsedEdit(values={"assignee": None}))
    try:
        new = parse_value(st.field("assignee"), body, st, "2")
    except FieldError as e:
        raise JiraApiError(400, errors={"assignee": str(e)}) from e
    return apply_edit(st, actor, issue, ParsedEdit(values={"assignee": new}))


def delete_issue(
    st: JiraState, actor: User, issue: Issue, *, delete_subtasks: bool = False
) -> list[Change]:
    """Sub-tasks block deletion unless asked to go too; epic children are just unparented."""
    children = [i for i in st.issues_by_id.values() if i.values.get("parent") == issue.id]
    subtasks = [c for c in children if st.issue_type(c.issuetype_id).subtask]
    if subtasks and not delete_subtasks:
        raise JiraApiError(
            400,
            [
                "The issue has subtasks, you must specify the "
                "'deleteSubtasks' parameter to delete this issue."
            ],
        )
    changes: list[Change] = []
    for child in children:
        if child in subtasks:
            changes += delete_issue(st, actor, child)
        else:
            changes += apply_edit(st, actor, child, ParsedEdit(values={"parent": None}))
    snapshot = change(st, DELETED, issue, actor, type_name="issue_deleted")
    st.links[:] = [lk for lk in st.links if issue.id not in (lk.inward_id, lk.outward_id)]
    del st.issues_by_id[issue.id]
    del st.issues_by_key[issue.key]
    return [*changes, snapshot]


def transition(
    st: JiraState, actor: User, issue: Issue, payload: dict[str, Any], api: str
) -> list[Change]:
    ref = payload.get("transition")
    tid = str(ref.get("id", "")) if isinstance(ref, dict) else ""
    if not tid:
        raise JiraApiError(400, ["Missing 'transition' identifier"])
    t = next((x for x in st.transitions(issue) if x.id == tid), None)
    if t is None:
        raise JiraApiError(400, [f"Transition id '{tid}' is not valid for this issue."])
    fields = payload.get("fields") or {}
    if not isinstance(fields, dict):
        raise JiraApiError(400, ["'fields' must be an object."])
    errors = {f: not_settable(f) for f in fields if f not in t.screen}
    res = st.find_resolution(t.default_resolution) if t.default_resolution else None
    if "resolution" in fields and "resolution" in t.screen:
        res = st.find_resolution(fields["resolution"] or {})
        if res is None:
            errors["resolution"] = "Could not find valid 'id' or 'name' in resolution object."
    comments = []
    for op in (payload.get("update") or {}).get("comment", []):
        try:
            comments.append(
                parse_comment_body(op.get("add") if isinstance(op, dict) else None, api)
            )
        except FieldError as e:
            errors["comment"] = str(e)
    if errors:
        raise JiraApiError(400, errors=errors)
    old_status, new_status = st.status(issue.status_id), st.status(t.to)
    old, new = (old_status.id, old_status.name), (new_status.id, new_status.name)
    items = [ChangeItem("status", "status", "jira", *old, *new)]
    new_res = (
        None
        if t.clears_resolution or new_status.category != "done"
        else (res.id if res else issue.resolution_id)
    )
    if new_res != issue.resolution_id:
        old_name = st.resolution(issue.resolution_id).name if issue.resolution_id else None
        new_name = st.resolution(new_res).name if new_res else None
        items.append(
            ChangeItem(
                "resolution", "resolution", "jira", issue.resolution_id, old_name, new_res, new_name
            )
        )
    issue.status_id = new_status.id
    issue.resolution_id = new_res
    h = _record(st, issue, actor, items)
    issue.resolution_date = h.created if new_res else None
    if old_status.category != new_status.category:
        issue.status_changed = h.created
    changes = [change(st, UPDATED, issue, actor, items=items, history=h, type_name=t.event_type)]
    for body in comments:
        changes += add_comment(st, actor, issue, body)[1]
    return changes


def add_comment(
    st: JiraState, actor: User, issue: Issue, body: str
) -> tuple[Comment, list[Change]]:
    now = st.clock()
    c = Comment(str(st.next_id("comment")), actor.account_id, body, now, now)
    issue.comments.append(c)
    issue.updated = now
    rendered = render.comment(c, issue, st, st.view("2"))
    full = st.webhook_issue(issue)
    slim = {k: v for k, v in full.items() if k != "fields"}  # comment events carry a slim issue
    slim["fields"] = {
        k: full["fields"][k]
        for k in ("summary", "issuetype", "project", "assignee", "priority", "status")
    }
    return c, [
        Change("comment_created", slim, st.webhook_user(actor), st.now_ms(), comment=rendered),
        change(st, UPDATED, issue, actor, type_name="issue_commented", comment=rendered),
    ]


def create_link(
    st: JiraState, actor: User, type_id: str, inward: Issue, outward: Issue
) -> tuple[IssueLink, list[Change]]:
    lk = IssueLink(str(st.next_id("link")), type_id, inward.id, outward.id)
    st.links.append(lk)
    lt = st.link_type(type_id)
    _record(st, inward, actor, [_link_item(outward, lt.outward)])
    _record(st, outward, actor, [_link_item(inward, lt.inward)])
    payload = {
        "id": int(lk.id),
        "sourceIssueId": inward.id,
        "destinationIssueId": outward.id,
        "issueLinkType": {
            "id": int(lt.id),
            "name": lt.name,
            "outwardName": lt.outward,
            "inwardName": lt.inward,
            "isSubTaskLinkType": False,
            "isSystemLinkType": False,
        },
        "systemLink": False,
    }
    return lk, [change(st, "issuelink_created", None, actor, extra={"issueLink": payload})]


def _link_item(other: Issue, phrase: str) -> ChangeItem:
    text = f"This issue {phrase} {other.key}"
    return ChangeItem("Link", "issuelinks", "jira", None, None, other.key, text)


def link_from_edit(
    st: JiraState, actor: User, issue: Issue, type_id: str, other_id: int, other_is_outward: bool
) -> list[Change]:
    """``update.issuelinks`` names the other side from the edited issue's point of view."""
    other = st.issues_by_id[other_id]
    inward, outward = (issue, other) if other_is_outward else (other, issue)
    return create_link(st, actor, type_id, inward, outward)[1]


def upsert_remote_link(
    st: JiraState, issue: Issue, body: dict[str, Any]
) -> tuple[RemoteLink, bool]:
    """Jira treats ``globalId`` as an idempotency key: same id updates, never duplicates."""
    obj = body.get("object")
    obj = obj if isinstance(obj, dict) else {}
    missing = {k: f"'{k}' is required." for k in ("url", "title") if not obj.get(k)}
    if missing:
        raise JiraApiError(400, errors=missing)
    gid = body.get("globalId")
    existing = next((r for r in issue.remote_links if gid and r.global_id == gid), None)
    if existing:
        existing.object, existing.application = obj, body.get("application")
        existing.relationship = body.get("relationship")
        return existing, False
    r = RemoteLink(
        st.next_id("remotelink"), obj, gid, body.get("application"), body.get("relationship")
    )
    issue.remote_links.append(r)
    return r, True
