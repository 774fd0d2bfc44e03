"""Problem details (RFC 9457): how the API reports every error it returns.

Domain errors carry no HTTP status; this table is the one place that gives
them one, so services stay usable from the CLI, the jobs and the tests alike.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from app.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    Malformed,
    NotFound,
    TooLarge,
    Unauthenticated,
)

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"

STATUS: dict[type[DomainError], int] = {
    Malformed: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    Invalid: 422,
}


def status_of(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 500


def problem_response(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra or {})
    resp = Response(json.dumps(body), status=status, mimetype=PROBLEM)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


CHALLENGE = 'Bearer realm="hindsight"'


def _bearer() -> bool:
    kind, _, secret = request.headers.get("Authorization", "").partition(" ")
    return kind.lower() == "bearer" and bool(secret.strip())


def _served_by_any(app: Flask, methods: list[str]) -> bool:
    """True if one of `methods` really has a route for this path."""
    adapter = app.url_map.bind_to_environ(request.environ)
    for method in methods:
        if method in ("HEAD", "OPTIONS"):
            continue
        try:
            adapter.match(method=method)
        except HTTPException:
            continue
        return True
    return False


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        status = status_of(exc)
        headers = {"WWW-Authenticate": CHALLENGE} if status == 401 else None
        return problem_response(status, exc.title, exc.detail, exc.errors, exc.extra, headers)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        detail = exc.description or ""
        if status == 413:
            limit = request.max_content_length  # the app's, or a larger one an upload route set
            detail = f"request body is larger than {limit} bytes"
        if status == 405 and request.path.startswith("/api/") and not _bearer():
            # Say "who are you?" before "not that method": an anonymous caller learns nothing
            # about which methods a resource has.
            return problem_response(
                401,
                "Unauthorized",
                "send 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": CHALLENGE},
            )
        valid = getattr(exc, "valid_methods", None)
        if status == 405 and not _served_by_any(app, valid or []):
            # Werkzeug says 405 when an `<id:...>` rule refused the value (DELETE .../causes/0)
            # while another method's rule had the same shape: no such resource is a 404.
            return problem_response(404, "Not Found", f"no resource at {request.path}")
        headers = {"Allow": ", ".join(valid)} if valid else None
        return problem_response(status, exc.name, detail, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(500, "Internal error", "an unexpected error was logged")
