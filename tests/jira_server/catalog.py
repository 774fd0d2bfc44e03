"""The fixed configuration a fresh fake Jira starts with (statuses, workflows, fields, ...).

Ids follow what a new Jira site really hands out (priority 1-5, status 10000/3/10001,
customfield_100xx), so code that accidentally hard-codes an id against a real site
behaves the same way here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from .model import (
    FieldDef,
    IssueType,
    LinkType,
    Option,
    Priority,
    Resolution,
    Status,
    StatusCategory,
    Transition,
    User,
    Workflow,
)

CATEGORIES = {
    "new": StatusCategory(2, "new", "To Do", "blue-gray"),
    "indeterminate": StatusCategory(4, "indeterminate", "In Progress", "yellow"),
    "done": StatusCategory(3, "done", "Done", "green"),
}

STATUSES = [
    Status("10000", "To Do", "new"),
    Status("3", "In Progress", "indeterminate"),
    Status("10001", "Done", "done"),
    Status("1", "Open", "new"),
    Status("4", "Reopened", "new"),
    Status("5", "Resolved", "done"),
    Status("6", "Closed", "done"),
]

_ACTIVE_CLASSIC = frozenset({"1", "3", "4"})

WORKFLOWS = [
    # Company-managed "simplified" workflow: global transitions 11/21/31 (what Cloud creates).
    Workflow(
        "simplified",
        initial="10000",
        transitions=(
            Transition("11", "To Do", "10000", clears_resolution=True),
            Transition("21", "In Progress", "3", clears_resolution=True),
            Transition("31", "Done", "10001", screen=("resolution",), default_resolution="Done"),
        ),
    ),
    # The classic "jira" workflow: transitions depend on the current status.
    Workflow(
        "classic",
        initial="1",
        transitions=(
            Transition(
                "4", "Start Progress", "3", frozenset({"1", "4"}), event_type="issue_work_started"
            ),
            Transition(
                "301", "Stop Progress", "1", frozenset({"3"}), event_type="issue_work_stopped"
            ),
            Transition(
                "5",
                "Resolve Issue",
                "5",
                _ACTIVE_CLASSIC,
                ("resolution",),
                "Done",
                event_type="issue_resolved",
            ),
            Transition(
                "2",
                "Close Issue",
                "6",
                _ACTIVE_CLASSIC | {"5"},
                ("resolution",),
                "Done",
                event_type="issue_closed",
            ),
            Transition(
                "3",
                "Reopen Issue",
                "4",
                frozenset({"5", "6"}),
                clears_resolution=True,
                event_type="issue_reopened",
            ),
        ),
    ),
    # A team-managed-style simplified workflow that broke category-only choosers: from To
    # Do the first done-category transition offered is "Won't Do" (no screen; a
    # post-function sets the resolution), and Done is only reachable via In Progress.
    Workflow(
        "wontdo-first",
        initial="10000",
        transitions=(
            Transition("41", "Won't Do", "10001", frozenset({"10000", "3"}), (), "Won't Do"),
            Transition("21", "In Progress", "3", frozenset({"10000"})),
            Transition("31", "Done", "10001", frozenset({"3"}), (), "Done"),
            Transition(
                "11", "Back to To Do", "10000", frozenset({"3", "10001"}), clears_resolution=True
            ),
            Transition("51", "Reopen", "3", frozenset({"10001"}), clears_resolution=True),
        ),
    ),
]
# The workflows a test may bind an issue type to (`JiraTestServer(workflows={"Task": ..})`):
# "classic" is Data Center's default jira workflow (Open, In Progress, Resolved, Closed,
# Reopened; Resolve and Close take a resolution on their screen).
WORKFLOW_NAMES = tuple(w.name for w in WORKFLOWS)

ISSUE_TYPES = [
    IssueType("10002", "Task", "simplified", "A small, distinct piece of work."),
    IssueType("10001", "Story", "simplified", "A user story."),
    IssueType("10004", "Bug", "classic", "A problem which impairs or prevents functions."),
    IssueType("10000", "Epic", "simplified", "A big user story that needs breaking down.", 1),
    IssueType("10003", "Sub-task", "simplified", "A small piece of a larger task.", -1),
]

PRIORITIES = [
    Priority("1", "Highest", "#d04437"),
    Priority("2", "High", "#f15C75"),
    Priority("3", "Medium", "#f79232"),
    Priority("4", "Low", "#707070"),
    Priority("5", "Lowest", "#999999"),
]
DEFAULT_PRIORITY = "3"

RESOLUTIONS = [
    Resolution("10000", "Done", "Work has been completed on this issue."),
    Resolution("10001", "Won't Do", "This issue won't be actioned."),
    Resolution("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
    Resolution("10003", "Cannot Reproduce", "This issue could not be reproduced."),
]

LINK_TYPES = [
    LinkType("10000", "Blocks", "is blocked by", "blocks"),
    LinkType("10001", "Cloners", "is cloned by", "clones"),
    LinkType("10002", "Duplicate", "is duplicated by", "duplicates"),
    LinkType("10003", "Relates", "relates to", "relates to"),
]

SEVERITY = "customfield_10050"
INCIDENT_KEY = "customfield_10051"


def _system(fid: str, name: str, kind: str, stype: str, **extra: object) -> FieldDef:
    schema: dict[str, object] = {"type": stype, "system": fid, **extra}
    return FieldDef(fid, name, kind, schema, navigable=fid != "comment")


FIELDS = [
    _system("summary", "Summary", "string", "string"),
    _system("description", "Description", "text", "string"),
    _system("issuetype", "Issue Type", "readonly", "issuetype"),
    _system("project", "Project", "readonly", "project"),
    _system("priority", "Priority", "priority", "priority"),
    _system("labels", "Labels", "labels", "array", items="string"),
    _system("assignee", "Assignee", "user", "user"),
    _system("reporter", "Reporter", "user", "user"),
    _system("creator", "Creator", "readonly", "user"),
    _system("duedate", "Due date", "date", "date"),
    _system("status", "Status", "readonly", "status"),
    _system("resolution", "Resolution", "readonly", "resolution"),
    _system("resolutiondate", "Resolved", "readonly", "datetime"),
    _system("created", "Created", "readonly", "datetime"),
    _system("updated", "Updated", "readonly", "datetime"),
    _system("statuscategorychangedate", "Status Category Changed", "readonly", "datetime"),
    _system("issuelinks", "Linked Issues", "issuelinks", "array", items="issuelinks"),
    _system("parent", "Parent", "parent", "issuelink"),
    _system("comment", "Comment", "readonly", "comments-page"),
    FieldDef(
        SEVERITY,
        "Severity",
        "select",
        {
            "type": "option",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
            "customId": 10050,
        },
        custom=True,
        options=tuple(Option(str(10100 + i), f"SEV{i + 1}") for i in range(4)),
    ),
    FieldDef(
        INCIDENT_KEY,
        "Incident key",
        "string",
        {
            "type": "string",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
            "customId": 10051,
        },
        custom=True,
    ),
]

# Fields on every create/edit screen; only these may be set through REST.
SCREEN_FIELDS = (
    "summary",
    "description",
    "issuetype",
    "project",
    "priority",
    "labels",
    "assignee",
    "reporter",
    "duedate",
    "issuelinks",
    SEVERITY,
    INCIDENT_KEY,
)
ALWAYS_REQUIRED = ("summary", "issuetype", "project")


@dataclass(frozen=True)
class UserSpec:
    """Seed data for a user; ids are derived so they look like what each flavour issues."""

    name: str
    display_name: str
    token: str | None = None
    email: str | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class ProjectSpec:
    key: str
    name: str
    issue_types: tuple[str, ...] = ("Task", "Story", "Bug", "Epic", "Sub-task")


@dataclass
class Catalog:
    statuses: list[Status] = field(default_factory=lambda: list(STATUSES))
    workflows: list[Workflow] = field(default_factory=lambda: list(WORKFLOWS))
    issue_types: list[IssueType] = field(default_factory=lambda: list(ISSUE_TYPES))
    priorities: list[Priority] = field(default_factory=lambda: list(PRIORITIES))
    resolutions: list[Resolution] = field(default_factory=lambda: list(RESOLUTIONS))
    link_types: list[LinkType] = field(default_factory=lambda: list(LINK_TYPES))
    fields: list[FieldDef] = field(default_factory=lambda: list(FIELDS))


DEFAULT_USERS = (
    UserSpec("alice", "Alice Example"),
    UserSpec("bob", "Bob Example"),
    UserSpec("carol", "Carol Example"),
)
DEFAULT_PROJECTS = (ProjectSpec("OPS", "Operations"), ProjectSpec("SRE", "Site Reliability"))


def make_user(spec: UserSpec, index: int) -> User:
    """Cloud account ids look like ``557058:<uuid>``; DC keys like ``JIRAUSER10100``."""
    return User(
        account_id=spec.account_id or f"557058:{uuid.uuid5(uuid.NAMESPACE_URL, spec.name)}",
        name=spec.name,
        key=f"JIRAUSER{10100 + index}",
        display_name=spec.display_name,
        email=spec.email or f"{spec.name}@example.com",
        token=spec.token or f"{spec.name}-token",  # API token (Cloud) / password or PAT (DC)
    )
