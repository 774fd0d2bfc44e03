"""The Flask application factory: everything the HTTP service needs, built from one Settings."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from . import runtime
from .api import problems, register
from .api.metrics import Metrics
from .queue import BackgroundQueue
from .services import schedule
from .services.evaluation import warm_up as rules_warm_up
from .services.tokens import parse_bootstrap
from .settings import Settings, SettingsError, load_settings
from .web import register as register_web


def create_app(settings: Settings | None = None) -> Flask:
    """The Flask factory: everything is built here, from one Settings object."""
    settings = settings or load_settings()
    try:
        bootstrap_tokens = parse_bootstrap(settings.api_tokens)
    except ValueError as exc:
        raise SettingsError(f"invalid settings: HINDSIGHT_API_TOKENS: {exc}") from None
    rt = runtime.build(settings)
    rt.bootstrap_tokens = bootstrap_tokens
    rules_warm_up(rt)  # a bad policy.yaml or catalog stops the start, naming file:line and key
    schedule.check(rt)  # and an unknown job name in its schedule: block
    metrics = Metrics(rt)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["HINDSIGHT_RUNTIME"] = rt
    app.extensions["hindsight_metrics"] = metrics
    app.json.sort_keys = False  # type: ignore[attr-defined]
    problems.init_app(app)
    register(app)
    register_web(app)  # pages for people at /, beside the API

    @app.before_request
    def _activate() -> None:
        runtime.activate(rt)
        g.started = time.perf_counter()
        if isinstance(rt.queue, BackgroundQueue):
            rt.queue.request_started()
            g.counted = True

    @app.teardown_request
    def _finished(_exc: BaseException | None) -> None:
        if g.pop("counted", False) and isinstance(rt.queue, BackgroundQueue):
            rt.queue.request_finished()

    @app.after_request
    def _count(response):  # type: ignore[no-untyped-def]
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.requests.labels(request.method, endpoint, str(response.status_code)).inc()
        if "started" in g:
            metrics.latency.labels(endpoint).observe(time.perf_counter() - g.started)
        return _secure(response)

    return app


# Pages are self-contained (inline styles, no scripts, no outside resources): the policy
# says exactly that, so injected markup could neither run nor load anything.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _secure(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response
