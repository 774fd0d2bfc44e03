"""Jira as an incident source: an incident issue's webhook deliveries as neutral activity.

Pure functions over Jira's webhook JSON (no I/O), beside `jira_payloads.py`, so that
nothing outside the adapter reads `issuetype`, `statusCategory`, `changelog.items` or
`comment.body`. The services get `IssueIncident` (what the issue is) and its
`IssueActivity` list (what happened, when, by whom) and decide what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from .jira_payloads import adf_to_text, delivery_time, parse_jira_time

ActivityKind = Literal["created", "status", "comment", "field"]


@dataclass(frozen=True)
class IssueActivity:
    at: datetime
    kind: ActivityKind
    text: str
    actor: str | None = None
    category: str | None = None  # for "status": the status category it moved to


@dataclass(frozen=True)
class IssueIncident:
    issue_id: str
    issue_key: str
    summary: str
    description: str
    priority: str | None
    services: tuple[str, ...]
    labels: tuple[str, ...]
    status_category: str | None
    created: datetime | None
    url: str | None
    activities: tuple[IssueActivity, ...]

    @property
    def done(self) -> bool:
        return self.status_category == "done"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _time(value: Any) -> datetime | None:
    try:
        return parse_jira_time(value) if isinstance(value, str) else None
    except ValueError:
        return None


def incident_issue(
    payload: dict[str, Any], *, project: str | None, issue_type: str, label_prefix: str
) -> IssueIncident | None:
    """The delivery as an incident issue, or None when the issue is not one.

    Not one: another project or issue type, or an issue Hindsight mirrors itself
    (it carries an `hs-` label): a mirrored incident closing is not a new incident.
    """
    issue = _obj(payload.get("issue"))
    fields = _obj(issue.get("fields"))
    kind = _obj(fields.get("issuetype")).get("name")
    key = _text(issue.get("key"))
    in_project = project is None or _obj(fields.get("project")).get("key") == project
    labels = tuple(str(x) for x in fields.get("labels") or () if isinstance(x, str))
    if not key or kind != issue_type or not in_project:
        return None
    if any(label.startswith(label_prefix) for label in labels):
        return None
    status = _obj(fields.get("status"))
    services = [lab.split(":", 1)[1] for lab in labels if lab.startswith("service:")]
    services += [
        _text(c.get("name")) for c in fields.get("components") or () if isinstance(c, dict)
    ]
    self_url = _text(issue.get("self"))
    base = self_url.split("/rest/", 1)[0] if "/rest/" in self_url else ""
    return IssueIncident(
        issue_id=str(issue.get("id") or ""),
        issue_key=key,
        summary=_text(fields.get("summary")) or key,
        description=adf_to_text(fields.get("description")) or "",
        priority=_obj(fields.get("priority")).get("name"),
        services=tuple(dict.fromkeys(s for s in services if s)),
        labels=labels,
        status_category=_obj(status.get("statusCategory")).get("key"),
        created=_time(fields.get("created")),
        url=f"{base}/browse/{key}" if base else None,
        activities=tuple(_activities(payload, _obj(status.get("statusCategory")).get("key"))),
    )


def _activities(payload: dict[str, Any], category: str | None) -> list[IssueActivity]:
    """Creation, each changelog item, a comment: one activity each, at the delivery's time."""
    event = _text(payload.get("webhookEvent"))
    user = _obj(payload.get("user"))
    actor = user.get("displayName") or user.get("name") or user.get("accountId")
    at = delivery_time(payload) or datetime.now(UTC)
    out: list[IssueActivity] = []
    if event == "jira:issue_created":
        out.append(IssueActivity(at, "created", "issue created", actor))
    for item in _obj(payload.get("changelog")).get("items") or ():
        if not isinstance(item, dict):
            continue
        field = str(item.get("fieldId") or item.get("field") or "").lower()
        before, after = item.get("fromString"), item.get("toString")
        if field == "resolution":
            continue  # travels with the status change
        kind: ActivityKind = "status" if field == "status" else "field"
        text = f"{item.get('field') or field}: {before or '(none)'} -> {after or '(none)'}"
        out.append(IssueActivity(at, kind, text, actor, category if kind == "status" else None))
    comment = _obj(payload.get("comment"))
    if comment and event.startswith("comment_"):
        author = _obj(comment.get("author"))
        body = adf_to_text(comment.get("body")) or ""
        when = _time(comment.get("updated") or comment.get("created")) or at
        who = author.get("displayName") or author.get("name") or actor
        out.append(IssueActivity(when, "comment", body[:2000], who))
    return out


# Where a stored delivery names its issue, for finding an issue's earlier deliveries in SQL.
ISSUE_KEY_PATH = ("issue", "key")
