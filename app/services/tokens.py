"""API tokens: random secrets shown once, stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from app import audit
from app.domain.errors import Conflict
from app.domain.vocabulary import Scope
from app.models import ApiToken, utcnow
from app.runtime import Runtime


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[Scope]

    def can(self, needed: Scope) -> bool:
        return any(scope.grants(needed) for scope in self.scopes)

    @property
    def actor(self) -> str:
        return f"token:{self.name}"


LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_bootstrap(spec: str) -> dict[str, Principal]:
    """`name:scope[+scope]:secret,...` from HINDSIGHT_API_TOKENS, keyed by secret hash."""
    tokens: dict[str, Principal] = {}
    for raw in filter(None, (part.strip() for part in spec.split(","))):
        name, scopes, secret = (raw.split(":", 2) + ["", ""])[:3]
        if not name or not secret:
            raise ValueError(f"{raw[:20]!r}...: expected name:scope:secret")
        if len(secret) < 16:
            raise ValueError(f"bootstrap token {name!r}: secret must be at least 16 characters")
        try:
            granted = frozenset(Scope(s) for s in scopes.split("+"))
        except ValueError:
            raise ValueError(f"token {name!r}: scopes are read, write, admin") from None
        tokens[_hash(secret)] = Principal(name, granted)
    return tokens


def create_token(runtime: Runtime, name: str, scopes: list[Scope], actor: str = "cli") -> str:
    secret = "hs_" + secrets.token_urlsafe(32)
    with runtime.uow() as uow:
        if uow.session.scalar(select(ApiToken).where(ApiToken.name == name)):
            raise Conflict(f"a token named {name!r} already exists")
        uow.session.add(ApiToken(name=name, token_hash=_hash(secret), scopes=[*map(str, scopes)]))
        audit.record(
            uow.session,
            actor=actor,
            action="token.create",
            entity_type="token",
            entity_key=name,
            after={"scopes": [str(s) for s in scopes]},
        )
        uow.commit()
    return secret


def authenticate(runtime: Runtime, secret: str) -> Principal | None:
    digest = _hash(secret)
    for known, principal in runtime.bootstrap_tokens.items():
        if hmac.compare_digest(known, digest):
            return principal
    with runtime.db.sessions() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if token is None or token.revoked_at is not None:
            return None
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            token.last_used_at = now  # at most one write a minute per token, not one per request
            session.commit()
        return Principal(token.name, frozenset(Scope(s) for s in token.scopes))
