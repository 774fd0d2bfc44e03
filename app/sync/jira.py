"""The Jira adapter: the only module that imports the `jira` library.

Choices that matter for correctness:

* The client's own retries are off (`max_retries=0`); `app.sync.retry` retries
  at the job level, where a create is always preceded by a label search.
* Every request carries `timeout=HINDSIGHT_JIRA_TIMEOUT_SECONDS` (the client
  passes it to each `requests` call of its session).
* Requests go through the client's session via `_get_json` and the session's
  verbs rather than the high-level helpers, because those helpers add hidden
  calls (field lists, project lookups, a re-read after every create) that
  would multiply the calls per action.
* Cloud speaks REST v3 (`/search/jql` with `nextPageToken`, ADF descriptions,
  users by `accountId`); Data Center speaks v2 (`/search` with `startAt`, plain
  text, users by name). The flavour comes from `serverInfo.deploymentType`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from .retry import parse_retry_after
from .tracker import (
    CreateOutcome,
    Flavour,
    IssueDraft,
    Link,
    RemoteIssue,
    ServerInfo,
    TrackerError,
    TransitionOption,
    UserRef,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

BULK_MAX = 50  # Jira's documented limit for POST /issue/bulk
LABEL_CHUNK = 250  # labels per JQL `in (...)`, sent by POST: no URL length limit
BASE_FIELDS = ["labels", "status", "resolution", "priority", "duedate", "assignee", "updated",
               "issuelinks", "summary", "description"]


def jira_error_text(body: Any, fallback: str = "") -> str:
    """Jira's own words: errorMessages plus `field: message` for field errors."""
    if not isinstance(body, dict):
        return fallback.strip()[:2000]
    parts = [str(m) for m in body.get("errorMessages") or []]
    errors = body.get("errors") or {}
    if isinstance(errors, dict):
        parts += [f"{k}: {v}" for k, v in errors.items()]
    return "; ".join(parts) or fallback.strip()[:2000]


def _translate(exc: Exception) -> TrackerError:
    if isinstance(exc, JIRAError):
        resp = exc.response
        body: Any = None
        if resp is not None:
            try:
                body = resp.json()
            except ValueError:
                body = None
        text = jira_error_text(body, (resp.text if resp is not None else "") or exc.text or "")
        retry_after = parse_retry_after(resp.headers.get("Retry-After")) if resp is not None \
            else None
        return TrackerError(text or "Jira error", status=exc.status_code, retry_after=retry_after)
    return TrackerError(f"{type(exc).__name__}: {exc}")


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
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": p}] if p else []}
        for p in paragraphs
    ]}


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
    return UserRef(account_id=raw.get("accountId"), name=raw.get("name"), key=raw.get("key"),
                   display_name=raw.get("displayName"))


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


class JiraTracker:
    """`Tracker` over the jira library, for one project."""

    def __init__(
        self,
        url: str,
        project: str,
        *,
        user: str | None,
        token: str | None,
        auth: str = "basic",
        timeout: float = 10.0,
        flavour: Flavour | None = None,
        custom_ids: Sequence[str] = (),
    ) -> None:
        kwargs: dict[str, Any] = {}
        if auth == "bearer" and token:
            kwargs["token_auth"] = token
        elif user:
            kwargs["basic_auth"] = (user, token or "")
        self.client = JIRA(
            server=url,
            options={"rest_api_version": "2", "check_update": False},
            get_server_info=False,
            max_retries=0,
            timeout=timeout,
            **kwargs,
        )
        self.project = project
        self.custom_ids = list(custom_ids)
        self._flavour: Flavour | None = None
        if flavour is not None:
            self._set_flavour(flavour)

    # -- plumbing -------------------------------------------------------------------------
    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (JIRAError, requests.RequestException) as exc:
            raise _translate(exc) from exc

    def _url(self, path: str) -> str:
        return str(self.client._get_url(path))

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._call(lambda: self.client._get_json(path, params=params))

    def _post_json(self, path: str, body: dict[str, Any]) -> Any:
        """POST for reads with long JQL (search): no URL length limit."""
        return self._call(lambda: self.client._get_json(path, params=body, use_post=True))

    def _post(self, path: str, body: Any) -> requests.Response:
        return self._call(lambda: self.client._session.post(self._url(path), data=json.dumps(body)))

    def _put(self, path: str, body: Any) -> requests.Response:
        return self._call(lambda: self.client._session.put(self._url(path), data=json.dumps(body)))

    def _set_flavour(self, flavour: Flavour) -> None:
        self._flavour = flavour
        self.client.deploymentType = "Cloud" if flavour == "cloud" else "Server"
        self.client._options["rest_api_version"] = "3" if flavour == "cloud" else "2"

    # -- identity -------------------------------------------------------------------------
    @property
    def flavour(self) -> Flavour:
        if self._flavour is None:
            self.server_info()
        assert self._flavour is not None
        return self._flavour

    def server_info(self) -> ServerInfo:
        info = self._get("serverInfo")
        flavour: Flavour = "cloud" if info.get("deploymentType") == "Cloud" else "dc"
        self._set_flavour(flavour)
        return ServerInfo(flavour, str(info.get("version", "")),
                          parse_jira_time(info.get("serverTime")))

    def myself(self) -> UserRef:
        ref = user_ref(self._get("myself"))
        if ref is None:
            raise TrackerError("GET /myself returned no user", status=500)
        return ref

    # -- payloads -------------------------------------------------------------------------
    def _user(self, ident: str | None) -> dict[str, Any]:
        if self.flavour == "cloud":
            return {"accountId": ident}
        return {"name": ident}

    def rest_fields(self, fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        """Neutral field values -> the REST `fields` object of this flavour."""
        out: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "description":
                value = value or ""
                out[name] = text_to_adf(value) if self.flavour == "cloud" else value
            elif name == "priority":
                if value is not None:  # Jira has no "no priority"; leave theirs alone
                    out[name] = {"name": value}
            elif name == "assignee":
                if value is not None or not creating:
                    out[name] = self._user(value)
            elif name in ("summary", "duedate"):
                if value is not None or not creating:
                    out[name] = value
            elif name.startswith("custom:"):
                fid = name.removeprefix("custom:")
                if value is not None or not creating:
                    out[fid] = value
        return out

    def create_payload(self, draft: IssueDraft) -> dict[str, Any]:
        neutral: dict[str, Any] = {
            "summary": draft.summary, "description": draft.description,
            "priority": draft.priority, "duedate": draft.duedate,
            "assignee": None if draft.assignee is None else (
                draft.assignee.account_id if self.flavour == "cloud"
                else draft.assignee.name or draft.assignee.key),
        }
        fields = {
            "project": {"key": self.project},
            "issuetype": {"name": draft.issue_type},
            "labels": list(draft.labels),
            **self.rest_fields(neutral, creating=True),
        }
        for fid, value in draft.custom.items():
            if value is not None:
                fields[fid] = value
        for fid, value in draft.defaults.items():  # only where we had nothing to say
            if fields.get(fid) in (None, "", []):
                fields[fid] = value
        if draft.parent:
            fields["parent"] = {"key": draft.parent}
        payload: dict[str, Any] = {"fields": fields}
        if draft.link is not None:
            side = "outwardIssue" if draft.link.outward else "inwardIssue"
            payload["update"] = {"issuelinks": [{"add": {
                "type": {"name": draft.link.type_name}, side: {"key": draft.link.target}}}]}
        return payload

    # -- reads ----------------------------------------------------------------------------
    def _search_pages(
        self, jql: str, fields: list[str], page_size: int
    ) -> Iterator[list[RemoteIssue]]:
        """Cloud: POST /rest/api/3/search/jql with nextPageToken; DC: POST /search + startAt."""
        if self.flavour == "cloud":
            token: str | None = None
            while True:
                body: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
                if token:
                    body["nextPageToken"] = token
                page = self._post_json("search/jql", body)
                yield [remote_issue(i, self.custom_ids) for i in page.get("issues", [])]
                token = page.get("nextPageToken")
                if not token or page.get("isLast"):
                    return
        start = 0
        while True:
            body = {"jql": jql, "fields": fields, "maxResults": page_size, "startAt": start}
            page = self._post_json("search", body)
            issues = page.get("issues", [])
            yield [remote_issue(i, self.custom_ids) for i in issues]
            start += len(issues)
            if not issues or start >= int(page.get("total", 0)):
                return

    def _fields(self) -> list[str]:
        return BASE_FIELDS + self.custom_ids

    @staticmethod
    def _quote(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def issue(self, key: str) -> RemoteIssue:
        return remote_issue(self._get(f"issue/{key}", {"fields": ",".join(self._fields())}),
                            self.custom_ids)

    def find_by_labels(self, labels: Sequence[str]) -> dict[str, RemoteIssue]:
        wanted = list(dict.fromkeys(labels))
        found: dict[str, RemoteIssue] = {}
        for i in range(0, len(wanted), LABEL_CHUNK):
            chunk = wanted[i:i + LABEL_CHUNK]
            jql = (f"project = {self._quote(self.project)} AND labels in "
                   f"({', '.join(self._quote(lb) for lb in chunk)}) ORDER BY key ASC")
            for page in self._search_pages(jql, self._fields(), 100):
                for issue in page:
                    for label in issue.labels:
                        if label in chunk:
                            found.setdefault(label, issue)
        return found

    def search_updated(
        self, label: str, since_minutes: int | None, page_size: int = 100
    ) -> Iterator[list[RemoteIssue]]:
        jql = f"project = {self._quote(self.project)} AND labels = {self._quote(label)}"
        if since_minutes is not None:
            # Relative to Jira's own clock and immune to the search user's time zone.
            jql += f' AND updated >= "-{max(1, since_minutes)}m"'
        yield from self._search_pages(jql + " ORDER BY key ASC", self._fields(), page_size)

    def create_metadata(self, issue_type: str) -> dict[str, dict[str, Any]]:
        key = "issueTypes" if self.flavour == "cloud" else "values"
        types = self._get(f"issue/createmeta/{self.project}/issuetypes",
                          {"maxResults": 200}).get(key, [])
        match = next((t for t in types if t.get("name") == issue_type), None)
        if match is None:
            names = ", ".join(sorted(str(t.get("name")) for t in types))
            raise TrackerError(
                f"issue type {issue_type!r} is not in project {self.project} (has: {names})",
                status=404,
            )
        fkey = "fields" if self.flavour == "cloud" else "values"
        metas = self._get(f"issue/createmeta/{self.project}/issuetypes/{match['id']}",
                          {"maxResults": 500}).get(fkey, [])
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

    # -- writes ---------------------------------------------------------------------------
    def create_issues(self, drafts: Sequence[IssueDraft]) -> list[CreateOutcome]:
        outcomes: list[CreateOutcome] = []
        for i in range(0, len(drafts), BULK_MAX):
            chunk = list(drafts[i:i + BULK_MAX])
            outcomes += self._create_one(chunk[0]) if len(chunk) == 1 else self._bulk(chunk)
        return outcomes

    def _created(self, draft: IssueDraft, raw: dict[str, Any]) -> RemoteIssue:
        return RemoteIssue(key=str(raw["key"]), id=str(raw["id"]), labels=tuple(draft.labels))

    def _create_one(self, draft: IssueDraft) -> list[CreateOutcome]:
        try:
            resp = self._post("issue", self.create_payload(draft))
        except TrackerError as exc:
            if exc.transient:
                raise
            return [CreateOutcome(draft.ref, error=str(exc))]
        return [CreateOutcome(draft.ref, issue=self._created(draft, resp.json()))]

    def _bulk(self, drafts: list[IssueDraft]) -> list[CreateOutcome]:
        body = {"issueUpdates": [self.create_payload(d) for d in drafts]}
        try:
            data = self._post("issue/bulk", body).json()
        except TrackerError as exc:
            cause = exc.__cause__
            # All elements failed: Jira answers 400 with the same per-element body.
            if exc.status == 400 and isinstance(cause, JIRAError) and cause.response is not None:
                try:
                    data = cause.response.json()
                except ValueError:
                    raise exc from None
                if not data.get("errors"):
                    raise
            else:
                raise
        errors = {int(e["failedElementNumber"]): e for e in data.get("errors") or []}
        created = list(data.get("issues") or [])
        out: list[CreateOutcome] = []
        for n, draft in enumerate(drafts):
            if n in errors:
                err = errors[n]
                text = jira_error_text(err.get("elementErrors"), "element rejected")
                out.append(CreateOutcome(draft.ref, error=f"HTTP {err.get('status', 400)}: {text}"))
            elif created:
                out.append(CreateOutcome(draft.ref, issue=self._created(draft, created.pop(0))))
            else:  # more successes claimed than returned: let the label search settle it
                out.append(CreateOutcome(draft.ref, error=None))
        return out

    def update_fields(self, key: str, fields: dict[str, Any]) -> None:
        rest = self.rest_fields(fields, creating=False)
        if rest:
            self._put(f"issue/{key}", {"fields": rest})

    def transitions(self, key: str) -> list[TransitionOption]:
        data = self._get(f"issue/{key}/transitions", {"expand": "transitions.fields"})
        out = []
        for t in data.get("transitions") or []:
            to = t.get("to") or {}
            out.append(TransitionOption(
                id=str(t["id"]), to_id=str(to.get("id")), to_name=str(to.get("name")),
                to_category=(to.get("statusCategory") or {}).get("key"),
                takes_resolution="resolution" in (t.get("fields") or {}),
            ))
        return out

    def transition(self, key: str, option: TransitionOption, resolution: str | None) -> None:
        body: dict[str, Any] = {"transition": {"id": option.id}}
        if resolution and option.takes_resolution:
            body["fields"] = {"resolution": {"name": resolution}}
        self._post(f"issue/{key}/transitions", body)

    def add_link(self, key: str, link: Link) -> None:
        source, other = {"key": key}, {"key": link.target}
        inward, outward = (source, other) if link.outward else (other, source)
        self._post("issueLink", {"type": {"name": link.type_name},
                                 "inwardIssue": inward, "outwardIssue": outward})

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # closing must never mask the error that ended the job
            log.debug("closing the Jira client failed", exc_info=True)
