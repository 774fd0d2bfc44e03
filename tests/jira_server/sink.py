"""A tiny webhook receiver, so delivery can be tested over a real socket.

It answers with scripted status codes (to exercise Jira's retries) and records the raw
body bytes, because signature checks are only meaningful against the exact bytes sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from .server import QuietHandler
from .webhooks import verify_signature


@dataclass(frozen=True)
class Received:
    body: bytes
    headers: dict[str, str]
    status: int  # what the sink answered

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    @property
    def identifier(self) -> str:
        return self.headers.get("X-Atlassian-Webhook-Identifier", "")

    def signed_with(self, secret: str) -> bool:
        return verify_signature(self.body, self.headers.get("X-Hub-Signature"), secret)


class WebhookSink:
    def __init__(self, statuses: Iterable[int] = ()) -> None:
        self.statuses: deque[int] = deque(statuses)  # consumed per request; then 200
        self.received: list[Received] = []
        self._cond = threading.Condition()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # shutdown() waits up to one poll interval
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "sink not started"
        return f"http://127.0.0.1:{self._server.server_port}/webhooks/jira"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"got {len(self.received)} webhooks, wanted {count}")
                self._cond.wait(left)
            return list(self.received)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        req = Request(environ)
        with self._cond:
            status = self.statuses.popleft() if self.statuses else 200
            self.received.append(Received(req.get_data(), dict(req.headers), status))
            self._cond.notify_all()
        return Response("", status)(environ, start_response)
