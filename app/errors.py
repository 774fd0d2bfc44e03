"""Problem details (RFC 9457) for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


class Problem(Exception):
    status = 500
    title = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra or {}


class BadRequest(Problem):
    status, title = 400, "Bad request"


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"


class Forbidden(Problem):
    status, title = 403, "Forbidden"


class NotFound(Problem):
    status, title = 404, "Not found"


class Conflict(Problem):
    status, title = 409, "Conflict"


class Unprocessable(Problem):
    status, title = 422, "Validation failed"


def field_error(loc: list[str | int] | tuple[str | int, ...], msg: str) -> Unprocessable:
    return Unprocessable(
        f"{'.'.join(map(str, loc))}: {msg}", errors=[{"loc": list(loc), "msg": msg}]
    )


def from_validation(exc: ValidationError, prefix: tuple[str, ...] = ("body",)) -> Unprocessable:
    errors = [
        {"loc": [*prefix, *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    first = errors[0]
    return Unprocessable(
        f"{len(errors)} invalid field(s); first: {'.'.join(map(str, first['loc']))}: "
        f"{first['msg']}",
        errors=errors,
    )


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


def init_app(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc.status, exc.title, exc.detail, exc.errors, exc.extra)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        detail = exc.description or ""
        if status == 413:
            detail = f"request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        headers = (
            {"Allow": ", ".join(exc.valid_methods)}
            if hasattr(exc, "valid_methods") and exc.valid_methods
            else None
        )  # type: ignore[attr-defined]
        return problem_response(status, exc.name, detail, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(500, "Internal error", "an unexpected error was logged")
