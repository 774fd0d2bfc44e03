"""Read-only metadata endpoints: server info, users, fields, projects, createmeta.

These are where Cloud and Data Center differ most in *shape* (page keys, user
identifiers, which createmeta API exists), which is what trips flavour-agnostic code.
"""

from __future__ import annotations

from typing import Any

from . import render
from .catalog import CATEGORIES
from .model import JiraApiError, Project, User, jira_time
from .routing import Ctx, Reply, route


@route("serverInfo")
def server_info(ctx: Ctx) -> Reply:
    if ctx.cloud:
        version, numbers, dtype = "1001.0.0-SNAPSHOT", [1001, 0, 0], "Cloud"
    else:
        numbers = list(ctx.settings.dc_version)
        version, dtype = ".".join(map(str, numbers)), ctx.settings.dc_deployment_type
    return Reply(
        body={
            "baseUrl": ctx.st.base_url,
            "version": version,
            "versionNumbers": numbers,
            "deploymentType": dtype,
            "buildNumber": 100_000 + numbers[0],
            "buildDate": "2024-01-01T00:00:00.000+0000",
            "serverTime": jira_time(ctx.st.clock()),
            "scmInfo": "0" * 40,
            "serverTitle": "Jira",
            "defaultLocale": {"locale": "en_US"},
            "serverTimeZone": "Etc/UTC",
        }
    )


@route("myself")
def myself(ctx: Ctx) -> Reply:
    body = render.user(ctx.actor, ctx.view) or {}
    return Reply(body=body | {"groups": {"size": 1, "items": []}})


@route("/rest/auth/1/session")
def session(ctx: Ctx) -> Reply:
    body = render.user(ctx.actor, ctx.st.view("latest")) or {}
    return Reply(
        body=body | {"loginInfo": {"loginCount": 1, "previousLoginTime": jira_time(ctx.st.clock())}}
    )


@route("/rest/applinks/latest/listApplicationlinks")
def application_links(ctx: Ctx) -> Reply:
    """``add_remote_link`` asks for these first; a site with no app links says so."""
    return Reply(body={"list": []})


@route("field")
def fields(ctx: Ctx) -> Reply:
    return Reply(body=[render.field_def(f) for f in ctx.st.catalog.fields])


@route("priority")
def priorities(ctx: Ctx) -> Reply:
    return Reply(body=[render.priority(p, ctx.view) for p in ctx.st.catalog.priorities])


@route("status")
def statuses(ctx: Ctx) -> Reply:
    return Reply(body=[render.status(s, ctx.view) for s in ctx.st.catalog.statuses])


@route("statuscategory")
def status_categories(ctx: Ctx) -> Reply:
    return Reply(body=[render.status_category(k, ctx.view) for k in CATEGORIES])


@route("issuetype")
def issue_types(ctx: Ctx) -> Reply:
    return Reply(body=[render.issue_type(t, ctx.view) for t in ctx.st.catalog.issue_types])


@route("resolution")
def resolutions(ctx: Ctx) -> Reply:
    return Reply(body=[render.resolution(r, ctx.view) for r in ctx.st.catalog.resolutions])


@route("issueLinkType")
def link_types(ctx: Ctx) -> Reply:
    return Reply(
        body={"issueLinkTypes": [render.link_type(t, ctx.view) for t in ctx.st.catalog.link_types]}
    )


@route("project")
def projects(ctx: Ctx) -> Reply:
    return Reply(body=[render.project(p, ctx.st, ctx.view) for p in ctx.st.projects])


@route("project/<project_ref>")
def project(ctx: Ctx, project_ref: str) -> Reply:
    return Reply(body=render.project(ctx.st.project(project_ref), ctx.st, ctx.view))


def _page(items: list[Any], ctx: Ctx, key: str) -> dict[str, Any]:
    start, size = ctx.int_arg("startAt", 0), ctx.int_arg("maxResults", 50)
    chunk = items[start : start + size]
    body = {"maxResults": size, "startAt": start, "total": len(items), key: chunk}
    if key == "values":  # DC pages say isLast; Cloud's createmeta pages do not
        body["isLast"] = start + len(chunk) >= len(items)
    return body


def _per_type_createmeta(ctx: Ctx) -> None:
    """The per-type createmeta endpoints came with Data Center 8.4; older Server and Data
    Center versions offer only the project-wide one (`issue/createmeta?expand=...`)."""
    if not ctx.cloud and ctx.settings.dc_version < (8, 4, 0):
        raise JiraApiError(404, ["null for uri: " + ctx.req.url])


@route("issue/createmeta/<project_ref>/issuetypes")
def createmeta_issuetypes(ctx: Ctx, project_ref: str) -> Reply:
    _per_type_createmeta(ctx)
    p = ctx.st.project(project_ref)
    types = [render.issue_type(ctx.st.issue_type(t), ctx.view) for t in p.issue_types]
    return Reply(body=_page(types, ctx, "issueTypes" if ctx.cloud else "values"))


@route("issue/createmeta/<project_ref>/issuetypes/<type_id>")
def createmeta_fields(ctx: Ctx, project_ref: str, type_id: str) -> Reply:
    _per_type_createmeta(ctx)
    p = ctx.st.project(project_ref)
    if type_id not in p.issue_types:
        raise JiraApiError(404, [f"Issue type with id '{type_id}' does not exist in project."])
    return Reply(
        body=_page(_field_metas(ctx, p, type_id), ctx, "fields" if ctx.cloud else "values")
    )


def _field_metas(ctx: Ctx, p: Project, type_id: str) -> list[dict[str, Any]]:
    it = ctx.st.issue_type(type_id)
    return [
        render.field_meta(ctx.st.field(fid), req, ctx.st, p, it, ctx.view)
        for fid, req in p.screens[type_id].items()
    ]


@route("issue/createmeta")
def createmeta_legacy(ctx: Ctx) -> Reply:
    """The old all-in-one createmeta: still on Cloud, removed in Data Center 9."""
    if not ctx.cloud and ctx.settings.dc_version >= (9, 0, 0):
        raise JiraApiError(404, ["null for uri: " + ctx.req.url])
    keys, ids = set(ctx.arg_list("projectKeys")), set(ctx.arg_list("projectIds"))
    type_ids, type_names = set(ctx.arg_list("issuetypeIds")), set(ctx.arg_list("issuetypeNames"))
    with_fields = "projects.issuetypes.fields" in ctx.req.args.get("expand", "")
    out = []
    for p in ctx.st.projects:
        if (keys or ids) and p.key not in keys and p.id not in ids:
            continue
        types = []
        for tid in p.issue_types:
            t = ctx.st.issue_type(tid)
            if (type_ids or type_names) and t.id not in type_ids and t.name not in type_names:
                continue
            entry = render.issue_type(t, ctx.view) | {"expand": "fields"}
            if with_fields:
                entry["fields"] = {m["fieldId"]: m for m in _field_metas(ctx, p, tid)}
            types.append(entry)
        out.append(
            render.project(p, ctx.st, ctx.view, full=False)
            | {"expand": "issuetypes", "issuetypes": types}
        )
    return Reply(body={"expand": "projects", "projects": out})


def _user_param(ctx: Ctx) -> User:
    if ctx.cloud:
        ident = ctx.req.args.get("accountId")
        if not ident:
            raise JiraApiError(400, ["The 'accountId' query parameter is required."])
        u = ctx.st.users_by_id.get(ident)
    else:
        ident = ctx.req.args.get("username") or ctx.req.args.get("key")
        if not ident:
            raise JiraApiError(
                400, ["Either the 'username' or the 'key' query parameters need to be provided"]
            )
        u = next((x for x in ctx.st.users if ident in (x.name, x.key)), None)
    if u is None:
        raise JiraApiError(404, [f"The user with the identifier '{ident}' does not exist."])
    return u


@route("user")
def user(ctx: Ctx) -> Reply:
    return Reply(body=render.user(_user_param(ctx), ctx.view))


@route("user/search")
def user_search(ctx: Ctx) -> Reply:
    """Cloud searches by ``query`` (GDPR); DC still by ``username``. Both return a bare list."""
    if ctx.cloud:
        term = ctx.req.args.get("query") or ctx.req.args.get("accountId")
        if not term:
            raise JiraApiError(400, ["One of 'accountId' or 'query' must be specified."])
    else:
        term = ctx.req.args.get("username")
        if not term:
            raise JiraApiError(400, ["The username query parameter was not provided"])
    found = ctx.st.search_users(term)
    start, size = ctx.int_arg("startAt", 0), ctx.int_arg("maxResults", 50)
    return Reply(body=[render.user(u, ctx.view) for u in found[start : start + size]])
