"""A thin layer between Flask and the services.

Each endpoint declares its scope and pydantic models once; the decorator
authenticates, parses and validates (problem+json on failure), calls the
view, serialises the result, and records the operation for /openapi.json.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, get_args, get_origin

from flask import Blueprint, Flask, Response, request
from pydantic import BaseModel, TypeAdapter, ValidationError
from werkzeug.routing import IntegerConverter

from app.domain.errors import Forbidden, Malformed, Unauthenticated, from_validation
from app.domain.people import Principal
from app.domain.vocabulary import Scope
from app.runtime import current
from app.schemas.common import load_json
from app.services.tokens import authenticate

M = TypeVar("M", bound=BaseModel)


class IdConverter(IntegerConverter):
    """`<id:name>`: a row id; anything outside 1..2**31-1 cannot be one, so the route is a 404."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=2**31 - 1)


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str
    summary: str
    scope: Scope | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    tag: str
    produces: tuple[str, ...] = ("application/json",)
    also: dict[int, str] | None = None  # other success statuses with the same body, and why


class ApiBlueprint(Blueprint):
    def __init__(self, name: str, import_name: str, **kwargs: Any) -> None:
        super().__init__(name, import_name, **kwargs)
        self.operations: list[Operation] = []

    def op(
        self,
        method: str,
        rule: str,
        *,
        summary: str,
        scope: Scope | None = Scope.READ,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        produces: tuple[str, ...] = ("application/json",),
        also: dict[int, str] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        operation = Operation(
            method, rule, summary, scope, body, query, response, status, self.name, produces, also
        )
        self.operations.append(operation)

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            wants = set(inspect.signature(view).parameters)
            adapter = TypeAdapter(response) if response is not None else None

            def endpoint(**path: Any) -> Response:
                kwargs: dict[str, Any] = dict(path)
                principal = _authorize(operation.scope)
                if "actor" in wants:
                    kwargs["actor"] = principal
                if body is not None:
                    kwargs["body"] = parse_body(body)
                if query is not None:
                    kwargs["query"] = parse_query(query)
                result = view(**kwargs)
                return _respond(result, operation.status, adapter)

            endpoint.__name__ = view.__name__
            self.add_url_rule(rule, view.__name__, endpoint, methods=[method])
            return view

        return decorate


def _authorize(scope: Scope | None) -> Principal | None:
    if scope is None:
        return None
    header = request.headers.get("Authorization", "")
    kind, _, secret = header.partition(" ")
    if kind.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("send 'Authorization: Bearer <token>'; see `hindsight token create`")
    principal = authenticate(current(), secret.strip())  # 401 for unknown, revoked, expired
    if not principal.can(scope):
        raise Forbidden(f"this token lacks the {scope} scope")
    return principal


def read_json() -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise Malformed("the request body is empty; send a JSON object")
    try:
        return load_json(raw)
    except ValueError as exc:
        raise Malformed(f"malformed JSON: {exc}") from None


def parse_body(model: type[M]) -> M:
    data = read_json()
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc, ("body",)) from None


def parse_query(model: type[M]) -> M:
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name not in request.args:
            continue
        is_list = get_origin(field.annotation) is list or any(
            get_origin(a) is list for a in get_args(field.annotation)
        )
        data[name] = request.args.getlist(name) if is_list else request.args[name]
    unknown = set(request.args) - set(model.model_fields)
    if unknown:
        data.update({name: request.args[name] for name in unknown})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc, ("query",)) from None


def _respond(result: Any, status: int, adapter: TypeAdapter[Any] | None) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status=204)
    payload = adapter.dump_json(result) if adapter else json.dumps(result).encode()
    return Response(payload, status=status, mimetype="application/json")
