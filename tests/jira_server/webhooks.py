"""Jira-shaped webhook payloads, signing, and a dispatcher tests can steer.

Real Jira delivers asynchronously, may deliver out of order, and retries with the same
``X-Atlassian-Webhook-Identifier``; receivers must dedupe and tolerate reordering. The
dispatcher can therefore deliver inline ("sync"), from a worker thread ("async"), or
hold everything until a test flushes it in whatever order it wants ("hold").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import requests

from .model import Change, ChangeItem

DeliveryMode = Literal["sync", "async", "hold"]
Transport = Callable[[str, bytes, Mapping[str, str]], int]
RETRYABLE = {408, 409, 425, 429, 500, 502, 503, 504}


def build_payload(
    event: str,
    *,
    issue: Mapping[str, Any] | None,
    user: Mapping[str, Any] | None,
    timestamp_ms: int,
    items: Sequence[ChangeItem] = (),
    changelog_id: str | None = None,
    comment: Mapping[str, Any] | None = None,
    issue_event_type_name: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body Jira posts; key order mirrors real deliveries for readable diffs."""
    body: dict[str, Any] = {"timestamp": timestamp_ms, "webhookEvent": event}
    if issue_event_type_name:
        body["issue_event_type_name"] = issue_event_type_name
    if user is not None:
        body["user"] = dict(user)
    if issue is not None:
        body["issue"] = dict(issue)
    if items:
        body["changelog"] = {"id": changelog_id, "items": [i.as_json() for i in items]}
    if comment is not None:
        body["comment"] = dict(comment)
    body.update(extra or {})
    return body


def payload_of(c: Change) -> dict[str, Any]:
    return build_payload(
        c.event,
        issue=c.issue,
        user=c.user,
        timestamp_ms=c.timestamp_ms,
        items=c.items,
        changelog_id=c.changelog_id,
        comment=c.comment,
        issue_event_type_name=c.issue_event_type_name,
        extra=c.extra,
    )


def sign(body: bytes, secret: str) -> str:
    """``X-Hub-Signature`` value: WebSub style, HMAC-SHA256 over the *raw* body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    return header is not None and hmac.compare_digest(header, sign(body, secret))


def encode_delivery(
    payload: Mapping[str, Any],
    *,
    secret: str | None = None,
    identifier: str | None = None,
    retry: int = 0,
    body: bytes | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Pure helper: ``(body_bytes, headers)`` ready for ``client.post(data=..., headers=...)``."""
    raw = body if body is not None else json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Atlassian Webhook HTTP Client",
        "X-Atlassian-Webhook-Identifier": identifier or str(uuid.uuid4()),
        "X-Atlassian-Webhook-Flow": "Primary",
    }
    if retry:
        headers["X-Atlassian-Webhook-Retry"] = str(retry)
    if secret:
        headers["X-Hub-Signature"] = sign(raw, secret)
    return raw, headers


def http_transport(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    return requests.post(url, data=body, headers=dict(headers), timeout=5).status_code


@dataclass(frozen=True)
class Subscription:
    url: str
    secret: str | None = None
    events: frozenset[str] | None = None  # None = every event
    transport: Transport = http_transport

    def wants(self, event: str) -> bool:
        return self.events is None or event in self.events


@dataclass
class Attempt:
    retry: int
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(eq=False)  # identity semantics: two deliveries are never "the same" delivery
class Delivery:
    """One webhook for one subscriber; the body bytes are fixed so retries are identical."""

    subscription: Subscription
    payload: dict[str, Any]
    identifier: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempts: list[Attempt] = field(default_factory=list)
    body: bytes = b""

    def __post_init__(self) -> None:
        self.body = self.body or json.dumps(self.payload, separators=(",", ":")).encode()

    @property
    def event(self) -> str:
        return str(self.payload["webhookEvent"])

    def request(self, retry: int = 0) -> tuple[bytes, dict[str, str]]:
        return encode_delivery(
            self.payload,
            secret=self.subscription.secret,
            identifier=self.identifier,
            retry=retry,
            body=self.body,
        )

    def send(self) -> Attempt:
        retry = len(self.attempts)
        body, headers = self.request(retry)
        try:
            att = Attempt(retry, self.subscription.transport(self.subscription.url, body, headers))
        except Exception as e:  # transport failures are data for the test, not crashes
            att = Attempt(retry, None, f"{type(e).__name__}: {e}")
        self.attempts.append(att)
        return att


class WebhookDispatcher:
    def __init__(
        self, mode: DeliveryMode = "sync", *, max_retries: int = 0, retry_delay: float = 0.0
    ) -> None:
        self.mode: DeliveryMode = mode
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self.subscriptions: list[Subscription] = []
        self.deliveries: list[Delivery] = []  # every delivery ever created, in emit order
        self.held: list[Delivery] = []
        self._lock = threading.Lock()
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._worker: threading.Thread | None = None

    def subscribe(
        self,
        url: str,
        secret: str | None = None,
        *,
        events: Iterable[str] | None = None,
        transport: Transport | None = None,
    ) -> Subscription:
        sub = Subscription(
            url,
            secret,
            frozenset(events) if events is not None else None,
            transport or http_transport,
        )
        with self._lock:
            self.subscriptions.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self.subscriptions.remove(sub)

    def emit(self, changes: Iterable[Change]) -> list[Delivery]:
        with self._lock:
            subs = list(self.subscriptions)
            new = [Delivery(s, payload_of(c)) for c in changes for s in subs if s.wants(c.event)]
            self.deliveries.extend(new)
            if self.mode == "hold":
                self.held.extend(new)
        if self.mode == "sync":
            for d in new:
                self._deliver(d)
        elif self.mode == "async":
            self._ensure_worker()
            for d in new:
                self._queue.put(d)
        return new

    def flush(
        self,
        order: Literal["fifo", "reverse", "shuffle"] | Sequence[int] = "fifo",
        *,
        seed: int = 0,
    ) -> list[Delivery]:
        """Deliver held webhooks now, in the given order (indexes into ``held`` allowed)."""
        with self._lock:
            batch, self.held = self.held, []
        if order == "reverse":
            batch.reverse()
        elif order == "shuffle":
            random.Random(seed).shuffle(batch)
        elif not isinstance(order, str):
            picked = [batch[i] for i in order]
            with self._lock:
                self.held = [d for d in batch if d not in picked] + self.held
            batch = picked
        for d in batch:
            self._deliver(d)
        return batch

    def drop_held(self) -> list[Delivery]:
        """Lose held deliveries (Jira gives up after its retries); they stay in ``deliveries``."""
        with self._lock:
            batch, self.held = self.held, []
        return batch

    def replay(self, delivery: Delivery) -> Attempt:
        """Send again with the same identifier and ``X-Atlassian-Webhook-Retry: n``."""
        return delivery.send()

    def wait_idle(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)
        if self._queue.unfinished_tasks:
            raise TimeoutError("webhook deliveries still pending")

    def close(self) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=5)
            self._worker = None

    def _deliver(self, d: Delivery) -> None:
        att = d.send()
        while (
            not att.ok
            and (att.status is None or att.status in RETRYABLE)
            and len(d.attempts) <= self.max_retries
        ):
            time.sleep(self.retry_delay)
            att = d.send()

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="jira-webhooks", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            d = self._queue.get()
            try:
                if d is None:
                    return
                self._deliver(d)
            finally:
                self._queue.task_done()
