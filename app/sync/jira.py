"""The Jira adapter's transport: the only module that imports the `jira` library.

Choices that matter for correctness:

* The client's own retries are off (`max_retries=0`): the outbox row is the
  one retry layer (`app.sync.retry`), and every create is preceded by a
  label search there.
* Every request has a timeout, HINDSIGHT_JIRA_TIMEOUT_SECONDS.
* The client's public methods serve where they make exactly the one request
  asked for: serverInfo, myself, the transitions offered and a transition.
  The rest goes through `requests` with the same credentials, because the
  client's helpers cannot send it without hidden calls or private members:
  REST v3 bodies on Cloud (ADF descriptions), links inside a (bulk) create,
  JQL searches by POST (long label lists), Cloud's `/search/jql` paging, and
  a PUT of only the changed fields (no field list, project lookup or re-read
  after a create).
* Cloud speaks v3 (`/search/jql` with `nextPageToken`), Data Center v2
  (`/search` with `startAt`); the flavour comes from `serverInfo.deploymentType`.
  The shapes themselves are in `jira_payloads`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from . import jira_payloads as payloads
from .retry import parse_retry_after
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

log = logging.getLogger(__name__)
T = TypeVar("T")

BULK_MAX = 50  # Jira's documented limit for POST /issue/bulk
LABEL_CHUNK = 250  # labels per JQL `in (...)`, sent by POST: no URL length limit


def _error(resp: requests.Response, fallback: str = "") -> TrackerError:
    """An HTTP failure in Jira's own words, with its status and Retry-After."""
    try:
        body: Any = resp.json()
    except ValueError:
        body = None
    text = payloads.jira_error_text(body, resp.text or fallback)
    return TrackerError(
        text or "Jira error",
        status=resp.status_code,
        retry_after=parse_retry_after(resp.headers.get("Retry-After")),
    )


def _translate(exc: Exception) -> TrackerError:
    if isinstance(exc, JIRAError):
        if exc.response is not None:
            return _error(exc.response, exc.text or "")
        return TrackerError(exc.text or "Jira error", status=exc.status_code)
    return TrackerError(f"{type(exc).__name__}: {exc}")


class JiraTracker:
    """`Tracker` over Jira's REST API, for one project."""

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
        self.url, self.project, self.timeout = url.rstrip("/"), project, timeout
        self.custom_ids = list(custom_ids)
        self.http = requests.Session()
        kwargs: dict[str, Any] = {}
        if auth == "bearer" and token:
            kwargs["token_auth"] = token
            self.http.headers["Authorization"] = f"Bearer {token}"
        elif user:
            kwargs["basic_auth"] = (user, token or "")
            self.http.auth = (user, token or "")
        self.http.headers.update({"Accept": "application/json", "X-Atlassian-Token": "no-check"})
        # v2 for the client's calls: serverInfo, myself and transitions read the same on both.
        self.client = JIRA(
            server=url,
            options={"rest_api_version": "2", "check_update": False},
            get_server_info=False,
            max_retries=0,
            timeout=timeout,
            **kwargs,
        )
        self._flavour = flavour

    # -- plumbing -------------------------------------------------------------------------
    def _client_call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (JIRAError, requests.RequestException) as exc:
            raise _translate(exc) from exc

    def _rest(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        ok: Callable[[requests.Response], bool] | None = None,
    ) -> Any:
        """One request on this flavour's API version; `ok` may accept a 4xx (bulk create)."""
        version = "3" if self.flavour == "cloud" else "2"
        try:
            resp = self.http.request(
                method,
                f"{self.url}/rest/api/{version}/{path}",
                params=params,
                json=body,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise TrackerError(f"{type(exc).__name__}: {exc}") from exc
        if resp.status_code >= 400 and not (ok and ok(resp)):
            raise _error(resp, resp.reason or "")
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:  # a proxy's page, say: the request may or may not have landed
            raise TrackerError(f"{method} {path}: the answer is not JSON", status=502) from None

    # -- identity -------------------------------------------------------------------------
    @property
    def flavour(self) -> Flavour:
        if self._flavour is None:
            self.server_info()
        assert self._flavour is not None
        return self._flavour

    def server_info(self) -> ServerInfo:
        info = self._client_call(self.client.server_info)
        self._flavour = "cloud" if info.get("deploymentType") == "Cloud" else "dc"
        return ServerInfo(
            self._flavour,
            str(info.get("version", "")),
            payloads.parse_jira_time(info.get("serverTime")),
        )

    def myself(self) -> UserRef:
        ref = payloads.user_ref(self._client_call(self.client.myself))
        if ref is None:
            raise TrackerError("GET /myself returned no user", status=500)
        return ref

    # -- reads ----------------------------------------------------------------------------
    def _search_pages(self, jql: str, page_size: int) -> Iterator[list[dict[str, Any]]]:
        """Cloud: POST /search/jql with nextPageToken; DC: POST /search with startAt."""
        fields = payloads.BASE_FIELDS + self.custom_ids
        body: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
        if self.flavour == "cloud":
            while True:
                page = self._rest("POST", "search/jql", body=body)
                yield list(page.get("issues", []))
                token = page.get("nextPageToken")
                if not token or page.get("isLast"):
                    return
                body = {**body, "nextPageToken": token}
        start = 0
        while True:
            page = self._rest("POST", "search", body={**body, "startAt": start})
            issues = list(page.get("issues", []))
            yield issues
            start += len(issues)
            if not issues or start >= int(page.get("total", 0)):
                return

    def issue(self, key: str) -> RemoteIssue:
        fields = ",".join(payloads.BASE_FIELDS + self.custom_ids)
        raw = self._rest("GET", f"issue/{key}", params={"fields": fields})
        return payloads.remote_issue(raw, self.custom_ids)

    def find_by_labels(self, labels: Sequence[str]) -> dict[str, RemoteIssue]:
        wanted = list(dict.fromkeys(labels))
        found: dict[str, RemoteIssue] = {}
        for i in range(0, len(wanted), LABEL_CHUNK):
            chunk = wanted[i : i + LABEL_CHUNK]
            for page in self._search_pages(payloads.labels_jql(self.project, chunk), 100):
                for issue in (payloads.remote_issue(r, self.custom_ids) for r in page):
                    for label in issue.labels:
                        if label in chunk:
                            found.setdefault(label, issue)
        return found

    def find_all_by_labels(self, labels: Sequence[str]) -> dict[str, list[RemoteIssue]]:
        wanted = list(dict.fromkeys(labels))
        found: dict[str, list[RemoteIssue]] = {}
        for i in range(0, len(wanted), LABEL_CHUNK):
            chunk = set(wanted[i : i + LABEL_CHUNK])
            jql = payloads.labels_jql(self.project, sorted(chunk))
            for page in self._search_pages(jql, 100):
                for issue in (payloads.remote_issue(r, self.custom_ids) for r in page):
                    for label in chunk.intersection(issue.labels):
                        found.setdefault(label, []).append(issue)
        return found

    def changed_since(
        self, label: str, since_minutes: int | None, page_size: int = 100
    ) -> Iterator[list[RemoteChange]]:
        jql = payloads.updated_jql(self.project, label, since_minutes)
        for page in self._search_pages(jql, page_size):
            yield [payloads.search_change(raw) for raw in page]

    def create_metadata(self, issue_type: str) -> dict[str, dict[str, Any]]:
        """The per-type createmeta (Cloud, DC 8.4+); where that answers 404 (older Server and
        Data Center), the project-wide `issue/createmeta?expand=projects.issuetypes.fields`."""
        key = "issueTypes" if self.flavour == "cloud" else "values"
        try:
            listing = self._rest(
                "GET", f"issue/createmeta/{self.project}/issuetypes", params={"maxResults": 200}
            )
        except TrackerError as exc:
            if not exc.not_found:
                raise
            return self._legacy_metadata(issue_type)
        types = listing.get(key, [])
        match = next((t for t in types if t.get("name") == issue_type), None)
        if match is None:
            raise _no_such_type(issue_type, self.project, types)
        fkey = "fields" if self.flavour == "cloud" else "values"
        metas = self._rest(
            "GET",
            f"issue/createmeta/{self.project}/issuetypes/{match['id']}",
            params={"maxResults": 500},
        ).get(fkey, [])
        return payloads.field_metadata(metas)

    def _legacy_metadata(self, issue_type: str) -> dict[str, dict[str, Any]]:
        raw = self._rest(
            "GET",
            "issue/createmeta",
            params={"projectKeys": self.project, "expand": "projects.issuetypes.fields"},
        )
        projects = [p for p in raw.get("projects") or [] if p.get("key") == self.project]
        if not projects:
            raise TrackerError(f"project {self.project} is not in the create metadata", status=404)
        types = projects[0].get("issuetypes") or []
        match = next((t for t in types if t.get("name") == issue_type), None)
        if match is None:
            raise _no_such_type(issue_type, self.project, types)
        return payloads.field_metadata(payloads.legacy_field_metas(match.get("fields")))

    # -- writes ---------------------------------------------------------------------------
    def create_issues(self, drafts: Sequence[IssueDraft]) -> list[CreateOutcome]:
        outcomes: list[CreateOutcome] = []
        for i in range(0, len(drafts), BULK_MAX):
            chunk = list(drafts[i : i + BULK_MAX])
            outcomes += self._create_one(chunk[0]) if len(chunk) == 1 else self._bulk(chunk)
        return outcomes

    def _create_one(self, draft: IssueDraft) -> list[CreateOutcome]:
        body = payloads.create_payload(draft, self.project, self.flavour)
        try:
            raw = self._rest("POST", "issue", body=body)
        except TrackerError as exc:
            if exc.transient or exc.refuses_credentials:  # not this draft's fault
                raise
            return [CreateOutcome(draft.ref, error=str(exc))]
        return [CreateOutcome(draft.ref, issue=payloads.created_issue(draft, raw))]

    def _bulk(self, drafts: list[IssueDraft]) -> list[CreateOutcome]:
        body = {
            "issueUpdates": [payloads.create_payload(d, self.project, self.flavour) for d in drafts]
        }
        data = self._rest("POST", "issue/bulk", body=body, ok=_all_elements_failed)
        return payloads.bulk_outcomes(drafts, data)

    def update_fields(self, key: str, fields: dict[str, Any]) -> None:
        rest = payloads.rest_fields(fields, self.flavour, creating=False)
        if rest:
            self._rest("PUT", f"issue/{key}", body={"fields": rest})

    def transitions(self, key: str) -> list[TransitionOption]:
        raw = self._client_call(lambda: self.client.transitions(key, expand="transitions.fields"))
        return payloads.transition_options(raw)

    def transition(self, key: str, option: TransitionOption, resolution: str | None) -> None:
        fields = (
            {"resolution": {"name": resolution}} if resolution and option.takes_resolution else None
        )
        self._client_call(lambda: self.client.transition_issue(key, option.id, fields=fields))

    def add_link(self, key: str, link: Link) -> None:
        self._rest("POST", "issueLink", body=payloads.link_body(key, link))

    def add_comment(self, key: str, text: str) -> None:
        body = payloads.text_to_adf(text) if self.flavour == "cloud" else text
        self._rest("POST", f"issue/{key}/comment", body={"body": body})

    def close(self) -> None:
        for closing in (self.client.close, self.http.close):
            try:
                closing()
            except Exception:  # closing must never mask the error that ended the job
                log.debug("closing the Jira client failed", exc_info=True)


def _no_such_type(issue_type: str, project: str, types: list[dict[str, Any]]) -> TrackerError:
    names = ", ".join(sorted(str(t.get("name")) for t in types))
    return TrackerError(
        f"issue type {issue_type!r} is not in project {project} (has: {names})", status=404
    )


def _all_elements_failed(resp: requests.Response) -> bool:
    """Bulk create answers 400 when every element failed, with the per-element errors."""
    if resp.status_code != 400:
        return False
    try:
        return bool(resp.json().get("errors"))
    except (ValueError, AttributeError):
        return False
