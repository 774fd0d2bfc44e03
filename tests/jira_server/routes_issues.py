"""Issue endpoints: create (single and bulk), read, edit, delete, transitions, comments,
links, remote links, and the two search APIs (Cloud ``search/jql``, DC ``search``).

Handlers stay thin - validation and bookkeeping live in ``ops``/``fields`` - so what is
left here is exactly the per-endpoint wire detail a client can trip over: status codes
(201 vs 204 vs 200), empty bodies, and which flavour serves which search API.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from . import jql, ops, render
from .fields import FieldError, parse_comment_body
from .model import JiraApiError
from .routing import Ctx, Reply, route

MAX_BULK = 50


def _created(ctx: Ctx, issue_id: int, key: str) -> dict[str, Any]:
    return {"id": str(issue_id), "key": key, "self": ctx.view.rest(f"issue/{issue_id}")}


@route("issue", "POST")
def create_issue(ctx: Ctx) -> Reply:
    issue, changes = ops.create_issue(ctx.st, ctx.actor, ctx.json(), ctx.view.api)
    return Reply(201, _created(ctx, issue.id, issue.key), changes=changes)


@route("issue/bulk", "POST")
def create_bulk(ctx: Ctx) -> Reply:
    """Each element succeeds or fails on its own; all failed means 400 with the same body."""
    updates = ctx.json().get("issueUpdates")
    if not isinstance(updates, list):
        raise JiraApiError(400, ["issueUpdates must be an array."])
    if len(updates) > MAX_BULK:
        raise JiraApiError(
            400,
            [
                f"Cannot create more than {MAX_BULK} issues in a single "
                f"bulk request (got {len(updates)})."
            ],
        )
    issues, errors, changes = [], [], []
    for n, payload in enumerate(updates):
        try:
            issue, ch = ops.create_issue(ctx.st, ctx.actor, payload, ctx.view.api)
        except JiraApiError as e:
            errors.append({"status": e.status, "elementErrors": e.body(), "failedElementNumber": n})
            continue
        issues.append(_created(ctx, issue.id, issue.key))
        changes += ch
    return Reply(
        201 if issues or not updates else 400, {"issues": issues, "errors": errors}, changes=changes
    )


@route("issue/<issue_ref>")
def get_issue(ctx: Ctx, issue_ref: str) -> Reply:
    issue = ctx.st.issue(issue_ref)
    return Reply(
        body=render.issue(
            issue,
            ctx.st,
            ctx.view,
            fields=ctx.arg_list("fields") or None,
            expand=ctx.req.args.get("expand"),
        )
    )


@route("issue/<issue_ref>", "PUT")
def edit_issue(ctx: Ctx, issue_ref: str) -> Reply:
    issue = ctx.st.issue(issue_ref)
    changes = ops.edit_issue(ctx.st, ctx.actor, issue, ctx.json(), ctx.view.api)
    if ctx.req.args.get("returnIssue") == "true":
        return Reply(200, render.issue(issue, ctx.st, ctx.view), changes=changes)
    return Reply(204, changes=changes)


@route("issue/<issue_ref>", "DELETE")
def delete_issue(ctx: Ctx, issue_ref: str) -> Reply:
    # the jira client sends Python's str(bool): deleteSubtasks=False / True
    subtasks = ctx.req.args.get("deleteSubtasks", "false").lower() == "true"
    issue = ctx.st.issue(issue_ref)
    return Reply(204, changes=ops.delete_issue(ctx.st, ctx.actor, issue, delete_subtasks=subtasks))


@route("issue/<issue_ref>/assignee", "PUT")
def assign(ctx: Ctx, issue_ref: str) -> Reply:
    return Reply(204, changes=ops.assign(ctx.st, ctx.actor, ctx.st.issue(issue_ref), ctx.json()))


@route("issue/<issue_ref>/transitions")
def list_transitions(ctx: Ctx, issue_ref: str) -> Reply:
    issue = ctx.st.issue(issue_ref)
    with_fields = "transitions.fields" in ctx.req.args.get("expand", "")
    only = ctx.req.args.get("transitionId")
    out = []
    for t in ctx.st.transitions(issue):
        if only and t.id != only:
            continue
        entry: dict[str, Any] = {
            "id": t.id,
            "name": t.name,
            "to": render.status(ctx.st.status(t.to), ctx.view),
            "hasScreen": bool(t.screen),
            "isGlobal": t.sources is None,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }
        if with_fields:
            entry["fields"] = (
                {
                    "resolution": {
                        "required": False,
                        "schema": {"type": "resolution", "system": "resolution"},
                        "name": "Resolution",
                        "key": "resolution",
                        "operations": ["set"],
                        "allowedValues": [
                            render.resolution(r, ctx.view) for r in ctx.st.catalog.resolutions
                        ],
                    }
                }
                if "resolution" in t.screen
                else {}
            )
        out.append(entry)
    return Reply(body={"expand": "transitions", "transitions": out})


@route("issue/<issue_ref>/transitions", "POST")
def do_transition(ctx: Ctx, issue_ref: str) -> Reply:
    return Reply(
        204,
        changes=ops.transition(
            ctx.st, ctx.actor, ctx.st.issue(issue_ref), ctx.json(), ctx.view.api
        ),
    )


@route("issue/<issue_ref>/comment")
def list_comments(ctx: Ctx, issue_ref: str) -> Reply:
    issue = ctx.st.issue(issue_ref)
    items = [render.comment(c, issue, ctx.st, ctx.view) for c in issue.comments]
    if ctx.req.args.get("orderBy") == "-created":
        items.reverse()
    start, size = ctx.int_arg("startAt", 0), ctx.int_arg("maxResults", 5000)
    return Reply(
        body={
            "startAt": start,
            "maxResults": size,
            "total": len(items),
            "comments": items[start : start + size],
        }
    )


@route("issue/<issue_ref>/comment", "POST")
def add_comment(ctx: Ctx, issue_ref: str) -> Reply:
    issue = ctx.st.issue(issue_ref)
    try:
        body = parse_comment_body(ctx.json(), ctx.view.api)
    except FieldError as e:
        raise JiraApiError(400, errors={"comment": str(e)}) from e
    comment, changes = ops.add_comment(ctx.st, ctx.actor, issue, body)
    return Reply(201, render.comment(comment, issue, ctx.st, ctx.view), changes=changes)


@route("issueLink", "POST")
def create_link(ctx: Ctx) -> Reply:
    """Jira answers 201 with an empty body; the new link only shows up on the issues."""
    body = ctx.json()
    lt = ctx.st.find_link_type(body.get("type") or {})
    if lt is None:
        raise JiraApiError(
            404, [f"No issue link type with name '{(body.get('type') or {}).get('name')}' found."]
        )
    sides = []
    for side in ("inwardIssue", "outwardIssue"):
        ref = body.get(side) or {}
        issue = ctx.st.find_issue(str(ref.get("key") or ref.get("id") or ""))
        if issue is None:
            raise JiraApiError(404, [f"Issue Does Not Exist ({side})"])
        sides.append(issue)
    link, changes = ops.create_link(ctx.st, ctx.actor, lt.id, sides[0], sides[1])
    comment = body.get("comment")
    if isinstance(comment, dict) and isinstance(comment.get("body"), str):
        changes += ops.add_comment(ctx.st, ctx.actor, sides[0], comment["body"])[1]
    return Reply(201, None, {"Location": ctx.view.rest(f"issueLink/{link.id}")}, changes)


@route("issueLink/<link_id>", "DELETE")
def delete_link(ctx: Ctx, link_id: str) -> Reply:
    before = len(ctx.st.links)
    ctx.st.links[:] = [lk for lk in ctx.st.links if lk.id != link_id]
    if len(ctx.st.links) == before:
        raise JiraApiError(404, ["No issue link with id '" + link_id + "' exists."])
    return Reply(204)


@route("issue/<issue_ref>/remotelink")
def list_remote_links(ctx: Ctx, issue_ref: str) -> Reply:
    issue = ctx.st.issue(issue_ref)
    gid = ctx.req.args.get("globalId")
    links = [r for r in issue.remote_links if gid is None or r.global_id == gid]
    return Reply(body=[render.remote_link(r, issue, ctx.view) for r in links])


@route("issue/<issue_ref>/remotelink", "POST")
def add_remote_link(ctx: Ctx, issue_ref: str) -> Reply:
    issue = ctx.st.issue(issue_ref)
    link, created = ops.upsert_remote_link(ctx.st, issue, ctx.json())
    return Reply(
        201 if created else 200,
        {"id": link.id, "self": ctx.view.rest(f"issue/{issue.id}/remotelink/{link.id}")},
    )


def _search_params(ctx: Ctx) -> dict[str, Any]:
    """GET passes query args (``fields`` possibly repeated), POST a JSON body."""
    if ctx.req.method == "POST":
        body = ctx.json()
        fields = body.get("fields")
        return {
            "jql": body.get("jql") or "",
            "fields": fields if fields else None,
            "expand": body.get("expand"),
            "maxResults": body.get("maxResults"),
            "startAt": body.get("startAt") or 0,
            "nextPageToken": body.get("nextPageToken"),
        }
    a = ctx.req.args
    return {
        "jql": a.get("jql", ""),
        "fields": ctx.arg_list("fields") or None,
        "expand": a.get("expand"),
        "maxResults": a.get("maxResults", type=int),
        "startAt": a.get("startAt", 0, type=int),
        "nextPageToken": a.get("nextPageToken"),
    }


def _expand(value: Any) -> str | None:
    return ",".join(value) if isinstance(value, list) else value


@route("search", "GET", "POST")
def search_dc(ctx: Ctx) -> Reply:
    if ctx.cloud:
        raise JiraApiError(
            410,
            [
                "The requested API has been removed. Please migrate to the "
                "/rest/api/3/search/jql API."
            ],
        )
    p = _search_params(ctx)
    _, found = jql.run(p["jql"], ctx.st, ctx.actor)
    size = min(p["maxResults"] if p["maxResults"] is not None else 50, ctx.settings.dc_page_cap)
    start = int(p["startAt"])
    page = found[start : start + size]
    return Reply(
        body={
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(found),
            "issues": [
                render.issue(
                    i,
                    ctx.st,
                    ctx.view,
                    fields=p["fields"],
                    expand=_expand(p["expand"]),
                    default_fields="*navigable",
                )
                for i in page
            ],
        }
    )


def _token(offset: int, query: str) -> str:
    raw = json.dumps({"o": offset, "q": hashlib.sha1(query.encode()).hexdigest()[:12]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _offset(token: str, query: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["q"] == hashlib.sha1(query.encode()).hexdigest()[:12]:
            return int(data["o"])
    except (ValueError, KeyError, TypeError):
        pass
    raise JiraApiError(400, ["The provided next page token is invalid or expired."])


@route("search/jql", "GET", "POST")
def search_cloud(ctx: Ctx) -> Reply:
    """Enhanced search: token paging, no ``total``, and bounded JQL only."""
    if not ctx.cloud:
        raise JiraApiError(404, ["null for uri: " + ctx.req.url])
    p = _search_params(ctx)
    q, found = jql.run(p["jql"], ctx.st, ctx.actor)
    if q.predicate is None:
        raise JiraApiError(
            400,
            [
                "Unbounded JQL queries are not allowed here. Please add a "
                "search restriction to your query."
            ],
        )
    start = _offset(p["nextPageToken"], p["jql"]) if p["nextPageToken"] else 0
    size = min(p["maxResults"] or 50, ctx.settings.cloud_page_cap)
    page = found[start : start + size]
    is_last = start + size >= len(found)
    body: dict[str, Any] = {
        "issues": [
            render.issue(
                i,
                ctx.st,
                ctx.view,
                fields=p["fields"],
                expand=_expand(p["expand"]),
                default_fields="id",
            )
            for i in page
        ]
    }
    if not is_last:  # real Cloud omits the key on the last page (JRACLOUD-92184)
        body["nextPageToken"] = _token(start + size, p["jql"])
    body["isLast"] = is_last
    return Reply(body=body)
