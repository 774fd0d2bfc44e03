"""OpenAPI 3.1 built from the operations the blueprints declared."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel, TypeAdapter

from app.schemas.common import INT_MAX

from .framework import ApiBlueprint, Operation
from .webhook_docs import webhook_paths

_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
REF = "#/components/schemas/{model}"
# `<id:...>` matches 1..2**31-1 only (framework.IdConverter); anything else there is a 404.
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "id": {"type": "integer", "minimum": 1, "maximum": INT_MAX},
    "int": {"type": "integer"},
}


def _path(rule: str) -> str:
    return _PARAM.sub(lambda m: "{" + m.group(2) + "}", rule)


def _path_params(rule: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _PATH_SCHEMAS.get(conv, {"type": "string"}),
        }
        for conv, name in _PARAM.findall(rule)
    ]


def _problem_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                        "msg": {"type": "string"},
                    },
                },
            },
        },
    }


def _schema_for(tp: Any, defs: dict[str, Any], mode: str = "serialization") -> dict[str, Any]:
    """Named models go to components (so clients get named types); the rest inline."""
    schema = TypeAdapter(tp).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    defs.update(schema.pop("$defs", {}))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", tp.__name__).strip("_")
        name = base if mode == "serialization" else f"{base}Input"
        defs[name] = schema
        return {"$ref": REF.format(model=name)}
    return schema


def _operation_id(op: Operation) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "_", _path(op.rule)).strip("_") or "root"
    return f"{op.tag}_{op.method.lower()}_{words}"


def _operation(op: Operation, defs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "summary": op.summary,
        "operationId": _operation_id(op),
        "tags": [op.tag],
        "parameters": _path_params(op.rule),
        "responses": {
            "default": {
                "description": "Problem details",
                "content": {
                    "application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}
                },
            }
        },
    }
    if op.scope is not None:
        out["security"] = [{"bearer": [str(op.scope)]}]
    if op.query is not None:
        query = op.query.model_json_schema(ref_template=REF, mode="validation")
        defs.update(query.pop("$defs", {}))
        required = set(query.get("required", []))
        for name, schema in query.get("properties", {}).items():
            out["parameters"].append(
                {"name": name, "in": "query", "required": name in required, "schema": schema}
            )
    if op.body is not None:
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_for(op.body, defs, "validation")}},
        }
    if op.status == 204 or op.response is None:
        out["responses"][str(op.status)] = {"description": "No content"}
    else:
        schema = _schema_for(op.response, defs)
        content = {
            ct: {"schema": schema if ct == "application/json" else {"type": "string"}}
            for ct in op.produces
        }
        out["responses"][str(op.status)] = {"description": "Success", "content": content}
        for status, why in (op.also or {}).items():
            out["responses"][str(status)] = {"description": why, "content": content}
    return out


def build_openapi(app: Flask) -> dict[str, Any]:
    defs: dict[str, Any] = {"Problem": _problem_schema()}
    paths: dict[str, dict[str, Any]] = {}
    prefix_ops: list[tuple[str, Operation]] = []
    for bp in app.blueprints.values():
        if isinstance(bp, ApiBlueprint):
            prefix = bp.url_prefix or ""
            prefix_ops.extend((prefix, op) for op in bp.operations)
    for prefix, op in prefix_ops:
        paths.setdefault(_path(prefix + op.rule), {})[op.method.lower()] = _operation(op, defs)
    if "webhooks" in app.blueprints:
        paths.update(webhook_paths(defs, REF.format(model="Problem")))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hindsight",
            "version": "1",
            "description": "Blameless postmortems whose improvement actions get done.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
