"""JSON shapes, per deployment flavour and REST version.

Every function takes a ``View`` because the same object looks different depending on
who asks: Cloud identifies users by ``accountId`` and DC by ``name``/``key``; v3 renders
rich text as ADF; ``self`` links echo the API version the caller used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .adf import text_to_adf
from .catalog import CATEGORIES, DEFAULT_PRIORITY
from .model import (
    Comment,
    FieldDef,
    History,
    Issue,
    IssueLink,
    IssueType,
    LinkType,
    Mode,
    Priority,
    Project,
    RemoteLink,
    Resolution,
    Status,
    User,
    jira_time,
)

if TYPE_CHECKING:
    from .state import JiraState


@dataclass(frozen=True)
class View:
    base: str
    mode: Mode
    api: str = "2"

    def rest(self, path: str) -> str:
        return f"{self.base}/rest/api/{self.api}/{path}"


def avatars(base: str, owner: str) -> dict[str, str]:
    return {
        f"{s}x{s}": f"{base}/secure/useravatar?size={s}&ownerId={owner}" for s in (16, 24, 32, 48)
    }


def user(u: User | None, v: View) -> dict[str, Any] | None:
    if u is None:
        return None
    common = {
        "emailAddress": u.email,
        "avatarUrls": avatars(v.base, u.key),
        "displayName": u.display_name,
        "active": u.active,
        "timeZone": u.time_zone,
        "locale": "en_US",
    }
    if v.mode == "cloud":
        return {
            "self": v.rest(f"user?accountId={u.account_id}"),
            "accountId": u.account_id,
            "accountType": "atlassian",
            **common,
        }
    return {
        "self": v.rest(f"user?username={u.name}"),
        "name": u.name,
        "key": u.key,
        **common,
        "deleted": False,
    }


def status_category(key: str, v: View) -> dict[str, Any]:
    c = CATEGORIES[key]
    return {
        "self": v.rest(f"statuscategory/{c.id}"),
        "id": c.id,
        "key": c.key,
        "colorName": c.color,
        "name": c.name,
    }


def status(s: Status, v: View) -> dict[str, Any]:
    return {
        "self": v.rest(f"status/{s.id}"),
        "description": "",
        "iconUrl": f"{v.base}/images/icons/statuses/generic.png",
        "name": s.name,
        "untranslatedName": s.name,
        "id": s.id,
        "statusCategory": status_category(s.category, v),
    }


def priority(p: Priority, v: View) -> dict[str, Any]:
    return {
        "self": v.rest(f"priority/{p.id}"),
        "statusColor": p.color,
        "description": p.name,
        "iconUrl": f"{v.base}/images/icons/priorities/{p.name.lower()}.svg",
        "name": p.name,
        "id": p.id,
    }


def resolution(r: Resolution, v: View) -> dict[str, Any]:
    return {
        "self": v.rest(f"resolution/{r.id}"),
        "id": r.id,
        "description": r.description,
        "name": r.name,
    }


def issue_type(t: IssueType, v: View) -> dict[str, Any]:
    return {
        "self": v.rest(f"issuetype/{t.id}"),
        "id": t.id,
        "description": t.description,
        "iconUrl": f"{v.base}/images/icons/issuetypes/{t.name.lower()}.svg",
        "name": t.name,
        "untranslatedName": t.name,
        "subtask": t.subtask,
        "avatarId": 10318,
        "hierarchyLevel": t.level,
    }


def link_type(t: LinkType, v: View) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "inward": t.inward,
        "outward": t.outward,
        "self": v.rest(f"issueLinkType/{t.id}"),
    }


def project(p: Project, st: JiraState, v: View, *, full: bool = True) -> dict[str, Any]:
    base: dict[str, Any] = {
        "self": v.rest(f"project/{p.id}"),
        "id": p.id,
        "key": p.key,
        "name": p.name,
        "avatarUrls": avatars(v.base, p.key),
        "projectTypeKey": "software",
        "simplified": False,
    }
    if full:
        base |= {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "description": "",
            "lead": user(st.users_by_id[p.lead], v),
            "components": [],
            "issueTypes": [issue_type(st.issue_type(t), v) for t in p.issue_types],
            "assigneeType": "UNASSIGNED",
            "versions": [],
            "roles": {},
            "style": "classic",
        }
    return base


def field_def(f: FieldDef) -> dict[str, Any]:
    return {
        "id": f.id,
        "key": f.id,
        "name": f.name,
        "custom": f.custom,
        "orderable": True,
        "navigable": f.navigable,
        "searchable": True,
        "clauseNames": f.clause_names,
        "schema": f.schema,
        "untranslatedName": f.name,
    }


def option(f: FieldDef, oid: str, v: View) -> dict[str, Any]:
    label = next(o.value for o in f.options if o.id == oid)
    return {"self": v.rest(f"customFieldOption/{oid}"), "value": label, "id": oid}


def field_meta(
    f: FieldDef, required: bool, st: JiraState, p: Project, it: IssueType, v: View
) -> dict[str, Any]:
    """One entry of createmeta: what a form builder needs to know about a field."""
    meta: dict[str, Any] = {
        "required": required,
        "schema": f.schema,
        "name": f.name,
        "key": f.id,
        "fieldId": f.id,
        "hasDefaultValue": f.id == "priority",
        "operations": ["set"],
    }
    if f.kind == "labels":
        meta["operations"] = ["add", "set", "remove"]
        meta["autoCompleteUrl"] = v.rest("label/suggest?query=")
    elif f.kind == "priority":
        meta["allowedValues"] = [priority(x, v) for x in st.catalog.priorities]
        meta["defaultValue"] = priority(st.priority(DEFAULT_PRIORITY), v)
    elif f.kind == "select":
        meta["allowedValues"] = [option(f, o.id, v) for o in f.options]
    elif f.kind == "user":
        meta["autoCompleteUrl"] = v.rest(
            "user/search?" + ("query=" if v.mode == "cloud" else "username=")
        )
    elif f.id == "issuetype":
        meta["allowedValues"] = [issue_type(it, v)]
    elif f.id == "project":
        meta["allowedValues"] = [project(p, st, v, full=False)]
    elif f.kind == "issuelinks":
        meta["operations"] = ["add"]
    return meta


def comment(c: Comment, issue: Issue, st: JiraState, v: View) -> dict[str, Any]:
    author = user(st.users_by_id.get(c.author), v)
    out: dict[str, Any] = {
        "self": v.rest(f"issue/{issue.id}/comment/{c.id}"),
        "id": c.id,
        "author": author,
        "body": text_to_adf(c.body) if v.api == "3" else c.body,
        "updateAuthor": author,
        "created": jira_time(c.created),
        "updated": jira_time(c.updated),
    }
    if v.mode == "cloud":
        out["jsdPublic"] = True
    return out


def history(h: History, st: JiraState, v: View) -> dict[str, Any]:
    return {
        "id": h.id,
        "author": user(st.users_by_id.get(h.author), v),
        "created": jira_time(h.created),
        "items": [i.as_json() for i in h.items],
    }


def linked_issue_stub(i: Issue, st: JiraState, v: View) -> dict[str, Any]:
    return {
        "id": str(i.id),
        "key": i.key,
        "self": v.rest(f"issue/{i.id}"),
        "fields": {
            "summary": i.values.get("summary"),
            "status": status(st.status(i.status_id), v),
            "priority": _priority_or_none(i, st, v),
            "issuetype": issue_type(st.issue_type(i.issuetype_id), v),
        },
    }


def issue_link(link: IssueLink, viewer: Issue, st: JiraState, v: View) -> dict[str, Any]:
    """Jira shows the *other* issue under the key naming its role in the link."""
    out: dict[str, Any] = {
        "id": link.id,
        "self": v.rest(f"issueLink/{link.id}"),
        "type": link_type(st.link_type(link.type_id), v),
    }
    if link.inward_id == viewer.id:
        out["outwardIssue"] = linked_issue_stub(st.issues_by_id[link.outward_id], st, v)
    else:
        out["inwardIssue"] = linked_issue_stub(st.issues_by_id[link.inward_id], st, v)
    return out


def remote_link(r: RemoteLink, issue: Issue, v: View) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "self": v.rest(f"issue/{issue.id}/remotelink/{r.id}"),
        "object": r.object,
    }
    if r.global_id is not None:
        out["globalId"] = r.global_id
    if r.application is not None:
        out["application"] = r.application
    if r.relationship is not None:
        out["relationship"] = r.relationship
    return out


def _priority_or_none(i: Issue, st: JiraState, v: View) -> dict[str, Any] | None:
    pid = i.values.get("priority")
    return priority(st.priority(pid), v) if pid else None


def field_value(f: FieldDef, i: Issue, st: JiraState, v: View) -> Any:
    """Render one field of an issue; stored values are ids, rendered values are objects."""
    fid = f.id
    if fid == "status":
        return status(st.status(i.status_id), v)
    if fid == "issuetype":
        return issue_type(st.issue_type(i.issuetype_id), v)
    if fid == "project":
        return project(st.project(i.project_id), st, v, full=False)
    if fid == "resolution":
        return resolution(st.resolution(i.resolution_id), v) if i.resolution_id else None
    if fid in ("created", "updated", "statuscategorychangedate", "resolutiondate"):
        when = {
            "created": i.created,
            "updated": i.updated,
            "resolutiondate": i.resolution_date,
            "statuscategorychangedate": i.status_changed,
        }[fid]
        return jira_time(when) if when else None
    if fid == "creator":
        return user(st.users_by_id.get(i.creator), v)
    if fid == "parent":
        parent = st.issues_by_id.get(i.values.get("parent") or 0)
        return linked_issue_stub(parent, st, v) if parent else None
    if fid == "issuelinks":
        return [issue_link(lk, i, st, v) for lk in st.links_of(i)]
    if fid == "comment":
        items = [comment(c, i, st, v) for c in i.comments]
        return {
            "comments": items,
            "self": v.rest(f"issue/{i.id}/comment"),
            "maxResults": len(items),
            "total": len(items),
            "startAt": 0,
        }
    raw = i.values.get(fid)
    if f.kind == "priority":
        return _priority_or_none(i, st, v)
    if f.kind == "user":
        return user(st.users_by_id.get(raw), v) if raw else None
    if f.kind == "labels":
        return list(raw or [])
    if f.kind == "select":
        return option(f, raw, v) if raw else None
    if f.kind == "text" and v.api == "3":
        return text_to_adf(raw)
    return raw


def select_fields(
    requested: Iterable[str] | None, all_fields: list[FieldDef], default: str
) -> list[FieldDef]:
    """Apply Jira's ``fields=`` mini-language: ``*all``, ``*navigable``, ids, ``-id``."""
    tokens = [t.strip() for r in (requested or [default]) for t in r.split(",") if t.strip()]
    chosen: dict[str, FieldDef] = {}
    by_id = {f.id: f for f in all_fields}
    for t in tokens:
        if t == "*all":
            chosen |= {f.id: f for f in all_fields}
        elif t == "*navigable":
            chosen |= {f.id: f for f in all_fields if f.navigable}
        elif t in by_id:
            chosen[t] = by_id[t]
    for t in tokens:
        if t.startswith("-"):
            chosen.pop(t[1:], None)
    return list(chosen.values())


def issue(
    i: Issue,
    st: JiraState,
    v: View,
    *,
    fields: Iterable[str] | None = None,
    expand: str | None = None,
    default_fields: str = "*all",
) -> dict[str, Any]:
    chosen = select_fields(fields, st.catalog.fields, default_fields)
    out: dict[str, Any] = {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,"
        "versionedRepresentations",
        "id": str(i.id),
        "self": v.rest(f"issue/{i.id}"),
        "key": i.key,
    }
    if chosen:
        fields = {f.id: field_value(f, i, st, v) for f in chosen}
        if fields.get("parent", 1) is None:  # Jira omits the key rather than sending null
            del fields["parent"]
        out["fields"] = fields
    expands = {e.strip() for e in (expand or "").split(",")}
    if "changelog" in expands:
        hs = [history(h, st, v) for h in i.history]
        out["changelog"] = {"startAt": 0, "maxResults": len(hs), "total": len(hs), "histories": hs}
    if "names" in expands:
        out["names"] = {f.id: f.name for f in chosen}
    return out
