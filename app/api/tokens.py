"""/api/v1/tokens: issue, list and revoke API tokens (admin scope)."""

from __future__ import annotations

from app.domain.people import Principal
from app.domain.vocabulary import Scope
from app.runtime import current
from app.schemas.tokens import TokenCreate, TokenIssued, TokenRead
from app.services import tokens as token_service

from .framework import ApiBlueprint

bp = ApiBlueprint("tokens", __name__, url_prefix="/api/v1/tokens")


@bp.op(
    "GET",
    "",
    summary="Every token: owner, kind, scopes, state, last use, expiry (never the secret)",
    scope=Scope.ADMIN,
    response=list[TokenRead],
)
def list_tokens() -> list[TokenRead]:
    return token_service.list_tokens(current())


@bp.op(
    "POST",
    "",
    summary="Issue a token for a person or automation; the secret is shown once (audited)",
    scope=Scope.ADMIN,
    body=TokenCreate,
    response=TokenIssued,
    status=201,
)
def create_token(body: TokenCreate, actor: Principal) -> TokenIssued:
    return token_service.issue_token(current(), data=body, actor=actor.actor)


@bp.op(
    "DELETE",
    "/<name>",
    summary="Revoke a token now; it gets 401 from then on (audited)",
    scope=Scope.ADMIN,
    response=TokenRead,
)
def revoke_token(name: str, actor: Principal) -> TokenRead:
    return token_service.revoke_token(current(), name=name, actor=actor.actor)
