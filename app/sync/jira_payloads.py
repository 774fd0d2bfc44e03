"""Jira's JSON shapes, both ways: the only place that knows Jira's field names.

Pure functions, no I/O: neutral values (`IssueDraft`, field dicts) become REST
bodies, and REST bodies, search hits and webhook deliveries become neutral
values (`RemoteIssue`, `RemoteChange`). `jira.py` sends and receives; the
services never read `accountId`, `statusCategory.key` or `webhookEvent`.

Cloud speaks REST v3 (ADF descriptions, users by `accountId`); Data Center
speaks v2 (plain text, users by name). Both send the same issue JSON in a
webhook as in a search result, so one reader serves inbound and reconcile.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .tracker import (
    ChangeKind,
    CreateOutcome,
    Flavour,
    IssueDraft,
    Link,
    RemoteChange,
    RemoteIssue,
    RemoteState,
    TransitionOption,
    UserRef,
)

BASE_FIELDS = [
    "labels",
    "status",
    "resolution",
    "priority",
    "duedate",
    "assignee",
    "updated",
    "issuelinks",
    "summary",
    "description",
]
# Changelog field ids we act on, by neutral name; resolution travels with status.
FIELD_OF_ITEM = {
    "status": "status",
    "resolution": "status",
    "assignee": "assignee",
    "duedate": "duedate",
    "priority": "priority",
}
EVENT_KINDS: dict[str, ChangeKind] = {
    "jira:issue_created": "created",
    "jira:issue_updated": "updated",
    "jira:issue_deleted": "deleted",
}


class NotAnIssueEvent(ValueError):
    """A delivery that carries no issue (a project or user event, say)."""


# -- reading --------------------------------------------------------------------------------


def jira_error_text(body: Any, fallback: str = "") -> str:
    """Jira's own words: errorMessages plus `field: message` for field errors."""
    if not isinstance(body, dict):
        return fallback.strip()[:2000]
    parts = [str(m) for m in body.get("errorMessages") or []]
    errors = body.get("errors") or {}
    if isinstance(errors, dict):
        parts += [f"{k}: {v}" for k, v in errors.items()]
    return "; ".join(parts) or fallback.strip()[:2000]


def parse_jira_time(value: str | None) -> datetime | None:
    """Jira writes `2024-01-01T12:00:00.000+0000`; Python 3.11+ parses that as ISO."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def text_to_adf(text: str) -> dict[str, Any]:
    """REST v3 rejects plain-string descriptions; paragraphs are enough for ours."""
    paragraphs = text.split("\n\n") if text else []
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": p}] if p else []}
            for p in paragraphs
        ],
    }


def adf_to_text(value: Any) -> str | None:
    """Read back what `text_to_adf` wrote (v3); plain strings (v2) pass through."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return None

    def inline(node: dict[str, Any]) -> str:
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "hardBreak":
            return "\n"
        return "".join(inline(c) for c in node.get("content") or [] if isinstance(c, dict))

    return "\n\n".join(inline(b) for b in value.get("content") or [] if isinstance(b, dict))


def user_ref(raw: Any) -> UserRef | None:
    if not isinstance(raw, dict):
        return None
    return UserRef(
        account_id=raw.get("accountId"),
        name=raw.get("name"),
        key=raw.get("key"),
        display_name=raw.get("displayName"),
        email=raw.get("emailAddress"),
    )


def remote_issue(raw: dict[str, Any], custom_ids: Sequence[str] = ()) -> RemoteIssue:
    f = raw.get("fields") or {}
    status = f.get("status") or {}
    return RemoteIssue(
        key=str(raw["key"]),
        id=str(raw["id"]),
        labels=tuple(f.get("labels") or ()),
        status_name=status.get("name"),
        status_category=(status.get("statusCategory") or {}).get("key"),
        resolution=(f.get("resolution") or {}).get("name"),
        priority=(f.get("priority") or {}).get("name"),
        duedate=f.get("duedate"),
        assignee=user_ref(f.get("assignee")),
        updated=parse_jira_time(f.get("updated")),
        custom={fid: f.get(fid) for fid in custom_ids},
        linked_keys=tuple(_linked_keys(f.get("issuelinks"))),
        summary=f.get("summary"),
        description=adf_to_text(f.get("description")),
    )


def _linked_keys(links: Any) -> list[str]:
    keys = []
    for link in links or []:
        for side in ("inwardIssue", "outwardIssue"):
            other = link.get(side) if isinstance(link, dict) else None
            if isinstance(other, dict) and other.get("key"):
                keys.append(str(other["key"]))
    return keys


def search_change(raw: dict[str, Any], now: datetime | None = None) -> RemoteChange:
    """A reconcile search hit: the issue as it is now, every synced field in question."""
    return RemoteChange.of_issue(remote_issue(raw), now or datetime.now(UTC))


def delivery_time(payload: dict[str, Any]) -> datetime | None:
    """When Jira says the event happened (`timestamp`, in ms)."""
    ts = payload.get("timestamp")
    return datetime.fromtimestamp(ts / 1000, UTC) if isinstance(ts, int | float) else None


def webhook_change(payload: dict[str, Any]) -> RemoteChange:
    """One webhook delivery as a neutral change; `NotAnIssueEvent` when it carries no issue."""
    event = str(payload.get("webhookEvent") or "")
    issue = payload.get("issue")
    if not isinstance(issue, dict):
        raise NotAnIssueEvent(f"{event or 'event'} carries no issue")
    changelog = payload.get("changelog") or {}
    items = changelog.get("items") or []
    touched = frozenset(FIELD_OF_ITEM[f] for f in map(_field_id, items) if f in FIELD_OF_ITEM)
    when = delivery_time(payload) or datetime.now(UTC)
    return RemoteChange(
        issue_id=str(issue.get("id") or ""),
        issue_key=str(issue.get("key") or ""),
        kind=EVENT_KINDS.get(event, "other"),
        when=when,
        version=(int(when.timestamp() * 1000), _int(changelog.get("id"))),
        state=remote_state(issue.get("fields") or {}),
        touched=touched,
        actor=user_ref(payload.get("user")),
    )


def remote_state(fields: dict[str, Any]) -> RemoteState:
    status = fields.get("status") or {}
    return RemoteState(
        status_name=status.get("name"),
        status_category=(status.get("statusCategory") or {}).get("key"),
        resolution=(fields.get("resolution") or {}).get("name"),
        assignee=user_ref(fields.get("assignee")),
        duedate=fields.get("duedate"),
        priority=(fields.get("priority") or {}).get("name"),
    )


def _field_id(item: Any) -> str:
    if not isinstance(item, dict):
        return ""
    return str(item.get("fieldId") or item.get("field") or "").lower()


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def transition_options(raw: list[dict[str, Any]]) -> list[TransitionOption]:
    """GET /transitions?expand=transitions.fields: where each leads, and whether its screen
    sets the resolution (and to which values)."""
    out = []
    for t in raw:
        to = t.get("to") or {}
        screen = (t.get("fields") or {}).get("resolution")
        allowed = (screen or {}).get("allowedValues") or [] if isinstance(screen, dict) else []
        out.append(
            TransitionOption(
                id=str(t["id"]),
                to_id=str(to.get("id")),
                to_name=str(to.get("name")),
                to_category=(to.get("statusCategory") or {}).get("key"),
                takes_resolution=screen is not None,
                name=str(t.get("name") or ""),
                resolutions=tuple(str(a.get("name")) for a in allowed if isinstance(a, dict)),
            )
        )
    return out


def field_metadata(metas: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """createmeta field list -> field id -> {required, has_default, name, allowed, schema}."""
    out: dict[str, dict[str, Any]] = {}
    for m in metas:
        allowed = [a.get("name") or a.get("value") for a in m.get("allowedValues") or []]
        out[str(m.get("fieldId") or m.get("key"))] = {
            "required": bool(m.get("required")),
            "has_default": bool(m.get("hasDefaultValue")),
            "name": m.get("name"),
            "allowed": [a for a in allowed if a is not None],
            "schema": m.get("schema") or {},
        }
    return out


def legacy_field_metas(fields: Any) -> list[dict[str, Any]]:
    """The project-wide createmeta keys its fields by id (older versions name the id only
    there): the same list of field metas as the per-type endpoint."""
    if not isinstance(fields, dict):
        return []
    return [{**m, "fieldId": m.get("fieldId") or fid} for fid, m in fields.items()]


def bulk_outcomes(drafts: Sequence[IssueDraft], data: dict[str, Any]) -> list[CreateOutcome]:
    """POST /issue/bulk's answer (also its 400 when every element failed), per draft."""
    errors = {int(e["failedElementNumber"]): e for e in data.get("errors") or []}
    created = list(data.get("issues") or [])
    out: list[CreateOutcome] = []
    for n, draft in enumerate(drafts):
        if n in errors:
            err = errors[n]
            text = jira_error_text(err.get("elementErrors"), "element rejected")
            out.append(CreateOutcome(draft.ref, error=f"HTTP {err.get('status', 400)}: {text}"))
        elif created:
            out.append(CreateOutcome(draft.ref, issue=created_issue(draft, created.pop(0))))
        else:  # more successes claimed than returned: let the label search settle it
            out.append(CreateOutcome(draft.ref, error=None))
    return out


def created_issue(draft: IssueDraft, raw: dict[str, Any]) -> RemoteIssue:
    return RemoteIssue(key=str(raw["key"]), id=str(raw["id"]), labels=tuple(draft.labels))


# -- writing --------------------------------------------------------------------------------


def _user(ident: str | None, flavour: Flavour) -> dict[str, Any]:
    return {"accountId": ident} if flavour == "cloud" else {"name": ident}


def rest_fields(fields: dict[str, Any], flavour: Flavour, *, creating: bool) -> dict[str, Any]:
    """Neutral field values -> the REST `fields` object of this flavour."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "description":
            value = value or ""
            out[name] = text_to_adf(value) if flavour == "cloud" else value
        elif name == "priority":
            if value is not None:  # Jira has no "no priority"; leave theirs alone
                out[name] = {"name": value}
        elif value is None and creating:
            continue  # nothing to say yet; on update, None clears the field
        elif name == "assignee":  # null unassigns, on both flavours
            out[name] = _user(value, flavour) if value is not None else None
        elif name in ("summary", "duedate"):
            out[name] = value
        elif name.startswith("custom:"):
            out[name.removeprefix("custom:")] = value
    return out


def create_payload(draft: IssueDraft, project: str, flavour: Flavour) -> dict[str, Any]:
    assignee = None
    if draft.assignee is not None:
        assignee = (
            draft.assignee.account_id
            if flavour == "cloud"
            else draft.assignee.name or draft.assignee.key
        )
    neutral: dict[str, Any] = {
        "summary": draft.summary,
        "description": draft.description,
        "priority": draft.priority,
        "duedate": draft.duedate,
        "assignee": assignee,
    }
    fields = {
        "project": {"key": project},
        "issuetype": {"name": draft.issue_type},
        "labels": list(draft.labels),
        **rest_fields(neutral, flavour, creating=True),
    }
    fields.update({fid: value for fid, value in draft.custom.items() if value is not None})
    for fid, value in draft.defaults.items():  # only where we had nothing to say
        if fields.get(fid) in (None, "", []):
            fields[fid] = value
    if draft.parent:
        fields["parent"] = {"key": draft.parent}
    payload: dict[str, Any] = {"fields": fields}
    if draft.link is not None:
        side = "outwardIssue" if draft.link.outward else "inwardIssue"
        payload["update"] = {
            "issuelinks": [
                {"add": {"type": {"name": draft.link.type_name}, side: {"key": draft.link.target}}}
            ]
        }
    return payload


def link_body(key: str, link: Link) -> dict[str, Any]:
    source, other = {"key": key}, {"key": link.target}
    inward, outward = (source, other) if link.outward else (other, source)
    return {"type": {"name": link.type_name}, "inwardIssue": inward, "outwardIssue": outward}


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def labels_jql(project: str, labels: Sequence[str]) -> str:
    return (
        f"project = {_quote(project)} AND labels in "
        f"({', '.join(_quote(lb) for lb in labels)}) ORDER BY key ASC"
    )


def updated_jql(project: str, label: str, since_minutes: int | None) -> str:
    jql = f"project = {_quote(project)} AND labels = {_quote(label)}"
    if since_minutes is not None:
        # Relative to Jira's own clock and immune to the search user's time zone.
        jql += f' AND updated >= "-{max(1, since_minutes)}m"'
    return jql + " ORDER BY key ASC"
