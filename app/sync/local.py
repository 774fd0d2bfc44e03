"""The tracker used when no Jira is configured: everything stays inside Hindsight.

With no Jira, `record_change` writes no outbox rows, so in the product this
tracker is only asked for its identity (by `sync check`, `sync push`). It
still implements the whole port with an in-process dictionary, because the
outbound and reconcile engines are written against the port and this is the
simplest tracker that behaves like one (labels, keys, statuses).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .tracker import (
    CreateOutcome,
    Flavour,
    IssueDraft,
    Link,
    RemoteChange,
    RemoteIssue,
    ServerInfo,
    TrackerError,
    TransitionOption,
    UserRef,
)

LOCAL_USER = UserRef(account_id="hindsight", name="hindsight", display_name="Hindsight")


class LocalTracker:
    def __init__(self, project: str = "LOCAL") -> None:
        self.project = project
        self.issues: dict[str, RemoteIssue] = {}
        self.links: list[tuple[str, Link]] = []
        self.comments: list[tuple[str, str]] = []
        self._numbers = itertools.count(1)

    @property
    def flavour(self) -> Flavour:
        return "local"

    def server_info(self) -> ServerInfo:
        return ServerInfo("local", "hindsight", datetime.now(UTC))

    def myself(self) -> UserRef:
        return LOCAL_USER

    def issue(self, key: str) -> RemoteIssue:
        issue = self._issue(key)
        linked = tuple(link.target for source, link in self.links if source == key)
        return replace(issue, linked_keys=linked)

    def find_by_labels(self, labels: Sequence[str]) -> dict[str, RemoteIssue]:
        wanted = set(labels)
        found: dict[str, RemoteIssue] = {}
        for issue in self.issues.values():
            for label in issue.labels:
                if label in wanted:
                    found.setdefault(label, issue)
        return found

    def find_all_by_labels(self, labels: Sequence[str]) -> dict[str, list[RemoteIssue]]:
        wanted = set(labels)
        found: dict[str, list[RemoteIssue]] = {}
        for issue in self.issues.values():
            for label in wanted.intersection(issue.labels):
                found.setdefault(label, []).append(issue)
        return found

    def create_issues(self, drafts: Sequence[IssueDraft]) -> list[CreateOutcome]:
        out = []
        for d in drafts:
            n = next(self._numbers)
            issue = RemoteIssue(
                key=f"{self.project}-{n}",
                id=str(n),
                labels=tuple(d.labels),
                status_category="new",
                priority=d.priority,
                duedate=d.duedate,
                assignee=d.assignee,
                updated=datetime.now(UTC),
            )
            self.issues[issue.key] = issue
            if d.link:
                self.links.append((issue.key, d.link))
            out.append(CreateOutcome(d.ref, issue=issue))
        return out

    def _issue(self, key: str) -> RemoteIssue:
        if key not in self.issues:
            raise TrackerError("Issue does not exist", status=404)
        return self.issues[key]

    def update_fields(self, key: str, fields: dict[str, Any]) -> None:
        issue = self._issue(key)
        changes: dict[str, Any] = {k: fields[k] for k in ("priority", "duedate") if k in fields}
        if "assignee" in fields:
            changes["assignee"] = (
                UserRef(account_id=fields["assignee"]) if fields["assignee"] else None
            )
        self.issues[key] = replace(issue, updated=datetime.now(UTC), **changes)

    def transitions(self, key: str) -> list[TransitionOption]:
        """A workflow with one global transition into each category."""
        current = self._issue(key).status_category
        return [
            TransitionOption(c, c, c.title(), c, c == "done")
            for c in ("new", "indeterminate", "done")
            if c != current
        ]

    def transition(self, key: str, option: TransitionOption, resolution: str | None) -> None:
        issue = self._issue(key)
        if issue.status_category == option.to_category:
            raise TrackerError(
                f"Transition id '{option.id}' is not valid for this issue.", status=400
            )
        self.issues[key] = replace(
            issue,
            status_category=option.to_category,
            status_name=option.to_name,
            resolution=resolution if option.takes_resolution else None,
            updated=datetime.now(UTC),
        )

    def add_link(self, key: str, link: Link) -> None:
        self.links.append((key, link))

    def add_comment(self, key: str, text: str) -> None:
        self._issue(key)
        self.comments.append((key, text))

    def changed_since(
        self, label: str, since_minutes: int | None, page_size: int = 100
    ) -> Iterator[list[RemoteChange]]:
        now = datetime.now(UTC)
        cutoff = None if since_minutes is None else now - timedelta(minutes=since_minutes)
        hits = [
            RemoteChange.of_issue(i, now)
            for i in self.issues.values()
            if label in i.labels and (cutoff is None or (i.updated and i.updated >= cutoff))
        ]
        for n in range(0, len(hits), page_size):
            yield hits[n : n + page_size]

    def create_metadata(self, issue_type: str) -> dict[str, dict[str, Any]]:
        return {}

    def close(self) -> None:
        return None
