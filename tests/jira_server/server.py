"""``JiraTestServer``: a real HTTP server on 127.0.0.1 that the real ``jira`` client talks to.

The request pipeline is: route -> count -> fault -> auth -> handler (under the state
lock) -> webhooks -> response. Counting happens before faults so benchmarks see every
call Jira would have billed against its rate limit, including the rejected ones.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import ops, render, routes_issues, routes_meta  # noqa: F401  (registers routes)
from .catalog import DEFAULT_PROJECTS, DEFAULT_USERS, ProjectSpec, UserSpec
from .faults import FaultInjector, FaultRule
from .model import Change, Clock, Issue, JiraApiError, Mode, User, utcnow
from .routing import Ctx, Reply, Settings, build_map, normalise
from .state import JiraState
from .ui import UNSET, Unset, user_edit
from .webhooks import DeliveryMode, Subscription, Transport, WebhookDispatcher

if TYPE_CHECKING:
    from jira import JIRA

ANONYMOUS_OK = {"server_info"}
PROXY_PAGE = "<html><head><title>{0}</title></head><body><h1>{0}</h1></body></html>"


@dataclass
class RequestRecord:
    method: str
    path: str
    route: str  # normalised, e.g. /rest/api/2/issue/{ref}
    query: str
    body: Any
    user: str | None = None  # account id of the authenticated caller
    status: int | None = None
    fault: str | None = None
    seconds: float = 0.0
    started: float = field(default_factory=time.monotonic, repr=False)


def _no_such_uri(req: Request) -> dict[str, Any]:
    return {"errorMessages": [f"null for uri: {req.url}"], "errors": {}}


class QuietHandler(WSGIRequestHandler):
    """Werkzeug logs every request to stderr; test output should stay readable."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class JiraTestServer:
    """One fake Jira site. Prefer a fresh instance per test: state, counters, faults and
    subscriptions all live on the instance, so nothing leaks between tests.

    ``webhook_mode`` defaults to "async" because that is how Jira behaves (the REST call
    returns before the webhook lands); use "sync" for deterministic unit-style tests and
    "hold" to control delivery order. ``webhook_retries`` mimics Jira re-sending on 5xx.
    """

    def __init__(
        self,
        mode: Mode = "cloud",
        bot_user: str = "hindsight-bot",
        *,
        users: Sequence[UserSpec] = DEFAULT_USERS,
        projects: Sequence[ProjectSpec] = DEFAULT_PROJECTS,
        required_fields: Mapping[str, Sequence[str]] | None = None,
        webhook_mode: DeliveryMode = "async",
        webhook_retries: int = 0,
        clock: Clock = utcnow,
        strict_auth: bool = False,
        settings: Settings | None = None,
        workflows: Mapping[str, str] | None = None,
        search_lag_seconds: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        specs = list(users)
        if not any(s.name == bot_user for s in specs):
            specs.insert(0, UserSpec(bot_user, "Hindsight Bot"))
        self.mode: Mode = mode
        self.clock = clock
        self.state = JiraState(mode, users=specs, projects=projects, clock=clock)
        self.bot: User = self.user(bot_user)
        for issuetype, workflow in (workflows or {}).items():
            self.state.bind_workflow(issuetype, workflow)
        self.state.search_lag_seconds = search_lag_seconds
        for issuetype, fields in (required_fields or {}).items():
            self.state.set_required(issuetype, fields)
        self.faults = FaultInjector()
        self.webhooks = WebhookDispatcher(webhook_mode, max_retries=webhook_retries)
        self.settings = settings or Settings()
        self.strict_auth = strict_auth
        self.calls: Counter[str] = Counter()
        self.requests: list[RequestRecord] = []
        self.server_errors: list[str] = []  # handler crashes: a bug in the fake, never "Jira"
        self._host, self._port = host, port
        self._map, self._handlers = build_map()
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> Self:
        self._server = make_server(
            self._host, self._port, self._wsgi, threaded=True, request_handler=QuietHandler
        )
        self.state.base_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # shutdown() waits up to one poll interval
            name="jira-test-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.webhooks.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("server not started")
        return f"http://{self._host}:{self._server.server_port}"

    # -- counters ------------------------------------------------------------------------
    def reset_counters(self) -> None:
        with self._log_lock:
            self.calls.clear()
            self.requests.clear()

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    # -- users and clients ---------------------------------------------------------------------
    def user(self, ident: str) -> User:
        u = self.state.find_user(ident)
        if u is None:
            raise KeyError(f"unknown user {ident!r}")
        return u

    def add_user(self, name: str, display_name: str, *, token: str | None = None) -> User:
        return self.state.add_user(UserSpec(name, display_name, token=token))

    def credentials(self, user: str | None = None) -> tuple[str, str]:
        """Basic-auth pair the way each flavour expects it: email+API token vs name+password."""
        u = self.user(user) if user else self.bot
        return (u.email if self.mode == "cloud" else u.name), u.token

    def client(self, user: str | None = None, **kwargs: Any) -> JIRA:
        """A real ``jira.JIRA`` with the client's own retries off, so faults surface as-is."""
        from jira import JIRA

        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 5)
        return JIRA(server=self.url, basic_auth=self.credentials(user), **kwargs)

    # -- seeding and inspection ----------------------------------------------------------------
    def set_required_fields(
        self, issuetype: str, fields: Sequence[str], project: str | None = None
    ) -> None:
        self.state.set_required(issuetype, fields, project)

    def seed_issue(
        self,
        summary: str,
        *,
        project: str = "OPS",
        issuetype: str = "Task",
        by: str | None = None,
        emit: bool = False,
        **fields: Any,
    ) -> Issue:
        """Create an issue without HTTP (no counters); ``fields`` use the REST v2 shapes."""
        payload = {
            "fields": {
                "project": {"key": project},
                "issuetype": {"name": issuetype},
                "summary": summary,
                **fields,
            }
        }
        with self.state.lock:
            issue, changes = ops.create_issue(
                self.state, self.user(by) if by else self.bot, payload, "2"
            )
        if emit:
            self.webhooks.emit(changes)
        return issue

    def issue(self, key: str) -> Issue:
        with self.state.lock:
            return self.state.issue(key)

    def issue_json(self, key: str, api: str = "2", expand: str | None = None) -> dict[str, Any]:
        with self.state.lock:
            return render.issue(
                self.state.issue(key), self.state, self.state.view(api), expand=expand
            )

    # -- webhooks ------------------------------------------------------------------------------
    def subscribe(
        self,
        url: str,
        secret: str | None = None,
        *,
        events: Iterable[str] | None = None,
        transport: Transport | None = None,
    ) -> Subscription:
        return self.webhooks.subscribe(url, secret, events=events, transport=transport)

    def simulate_user_edit(
        self,
        key: str,
        user: str,
        *,
        status: str | None = None,
        resolution: str | None = None,
        assignee: str | None | Unset = UNSET,
        duedate: str | None | Unset = UNSET,
        priority: str | None = None,
        summary: str | None = None,
        labels: Sequence[str] | None = None,
        fields: Mapping[str, Any] | None = None,
        comment: str | None = None,
        delete: bool = False,
        via: str | None = None,
    ) -> list[Change]:
        """Apply a change as ``user`` would in the UI and send the webhooks it causes."""
        with self.state.lock:
            changes = user_edit(
                self.state,
                self.user(user),
                self.state.issue(key),
                status=status,
                resolution=resolution,
                assignee=assignee,
                duedate=duedate,
                priority=priority,
                summary=summary,
                labels=labels,
                fields=fields,
                comment=comment,
                delete=delete,
                via=via,
            )
        self.webhooks.emit(changes)
        return changes

    # -- WSGI ----------------------------------------------------------------------------------
    def _authenticate(self, req: Request) -> User | None:
        auth = req.authorization
        if auth is None:
            return None
        if auth.type == "bearer":  # DC personal access tokens
            return next((u for u in self.state.users if u.token == auth.token), None)
        u = self.state.find_user(auth.username or "")
        if u is None or not u.active or (self.strict_auth and auth.password != u.token):
            return None
        return u

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        req = Request(environ)
        rec, reply = self._pipeline(req, environ)
        return self._respond(rec, reply)(environ, start_response)

    def _pipeline(self, req: Request, environ: dict[str, Any]) -> tuple[RequestRecord, Reply]:
        try:
            rule, matched = self._map.bind_to_environ(environ).match(return_rule=True)
        except (NotFound, MethodNotAllowed) as e:
            return self._record(req, req.path), Reply(e.code or 404, _no_such_uri(req))
        args = dict(matched)
        ver = args.pop("ver", None)
        rec = self._record(req, normalise(rule.rule, {"ver": ver, **args}))
        fault = self.faults.pick(req.method, req.path, rec.route)
        if fault is not None:
            rec.fault = fault.kind
            if fault.delay:
                self._stopping.wait(fault.delay)
            if fault.kind not in ("latency", "lost_response"):
                return rec, self._fault_reply(fault)  # rejected before any state change
        reply = self._handle(req, str(rule.endpoint), ver, args, rec)
        if reply.changes:
            self.webhooks.emit(reply.changes)
        if fault is not None and fault.kind == "lost_response":
            if fault.close_connection:
                rec.seconds = time.monotonic() - rec.started
                sock = environ.get("werkzeug.socket")
                if sock is not None:
                    sock.shutdown(socket.SHUT_RDWR)
                # werkzeug treats ConnectionError as "client went away" and stays quiet
                raise ConnectionAbortedError("lost_response fault: connection dropped")
            reply = Reply(504, PROXY_PAGE.format("504 Gateway Time-out"))
        return rec, reply

    def _handle(
        self, req: Request, endpoint: str, ver: str | None, args: dict[str, Any], rec: RequestRecord
    ) -> Reply:
        if ver == "3" and self.mode == "dc":  # Data Center has no REST v3
            return Reply(404, _no_such_uri(req))
        handler = self._handlers[endpoint]
        actor = self._authenticate(req)
        if actor is None and handler.__name__ not in ANONYMOUS_OK:
            headers = (
                {} if self.mode == "cloud" else {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}
            )
            return Reply(
                401,
                {
                    "errorMessages": [
                        "You are not authenticated. Authentication "
                        "required to perform this operation."
                    ],
                    "errors": {},
                },
                headers,
            )
        rec.user = actor.account_id if actor else None
        ctx = Ctx(req, self.state, actor or self.bot, ver or "2", self.settings)
        with self.state.lock:
            try:
                return handler(ctx, **args)
            except JiraApiError as e:
                return Reply(e.status, e.body(), e.headers)
            except HTTPException:
                raise
            except Exception as e:  # a bug in the fake: make it loud, and visible to tests
                self.server_errors.append(f"{req.method} {req.path}: {type(e).__name__}: {e}")
                return Reply(
                    500, {"errorMessages": [f"Internal server error: {e!r}"], "errors": {}}
                )

    def _fault_reply(self, fault: FaultRule) -> Reply:
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = fault.retry_after
        if fault.kind == "429":
            if self.mode == "cloud":
                reset = self.clock() + dt.timedelta(seconds=60)
                headers |= {
                    "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
                    "RateLimit-Reason": "jira-burst-based",
                }
            else:
                headers |= {
                    "X-RateLimit-Limit": "100",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-FillRate": "10",
                    "X-RateLimit-Interval-Seconds": "1",
                }
            return Reply(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, headers)
        if fault.kind == "400":
            errors = {"summary": "Field rejected by a scripted fault."}
            return Reply(400, {"errorMessages": [], "errors": errors}, headers)
        if fault.kind == "403":  # a bot without the permission (Browse projects, say)
            msg = "You do not have the permission to see the specified issue."
            return Reply(403, {"errorMessages": [msg], "errors": {}}, headers)
        if fault.kind == "500":
            return Reply(500, {"errorMessages": ["Internal server error"], "errors": {}}, headers)
        title = {
            "502": "502 Bad Gateway",
            "503": "503 Service Unavailable",
            "504": "504 Gateway Time-out",
        }[fault.kind]
        return Reply(int(fault.kind), PROXY_PAGE.format(title), headers)

    def _record(self, req: Request, route: str) -> RequestRecord:
        raw = req.get_data()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        rec = RequestRecord(req.method, req.path, route, req.query_string.decode(), body)
        with self._log_lock:
            self.calls[f"{req.method} {route}"] += 1
            self.requests.append(rec)
        return rec

    def _respond(self, rec: RequestRecord, reply: Reply) -> Response:
        rec.status, rec.seconds = reply.status, time.monotonic() - rec.started
        if isinstance(reply.body, str):
            return Response(reply.body, reply.status, reply.headers, mimetype="text/html")
        data = "" if reply.body is None else json.dumps(reply.body)
        return Response(
            data, reply.status, reply.headers, content_type="application/json;charset=UTF-8"
        )


def make_jira_server(mode: Mode = "cloud", **kwargs: Any) -> JiraTestServer:
    """Factory for fixtures: returns a *started* server; call ``stop()`` when done."""
    return JiraTestServer(mode, **kwargs).start()
