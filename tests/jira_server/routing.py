"""Route registry shared by the handler modules, plus the request/response plumbing.

Handlers are plain functions ``(ctx, **url_args) -> Reply`` so they read like the
Jira REST reference: one function per documented endpoint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from .model import Change, JiraApiError, User
from .render import View
from .state import JiraState

API_PREFIX = "/rest/api/<any('2','3','latest'):ver>/"


@dataclass(frozen=True)
class Settings:
    """Knobs that differ between a Cloud site and a DC instance."""

    dc_version: tuple[int, int, int] = (9, 12, 2)
    dc_deployment_type: str = "Server"
    cloud_page_cap: int = 100  # search/jql returns at most this many issues with fields
    dc_page_cap: int = 1000  # jira.search.views.default.max


@dataclass
class Ctx:
    req: Request
    st: JiraState
    actor: User
    api: str  # "2", "3" or "latest" (== 2)
    settings: Settings

    @property
    def view(self) -> View:
        return self.st.view("3" if self.api == "3" else "2")

    @property
    def cloud(self) -> bool:
        return self.st.mode == "cloud"

    def json(self) -> dict[str, Any]:
        """Every Jira write takes a JSON object; anything else is a 400, never a crash."""
        raw = self.req.get_data()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError as e:
            raise JiraApiError(400, [f"Unexpected character in JSON body: {e}"]) from e
        if not isinstance(data, dict):
            raise JiraApiError(400, ["Can not deserialize instance of object out of START_ARRAY"])
        return data

    def arg_list(self, name: str) -> list[str]:
        """Jira accepts both ``a=x&a=y`` and ``a=x,y``; the jira client sends the former."""
        return [p for raw in self.req.args.getlist(name) for p in raw.split(",") if p]

    def int_arg(self, name: str, default: int) -> int:
        try:
            return int(self.req.args.get(name, default))
        except ValueError as e:
            raise JiraApiError(400, [f"'{name}' must be a number."]) from e


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)


Handler = Callable[..., Reply]
ROUTES: list[tuple[str, tuple[str, ...], Handler]] = []


def route(path: str, *methods: str) -> Callable[[Handler], Handler]:
    """Register a handler; relative paths live under ``/rest/api/{2,3,latest}/``."""
    full = path if path.startswith("/") else API_PREFIX + path

    def deco(fn: Handler) -> Handler:
        ROUTES.append((full, methods or ("GET",), fn))
        return fn

    return deco


def build_map() -> tuple[Map, dict[str, Handler]]:
    rules, handlers = [], {}
    for i, (path, methods, fn) in enumerate(ROUTES):
        endpoint = f"{fn.__name__}#{i}"
        rules.append(Rule(path, endpoint=endpoint, methods=list(methods)))
        handlers[endpoint] = fn
    return Map(rules, strict_slashes=False), handlers


# URL variables are snake_case in Python, but counters use the names from Atlassian's docs.
DOC_NAMES = {
    "issue_ref": "issueIdOrKey",
    "project_ref": "projectIdOrKey",
    "type_id": "issueTypeId",
    "link_id": "linkId",
}


def normalise(rule: str, args: dict[str, Any]) -> str:
    """``/rest/api/<any(..):ver>/issue/<issue_ref>`` -> ``/rest/api/2/issue/{issueIdOrKey}``."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        return str(args[name]) if name == "ver" else "{" + DOC_NAMES.get(name, name) + "}"

    return re.sub(r"<(?:[^<>]*:)?(\w+)>", sub, rule)
