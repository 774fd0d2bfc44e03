"""The port: everything the rest of Hindsight may ask of an issue tracker.

Values cross this boundary in a tracker-neutral shape (plain strings, dates as
ISO text, users as a `UserRef` carrying both Cloud and Data Center ids), so
the outbox, inbound and reconcile code never learns REST shapes (a webhook
payload and a search hit both arrive as a `RemoteChange`), and a second
tracker would need a new adapter, not changes all over the code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

Flavour = Literal["cloud", "dc", "local"]
ChangeKind = Literal["created", "updated", "deleted", "other"]
# The fields whose tracker-side changes flow back into Hindsight, by neutral name (an
# action takes all four; `mapping.INBOUND_FIELDS` says which each entity takes);
# resolution travels with status.
SYNCED_FIELDS: tuple[str, ...] = ("status", "assignee", "duedate", "priority")


@dataclass(frozen=True)
class UserRef:
    """A tracker user: Cloud knows only `account_id`, Data Center `name`/`key`."""

    account_id: str | None = None
    name: str | None = None
    key: str | None = None
    display_name: str | None = None
    email: str | None = None  # not an id: only for recognising our own login name

    def ids(self) -> set[str]:
        return {v for v in (self.account_id, self.name, self.key) if v}

    def matches(self, other: UserRef | None) -> bool:
        return other is not None and bool(self.ids() & other.ids())


@dataclass(frozen=True)
class StatusTarget:
    """Where an issue should end up: a status category, optionally a named status."""

    category: str  # new | indeterminate | done
    resolution: str | None = None
    status_name: str | None = None

    def token(self) -> str:
        """The snapshot form: equal tokens mean no transition is needed."""
        return "/".join(p or "" for p in (self.category, self.resolution, self.status_name))

    @classmethod
    def from_token(cls, token: str) -> StatusTarget:
        category, resolution, name = ([*token.split("/"), "", ""])[:3]
        return cls(category, resolution or None, name or None)


@dataclass(frozen=True)
class TransitionOption:
    """One transition the workflow offers from an issue's current status."""

    id: str
    to_id: str
    to_name: str
    to_category: str | None
    takes_resolution: bool = False  # its screen has a resolution field
    name: str = ""  # the transition's own name ("Won't Do", "Resolve Issue")
    resolutions: tuple[str, ...] = ()  # the screen's allowed resolutions (empty: any)


@dataclass(frozen=True)
class Link:
    """A link created with the issue: `target` is the key of the issue it points to."""

    type_name: str
    target: str
    outward: bool = True  # "this issue <outward verb> target"


@dataclass
class IssueDraft:
    """An issue to create; `ref` is Hindsight's own handle to match results back."""

    ref: str
    issue_type: str
    summary: str
    labels: list[str]
    description: str = ""
    priority: str | None = None
    duedate: str | None = None
    assignee: UserRef | None = None
    custom: dict[str, Any] = field(default_factory=dict)  # field id -> REST value
    defaults: dict[str, Any] = field(default_factory=dict)  # REST values for fields left empty
    link: Link | None = None
    parent: str | None = None  # sub-task parent key


@dataclass(frozen=True)
class RemoteIssue:
    """An issue as the tracker reports it, in neutral form."""

    key: str
    id: str
    labels: tuple[str, ...] = ()
    status_name: str | None = None
    status_category: str | None = None
    resolution: str | None = None
    priority: str | None = None
    duedate: str | None = None
    assignee: UserRef | None = None
    updated: datetime | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    linked_keys: tuple[str, ...] = ()
    summary: str | None = None
    description: str | None = None

    def status_token(self) -> str:
        return StatusTarget(self.status_category or "new", self.resolution).token()


@dataclass(frozen=True)
class RemoteState:
    """The tracker's values for the synced fields, as a webhook or a search shows them."""

    status_name: str | None = None
    status_category: str | None = None
    resolution: str | None = None
    assignee: UserRef | None = None
    duedate: str | None = None
    priority: str | None = None

    @classmethod
    def of(cls, issue: RemoteIssue) -> RemoteState:
        return cls(
            issue.status_name,
            issue.status_category,
            issue.resolution,
            issue.assignee,
            issue.duedate,
            issue.priority,
        )


@dataclass(frozen=True)
class RemoteChange:
    """One change made in the tracker, in neutral form: from a webhook or a search hit.

    `version` orders changes to one issue (`(time in ms, tracker sequence)`), so
    a change older than what was already applied to a field can be dropped;
    `touched` names the synced fields the change is about (a search hit, which
    has no changelog, touches all of them).
    """

    issue_id: str
    issue_key: str
    kind: ChangeKind
    when: datetime
    version: tuple[int, int]
    state: RemoteState
    touched: frozenset[str] = frozenset()
    actor: UserRef | None = None
    labels: tuple[str, ...] = ()  # a search hit's labels: how reconcile spots duplicates

    @classmethod
    def of_issue(cls, issue: RemoteIssue, now: datetime) -> RemoteChange:
        """A search hit: the issue as it is now, every synced field in question."""
        when = issue.updated or now
        return cls(
            issue.id,
            issue.key,
            "updated",
            when,
            (int(when.timestamp() * 1000), 0),
            RemoteState.of(issue),
            frozenset(SYNCED_FIELDS),
            labels=issue.labels,
        )


@dataclass(frozen=True)
class CreateOutcome:
    """One element of a (bulk) create: either an issue or the tracker's error text."""

    ref: str
    issue: RemoteIssue | None = None
    error: str | None = None


@dataclass(frozen=True)
class FieldProblem:
    """One reason `sync check` gives for a field the tracker would reject."""

    entity_type: str
    field: str
    message: str


@dataclass(frozen=True)
class ServerInfo:
    flavour: Flavour
    version: str
    server_time: datetime | None


class TrackerError(Exception):
    """A failed tracker call, classified once so callers never parse HTTP themselves.

    `status` is None for network failures (timeouts, dropped connections), which
    are transient: the request may or may not have taken effect.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Worth trying again: no answer, a server failure, or a 4xx that says "not now"
        (408 request timeout, 409 conflict with a concurrent edit, 429 rate limit). Every
        other 4xx is permanent: the same request will be refused again."""
        return self.status is None or self.status in (408, 409, 429) or self.status >= 500

    @property
    def tracker_down(self) -> bool:
        """What the circuit breaker counts: no answer at all, or a 5xx. A 429 or 408 is the
        tracker answering (busy), not the tracker being unreachable."""
        return self.status is None or self.status >= 500

    @property
    def refuses_credentials(self) -> bool:
        """401 or 403: Jira refuses who we are (a revoked or rotated token) or what we may do
        (a bot that lost a permission). A problem of the whole connection, not of the row
        being pushed: the outbox drain treats it like an outage (it counts towards the
        breaker, and no row is dead-lettered or charged an attempt for it)."""
        return self.status in (401, 403)

    @property
    def outcome_unknown(self) -> bool:
        """The request may have been carried out: no answer, or a proxy/server failure.
        429 and 503 are refusals before any work, so they do not count."""
        return self.status is None or self.status in (500, 502, 504)

    @property
    def not_found(self) -> bool:
        return self.status == 404

    def __str__(self) -> str:
        prefix = f"HTTP {self.status}" if self.status is not None else "network error"
        return f"{prefix}: {self.message}"


class Tracker(Protocol):
    """What sync needs from a tracker; `app.sync.jira.JiraTracker` is the real one."""

    @property
    def flavour(self) -> Flavour: ...

    def server_info(self) -> ServerInfo: ...

    def myself(self) -> UserRef: ...

    def issue(self, key: str) -> RemoteIssue: ...

    def find_by_labels(self, labels: Sequence[str]) -> dict[str, RemoteIssue]:
        """Issues carrying any of `labels`, keyed by that label (first wins)."""
        ...

    def find_all_by_labels(self, labels: Sequence[str]) -> dict[str, list[RemoteIssue]]:
        """Every issue carrying each of `labels`, duplicates included."""
        ...

    def create_issues(self, drafts: Sequence[IssueDraft]) -> list[CreateOutcome]:
        """Create in as few calls as the tracker allows; one outcome per draft, in order."""
        ...

    def update_fields(self, key: str, fields: dict[str, Any]) -> None:
        """Set neutral fields (summary, description, priority, duedate, assignee, custom)."""
        ...

    def transitions(self, key: str) -> list[TransitionOption]:
        """What the workflow offers from the issue's current status."""
        ...

    def transition(self, key: str, option: TransitionOption, resolution: str | None) -> None: ...

    def add_link(self, key: str, link: Link) -> None: ...

    def add_comment(self, key: str, text: str) -> None:
        """A plain-text comment on the issue (reminders and escalations, issue 8)."""
        ...

    def changed_since(
        self, label: str, since_minutes: int | None, page_size: int = 100
    ) -> Iterator[list[RemoteChange]]:
        """Pages of issues with `label` updated in the last `since_minutes` (None: all)."""
        ...

    def create_metadata(self, issue_type: str) -> dict[str, dict[str, Any]]:
        """Field id -> {required, name, allowed} on the create screen of `issue_type`."""
        ...

    def close(self) -> None: ...
