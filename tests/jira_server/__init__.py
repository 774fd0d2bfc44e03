"""A Jira Cloud / Data Center look-alike for integration tests and benchmarks.

Start one with ``JiraTestServer(mode="cloud"|"dc").start()`` (or ``make_jira_server``)
and point the real ``jira`` client at ``srv.url``. See README.md for the full API.
"""

from .catalog import INCIDENT_KEY, SEVERITY, ProjectSpec, UserSpec
from .faults import FaultInjector, FaultRule
from .model import Change, ChangeItem, JiraApiError, ManualClock, jira_time
from .offline import webhook_change, webhook_request
from .routing import Settings
from .server import JiraTestServer, RequestRecord, make_jira_server
from .sink import Received, WebhookSink
from .ui import UNSET
from .webhooks import (
    Attempt,
    Delivery,
    Subscription,
    WebhookDispatcher,
    build_payload,
    encode_delivery,
    sign,
    verify_signature,
)

__all__ = [
    "INCIDENT_KEY",
    "SEVERITY",
    "UNSET",
    "Attempt",
    "Change",
    "ChangeItem",
    "Delivery",
    "FaultInjector",
    "FaultRule",
    "JiraApiError",
    "JiraTestServer",
    "ManualClock",
    "ProjectSpec",
    "Received",
    "RequestRecord",
    "Settings",
    "Subscription",
    "UserSpec",
    "WebhookDispatcher",
    "WebhookSink",
    "build_payload",
    "encode_delivery",
    "jira_time",
    "make_jira_server",
    "sign",
    "verify_signature",
    "webhook_change",
    "webhook_request",
]
