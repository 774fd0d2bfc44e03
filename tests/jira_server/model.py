"""Domain objects of the fake Jira, kept as plain dataclasses.

Everything here is deliberately dumb data: behaviour lives in ``state.py`` (mutations),
``render.py`` (JSON shapes) and ``fields.py`` (input validation), so the shapes a real
Jira sends can be read in one place without wading through storage details.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["cloud", "dc"]
Clock = Callable[[], dt.datetime]


class JiraApiError(Exception):
    """A Jira-shaped error response; raising it anywhere in a handler answers the request.

    Jira reports field problems in ``errors`` (field id -> message) and everything else in
    ``errorMessages``; clients (and ``jira.exceptions``) parse both, so we keep both.
    """

    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {messages or ''} {errors or ''}")
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"errorMessages": self.messages, "errors": self.errors}


def jira_time(t: dt.datetime) -> str:
    """Format like Jira does (``2024-01-01T12:00:00.000+0000``): millis and a colon-less offset,
    which ``datetime.fromisoformat`` before 3.11 could not parse - a classic client bug."""
    t = t.astimezone(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ManualClock:
    """A settable clock so tests about "updated since" do not need to sleep."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 1.0) -> dt.datetime:
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)
            return self._now

    def set(self, when: dt.datetime) -> None:
        with self._lock:
            self._now = when


@dataclass
class User:
    """A Jira user; Cloud identifies it by ``account_id``, Data Center by ``name``/``key``."""

    account_id: str
    name: str
    key: str
    display_name: str
    email: str
    token: str
    active: bool = True
    time_zone: str = "Etc/UTC"


@dataclass(frozen=True)
class StatusCategory:
    id: int
    key: str  # new / indeterminate / done - the only stable way to ask "is it finished?"
    name: str
    color: str


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: str  # StatusCategory.key


@dataclass(frozen=True)
class Transition:
    """A workflow edge; ``sources`` is None for global ("any status") transitions."""

    id: str
    name: str
    to: str  # Status.id
    sources: frozenset[str] | None = None
    screen: tuple[str, ...] = ()  # fields settable during the transition
    default_resolution: str | None = None  # resolution name a post-function sets
    clears_resolution: bool = False
    event_type: str = "issue_generic"  # issue_event_type_name of the webhook it fires


@dataclass(frozen=True)
class Workflow:
    name: str
    initial: str  # Status.id
    transitions: tuple[Transition, ...]


@dataclass(frozen=True)
class Option:
    id: str
    value: str


@dataclass(frozen=True)
class FieldDef:
    """A field as ``GET /field`` describes it; ``kind`` drives validation and rendering."""

    id: str
    name: str
    kind: str  # string, text, priority, labels, user, date, select, issuelinks, readonly
    schema: dict[str, Any]
    custom: bool = False
    options: tuple[Option, ...] = ()
    navigable: bool = True

    @property
    def clause_names(self) -> list[str]:
        if self.custom:
            return [f"cf[{self.id.removeprefix('customfield_')}]", self.name]
        return [self.id]


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    workflow: str
    description: str = ""
    level: int = 0  # hierarchy: -1 sub-task, 0 standard, 1 epic; a parent is one level up

    @property
    def subtask(self) -> bool:
        return self.level < 0


@dataclass(frozen=True)
class Priority:
    id: str
    name: str
    color: str


@dataclass(frozen=True)
class Resolution:
    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class LinkType:
    id: str
    name: str
    inward: str
    outward: str


@dataclass
class Project:
    id: str
    key: str
    name: str
    lead: str  # account_id
    issue_types: list[str]  # IssueType.id
    # (issue type id) -> {field id: required}; the create/edit screen of that issue type
    screens: dict[str, dict[str, bool]] = field(default_factory=dict)
    next_number: int = 1


@dataclass(frozen=True)
class ChangeItem:
    """One line of a changelog entry, exactly the keys Jira puts in ``changelog.items``."""

    field: str
    field_id: str
    fieldtype: str  # "jira" for system fields, "custom" for custom fields
    from_: str | None
    from_string: str | None
    to: str | None
    to_string: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "fieldtype": self.fieldtype,
            "fieldId": self.field_id,
            "from": self.from_,
            "fromString": self.from_string,
            "to": self.to,
            "toString": self.to_string,
        }


@dataclass
class History:
    id: str
    author: str  # account_id
    created: dt.datetime
    items: list[ChangeItem]


@dataclass
class Comment:
    id: str
    author: str
    body: str  # plain text; v3 renders it as ADF
    created: dt.datetime
    updated: dt.datetime


@dataclass
class RemoteLink:
    id: int
    object: dict[str, Any]
    global_id: str | None = None
    application: dict[str, Any] | None = None
    relationship: str | None = None


@dataclass
class IssueLink:
    """Stored the way ``POST /issueLink`` names the sides; each issue renders the *other* one."""

    id: str
    type_id: str
    inward_id: int
    outward_id: int


@dataclass
class Issue:
    id: int
    key: str
    project_id: str
    issuetype_id: str
    status_id: str
    creator: str
    created: dt.datetime
    updated: dt.datetime
    status_changed: dt.datetime
    values: dict[str, Any] = field(default_factory=dict)  # field id -> stored value
    resolution_id: str | None = None
    resolution_date: dt.datetime | None = None
    comments: list[Comment] = field(default_factory=list)
    history: list[History] = field(default_factory=list)
    remote_links: list[RemoteLink] = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    """A committed change, captured with the issue snapshot a webhook for it must carry."""

    event: str  # webhookEvent, e.g. jira:issue_updated
    issue: dict[str, Any] | None
    user: dict[str, Any] | None
    timestamp_ms: int
    items: tuple[ChangeItem, ...] = ()
    changelog_id: str | None = None
    comment: dict[str, Any] | None = None
    issue_event_type_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # other top-level keys, e.g. issueLink
