"""Listing and revoking API tokens (the web's admin page); creating them is in tokens.py.

Kept beside `tokens` rather than in it, so token ownership work there can change how a
token is created without this file moving."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app import audit
from app.domain.errors import Conflict, NotFound
from app.models import ApiToken, utcnow
from app.runtime import Runtime


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_tokens(runtime: Runtime) -> list[TokenInfo]:
    """Stored tokens, newest first (never the secret: only its hash is kept anyway)."""
    with runtime.db.sessions() as session:
        rows = session.scalars(select(ApiToken).order_by(ApiToken.id.desc()))
        return [
            TokenInfo(t.id, t.name, list(t.scopes), t.created_at, t.last_used_at, t.revoked_at)
            for t in rows
        ]


def revoke_token(runtime: Runtime, token_id: int, actor: str) -> None:
    with runtime.uow() as uow:
        token = uow.session.get(ApiToken, token_id)
        if token is None:
            raise NotFound(f"no token {token_id}")
        if token.revoked_at is not None:
            raise Conflict(f"token {token.name!r} is already revoked")
        token.revoked_at = utcnow()
        audit.record(
            uow.session,
            actor=actor,
            action="token.revoke",
            entity_type="token",
            entity_key=token.name,
            before={"scopes": list(token.scopes)},
        )
        uow.commit()
