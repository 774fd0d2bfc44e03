"""Health, metrics, audit verification and the OpenAPI document."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, Field
from sqlalchemy import text

from app.domain.errors import Unauthenticated
from app.domain.vocabulary import Scope
from app.runtime import current
from app.services.checkpoints import verify_chain
from app.services.tracker_sync import tracker_health

from .framework import ApiBlueprint
from .metrics import render
from .openapi import build_openapi

bp = ApiBlueprint("system", __name__)


class AuditBreak(BaseModel):
    seq: int
    reason: str


class AuditVerifyRead(BaseModel):
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    checkpoints: int = Field(description="signed checkpoints the chain was compared with")
    first_broken_seq: int | None
    reason: str | None
    broken: list[AuditBreak] = Field(description="every broken entry, not only the first")


@bp.op(
    "GET",
    "/api/v1/audit/verify",
    summary="Check the audit log's hash chain",
    scope=Scope.ADMIN,
    response=AuditVerifyRead,
)
def verify_audit() -> AuditVerifyRead:
    result = verify_chain(current())
    return AuditVerifyRead(
        ok=result.ok,
        checked=result.checked,
        head_seq=result.head_seq,
        head_hash=result.head_hash,
        checkpoints=result.checkpoints,
        first_broken_seq=result.first_broken_seq,
        reason=result.reason,
        broken=[AuditBreak(seq=b.seq, reason=b.reason) for b in result.broken],
    )


plain = Blueprint("plain", __name__)


@plain.get("/healthz")
def healthz() -> tuple[Response, int]:
    runtime = current()
    checks: dict[str, Any] = {}
    try:
        with runtime.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "dialect": runtime.db.dialect}
    except Exception as exc:  # health must answer even when the database does not
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    checks["queue"] = {"ok": runtime.queue.healthy(), "kind": runtime.queue.kind}
    ok = all(c["ok"] for c in checks.values())
    # The tracker is reported but does not fail the probe: with Jira down Hindsight still
    # takes every write (the outbox keeps it), so a load balancer must keep sending traffic.
    # `status` says "degraded"; the HTTP status stays 200 unless our own parts are down.
    tracker = _tracker_check(runtime) if checks["database"]["ok"] else None
    if tracker is not None:
        checks["tracker"] = tracker
    healthy = ok and (tracker is None or tracker["ok"])
    return jsonify(status="ok" if healthy else "degraded", checks=checks), 200 if ok else 503


def _tracker_check(runtime: Any) -> dict[str, Any] | None:
    try:
        health = tracker_health(runtime)
    except Exception as exc:  # an unmigrated database must not break the probe
        return {"ok": False, "error": type(exc).__name__}
    if not health.enabled:
        return None
    return {
        "ok": health.reachable,
        "reachable": health.reachable,
        "breaker": health.breaker,
        "unreachable_since": health.since,
        "next_probe_at": health.retry_at,
        "last_error": health.last_error,
        "outbox_waiting": health.waiting,
        "outbox_dead": health.dead,
    }


@plain.get("/metrics")
def metrics() -> Response:
    """Prometheus exposition; with HINDSIGHT_METRICS_TOKEN set, only for that bearer token."""
    wanted = current().settings.metrics_token
    if wanted:
        kind, _, given = request.headers.get("Authorization", "").partition(" ")
        if kind.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), wanted.encode()
        ):
            raise Unauthenticated(
                "/metrics needs 'Authorization: Bearer <HINDSIGHT_METRICS_TOKEN>'"
            )
    return Response(
        render(current_app.extensions["hindsight_metrics"]),
        mimetype="text/plain; version=0.0.4",
    )


@plain.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_openapi(current_app))
