"""The in-memory store and its lookups; mutations live in ``ops.py``.

One re-entrant lock guards everything. Request handlers hold it for their whole body,
so every response is a consistent snapshot, and tests poking at ``srv.state`` from the
test thread should take it too (``with srv.state.lock:``).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from . import render
from .catalog import (
    ALWAYS_REQUIRED,
    DEFAULT_PROJECTS,
    DEFAULT_USERS,
    SCREEN_FIELDS,
    Catalog,
    ProjectSpec,
    UserSpec,
    make_user,
)
from .model import (
    Clock,
    FieldDef,
    Issue,
    IssueLink,
    IssueType,
    JiraApiError,
    LinkType,
    Mode,
    Priority,
    Project,
    Resolution,
    Status,
    Transition,
    User,
    Workflow,
    utcnow,
)
from .render import View

NOT_FOUND = "Issue does not exist or you do not have permission to see it."


class JiraState:
    def __init__(
        self,
        mode: Mode,
        *,
        users: Sequence[UserSpec] = DEFAULT_USERS,
        projects: Sequence[ProjectSpec] = DEFAULT_PROJECTS,
        clock: Clock = utcnow,
        base_url: str = "http://jira.invalid",
        catalog: Catalog | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.mode: Mode = mode
        self.clock = clock
        self.base_url = base_url
        self.catalog = catalog or Catalog()
        self.search_lag_seconds = 0.0  # see `indexed`
        # Some sites (a create screen without the Linked Issues field, an app, a workflow
        # post-function) create the issue but silently drop `update.issuelinks`.
        self.drop_links_on_create = False
        self.users: list[User] = []
        self.users_by_id: dict[str, User] = {}
        for spec in users:
            self.add_user(spec)
        self.projects: list[Project] = []
        self.issues_by_id: dict[int, Issue] = {}
        self.issues_by_key: dict[str, Issue] = {}
        self.links: list[IssueLink] = []
        self._counters: dict[str, Iterator[int]] = {}
        for p in projects:
            self.add_project(p)

    # -- setup -----------------------------------------------------------------------
    def add_user(self, spec: UserSpec) -> User:
        with self.lock:
            u = make_user(spec, len(self.users))
            self.users.append(u)
            self.users_by_id[u.account_id] = u
            return u

    def add_project(self, spec: ProjectSpec) -> Project:
        with self.lock:
            types = [self.find_issue_type(n) for n in spec.issue_types]
            p = Project(
                id=str(10000 + len(self.projects)),
                key=spec.key,
                name=spec.name,
                lead=self.users[0].account_id,
                issue_types=[t.id for t in types if t],
            )
            for t in types:
                if t is not None:
                    p.screens[t.id] = {f: f in ALWAYS_REQUIRED for f in SCREEN_FIELDS}
                    # Cloud: any non-epic may have a parent; DC: only sub-tasks (epics use
                    # the "Epic Link" field there). Sub-tasks always need one.
                    if t.subtask or (self.mode == "cloud" and t.level < 1):
                        p.screens[t.id]["parent"] = t.subtask
            self.projects.append(p)
            return p

    def add_project_key(self, key: str) -> Project:
        return self.add_project(ProjectSpec(key, key.title()))

    def set_required(
        self, issuetype: str, fields: Sequence[str], project: str | None = None
    ) -> None:
        """Mark fields required on the create screen, on top of summary/project/issuetype."""
        with self.lock:
            for p in self.projects if project is None else [self.project(project)]:
                it = self.find_issue_type(issuetype)
                if it is None or it.id not in p.screens:
                    raise KeyError(f"issue type {issuetype!r} not in project {p.key}")
                screen = p.screens[it.id]
                for fid in screen:
                    screen[fid] = fid in ALWAYS_REQUIRED or fid in fields
                missing = set(fields) - screen.keys()
                if missing:
                    raise KeyError(f"not on the screen: {sorted(missing)}")

    def next_id(self, kind: str) -> int:
        return next(self._counters.setdefault(kind, itertools.count(10000)))

    def now_ms(self) -> int:
        return int(self.clock().timestamp() * 1000)

    def view(self, api: str = "2") -> View:
        return View(self.base_url, self.mode, api)

    # -- catalogue lookups ---------------------------------------------------------------
    def field_or_none(self, fid: str) -> FieldDef | None:
        return next((f for f in self.catalog.fields if f.id == fid), None)

    def field(self, fid: str) -> FieldDef:
        f = self.field_or_none(fid)
        if f is None:
            raise KeyError(fid)
        return f

    def status(self, sid: str) -> Status:
        return next(s for s in self.catalog.statuses if s.id == sid)

    def status_by_name(self, name: str) -> Status | None:
        return next((s for s in self.catalog.statuses if s.name.lower() == name.lower()), None)

    def issue_type(self, tid: str) -> IssueType:
        return next(t for t in self.catalog.issue_types if t.id == tid)

    def find_issue_type(self, ref: str | dict[str, Any]) -> IssueType | None:
        if isinstance(ref, str):
            ref = {"name": ref}
        return next(
            (
                t
                for t in self.catalog.issue_types
                if t.id == str(ref.get("id")) or t.name == ref.get("name")
            ),
            None,
        )

    def priority(self, pid: str) -> Priority:
        return next(p for p in self.catalog.priorities if p.id == pid)

    def resolution(self, rid: str) -> Resolution:
        return next(r for r in self.catalog.resolutions if r.id == rid)

    def find_resolution(self, ref: dict[str, Any] | str) -> Resolution | None:
        if isinstance(ref, str):
            ref = {"name": ref}
        return next(
            (
                r
                for r in self.catalog.resolutions
                if r.id == str(ref.get("id")) or r.name == ref.get("name")
            ),
            None,
        )

    def link_type(self, lid: str) -> LinkType:
        return next(t for t in self.catalog.link_types if t.id == lid)

    def find_link_type(self, ref: dict[str, Any]) -> LinkType | None:
        return next(
            (
                t
                for t in self.catalog.link_types
                if t.id == str(ref.get("id")) or t.name == ref.get("name")
            ),
            None,
        )

    def bind_workflow(self, issuetype: str, workflow: str) -> None:
        """Give an issue type another workflow (before any issue of it exists)."""
        if not any(w.name == workflow for w in self.catalog.workflows):
            raise KeyError(f"unknown workflow {workflow!r}")
        self.catalog.issue_types = [
            replace(t, workflow=workflow) if t.name == issuetype else t
            for t in self.catalog.issue_types
        ]

    def indexed(self, issue: Issue) -> bool:
        """The search index lags behind writes (Cloud: seconds, sometimes a minute): an
        issue is found by JQL only `search_lag_seconds` after it was created."""
        lag = self.search_lag_seconds
        return lag <= 0 or (self.clock() - issue.created).total_seconds() >= lag

    def workflow_of_type(self, it: IssueType) -> Workflow:
        return next(w for w in self.catalog.workflows if w.name == it.workflow)

    def workflow(self, issue: Issue) -> Workflow:
        return self.workflow_of_type(self.issue_type(issue.issuetype_id))

    def transitions(self, issue: Issue) -> list[Transition]:
        """Transitions offered from the current status; global ones never loop to itself."""
        return [
            t
            for t in self.workflow(issue).transitions
            if (t.sources is None and t.to != issue.status_id)
            or (t.sources is not None and issue.status_id in t.sources)
        ]

    # -- projects, issues, users --------------------------------------------------------
    def find_project(self, ref: str | dict[str, Any]) -> Project | None:
        if isinstance(ref, dict):
            ref = str(ref.get("id") or ref.get("key") or "")
        return next((p for p in self.projects if ref in (p.id, p.key)), None)

    def project(self, ref: str) -> Project:
        p = self.find_project(ref)
        if p is None:
            raise JiraApiError(404, [f"No project could be found with key '{ref}'."])
        return p

    def find_issue(self, ref: str) -> Issue | None:
        if ref.isdigit():
            return self.issues_by_id.get(int(ref))
        return self.issues_by_key.get(ref.upper())

    def issue(self, ref: str) -> Issue:
        i = self.find_issue(ref)
        if i is None:
            raise JiraApiError(404, [NOT_FOUND])
        return i

    def links_of(self, issue: Issue) -> list[IssueLink]:
        return [lk for lk in self.links if issue.id in (lk.inward_id, lk.outward_id)]

    def find_user(self, ident: str) -> User | None:
        """Match any identifier a caller might hold: accountId, name, key or email."""
        return next(
            (u for u in self.users if ident in (u.account_id, u.name, u.key, u.email)), None
        )

    def search_users(self, term: str) -> list[User]:
        t = term.lower()
        return [
            u
            for u in self.users
            if u.active
            and (
                u.email.lower().startswith(t)
                or u.name.lower().startswith(t)
                or any(w.lower().startswith(t) for w in u.display_name.split())
                or u.display_name.lower().startswith(t)
                or u.account_id == term
            )
        ]

    def screen(self, issue: Issue) -> dict[str, bool]:
        return self.project(issue.project_id).screens[issue.issuetype_id]

    # -- snapshots for webhooks -------------------------------------------------------------
    def webhook_issue(self, issue: Issue) -> dict[str, Any]:
        """Webhooks carry the v2 representation with every field except comments."""
        return render.issue(issue, self, self.view("2"), fields=["*all", "-comment"])

    def webhook_user(self, u: User) -> dict[str, Any]:
        return render.user(u, self.view("2")) or {}
