"""Signed webhook requests without a running server, for Flask test-client tests.

The payload comes from the same code path the live server uses (a scratch in-memory
Jira applies the change), so the shape cannot drift from what ``JiraTestServer`` sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import ops
from .catalog import DEFAULT_USERS, UserSpec
from .model import Change, Mode
from .state import JiraState
from .ui import user_edit
from .webhooks import encode_delivery, payload_of


def webhook_change(
    event: str = "jira:issue_updated",
    *,
    mode: Mode = "cloud",
    key: str = "OPS-1",
    by: str = "alice",
    created: Mapping[str, Any] | None = None,
    **edit: Any,
) -> Change:
    """Create ``key`` (REST v2 ``created`` fields), apply ``edit`` as ``by``, and return the
    first resulting change of type ``event``. ``edit`` takes ``simulate_user_edit`` kwargs."""
    st = JiraState(
        mode,
        users=[UserSpec("hindsight-bot", "Hindsight Bot"), *DEFAULT_USERS],
        base_url="https://example.atlassian.net",
    )
    project, number = key.rsplit("-", 1)
    with st.lock:
        proj = st.find_project(project) or st.add_project_key(project)
        proj.next_number = int(number)
        fields = {
            "project": {"key": project},
            "issuetype": {"name": "Task"},
            "summary": "Example issue",
            **(created or {}),
        }
        actor = st.find_user(by)
        if actor is None:
            raise KeyError(f"unknown user {by!r}")
        issue, changes = ops.create_issue(st, actor, {"fields": fields}, "2")
        if event != "jira:issue_created" or edit:
            changes = user_edit(st, actor, issue, **edit)
    for c in changes:
        if c.event == event:
            return c
    raise ValueError(f"the edit produced {[c.event for c in changes]}, not {event!r}")


def webhook_request(
    event: str = "jira:issue_updated",
    *,
    secret: str | None = None,
    identifier: str | None = None,
    retry: int = 0,
    **kwargs: Any,
) -> tuple[bytes, dict[str, str]]:
    """``(body, headers)`` for ``client.post(url, data=body, headers=headers)``."""
    return encode_delivery(
        payload_of(webhook_change(event, **kwargs)),
        secret=secret,
        identifier=identifier,
        retry=retry,
    )
