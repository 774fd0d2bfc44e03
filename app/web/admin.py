"""Admin pages: the sync dead letter with retry, and API tokens (list, create, revoke)."""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for
from sqlalchemy import select

from app.domain.errors import Conflict, DomainError, NotFound
from app.domain.vocabulary import Scope
from app.models import OutboxItem
from app.runtime import current
from app.services import tracker_sync
from app.services.tokens import create_token, list_tokens
from app.services.tokens import revoke_token as revoke
from app.sync import outbox

from . import bp
from .auth import needs, person


def _failures() -> list[OutboxItem]:
    with current().db.sessions() as session:
        dead = select(OutboxItem).where(OutboxItem.status == outbox.DEAD)
        return list(session.scalars(dead.order_by(OutboxItem.updated_at.desc()).limit(200)))


@bp.route("/admin/sync-failures")
@needs(Scope.ADMIN)
def sync_failures() -> str:
    return render_template(
        "web/sync_failures.html.j2", failures=_failures(), message=request.args.get("message")
    )


@bp.route("/admin/sync-failures/<id:failure_id>/retry", methods=["POST"])
@needs(Scope.ADMIN)
def retry_failure(failure_id: int) -> Any:
    try:
        tracker_sync.retry_failure(current(), failure_id)
    except (Conflict, DomainError) as exc:
        return redirect(url_for("web.sync_failures", message=exc.detail))
    return redirect(url_for("web.sync_failures", message=f"Item {failure_id} is queued again."))


def _tokens_page(
    secret: str | None = None, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    html = render_template(
        "web/tokens.html.j2",
        tokens=list_tokens(current()),
        secret=secret,
        errors=errors or {},
        scopes=[s.value for s in Scope],
    )
    return Response(html, status=status, mimetype="text/html")


@bp.route("/admin/tokens", methods=["GET", "POST"])
@needs(Scope.ADMIN)
def tokens() -> Response:
    if request.method == "GET":
        return _tokens_page()
    name = request.form.get("name", "").strip()
    owner = request.form.get("owner", "").strip() or person().display_name
    chosen = request.form.getlist("scopes")
    errors = {}
    if not name or len(name) > 100:
        errors["name"] = "a name of 1-100 characters says who or what the token is for"
    if not chosen or any(s not in {x.value for x in Scope} for s in chosen):
        errors["scopes"] = "choose at least one of read, write, admin"
    if errors:
        return _tokens_page(errors=errors, status=422)
    try:
        secret = create_token(
            current(), name, [Scope(s) for s in chosen], actor=person().actor, owner=owner
        )
    except Conflict as exc:
        return _tokens_page(errors={"name": exc.detail}, status=422)
    return _tokens_page(secret=secret, status=201)


@bp.route("/admin/tokens/<name>/revoke", methods=["POST"])
@needs(Scope.ADMIN)
def revoke_token(name: str) -> Any:
    try:
        revoke(current(), name=name, actor=person().actor)
    except DomainError as exc:  # unknown or already revoked: say so on the page
        return _tokens_page(
            errors={"name": exc.detail}, status=404 if isinstance(exc, NotFound) else 409
        )
    return redirect(url_for("web.tokens"))
