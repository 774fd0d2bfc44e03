"""API tokens: random secrets shown once, stored as SHA-256 hashes, held by a named owner.

A token belongs to a person or an automation (its owner), so what it does is
audited under that name; it carries scopes, may expire, and can be revoked.
A revoked or expired token is refused like an unknown one (401), with a
detail that says which, so its holder knows to ask for a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from app import audit
from app.domain.errors import Conflict, NotFound, Unauthenticated, field_error
from app.domain.people import Principal, PrincipalKind
from app.domain.vocabulary import Scope
from app.models import ApiToken
from app.runtime import Runtime
from app.schemas.tokens import TokenCreate, TokenIssued, TokenRead, TokenState

__all__ = [
    "Principal",
    "authenticate",
    "create_token",
    "issue_token",
    "list_tokens",
    "parse_bootstrap",
    "revoke_token",
]

LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_bootstrap(spec: str) -> dict[str, Principal]:
    """`name:scope[+scope]:secret,...` from HINDSIGHT_API_TOKENS, keyed by secret hash.

    These are automations (CI, the deployment) named by `name`.
    """
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
        tokens[_hash(secret)] = Principal(name, granted, PrincipalKind.AUTOMATION, name)
    return tokens


def _state(token: ApiToken, now: datetime) -> TokenState:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def _read(token: ApiToken, now: datetime) -> TokenRead:
    return TokenRead(
        name=token.name,
        owner=token.owner or token.name,
        kind=PrincipalKind(token.kind),
        scopes=[Scope(s) for s in token.scopes],
        state=_state(token, now),
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
    )


def issue_token(runtime: Runtime, *, data: TokenCreate, actor: str) -> TokenIssued:
    """A new token for `data.owner`; the secret is in the answer and nowhere else."""
    now = runtime.clock()
    if data.expires_at is not None and data.expires_at <= now:
        raise field_error(["body", "expires_at"], "must be in the future")
    secret = "hs_" + secrets.token_urlsafe(32)
    scopes = sorted({s.value for s in data.scopes})
    with runtime.uow() as uow:
        if uow.session.scalar(select(ApiToken.id).where(ApiToken.name == data.name)):
            raise Conflict(f"a token named {data.name!r} already exists")
        token = ApiToken(
            name=data.name,
            token_hash=_hash(secret),
            scopes=scopes,
            owner=data.owner,
            kind=data.kind.value,
            expires_at=data.expires_at,
            created_at=now,
        )
        uow.session.add(token)
        audit.record(
            uow.session,
            actor=actor,
            action="token.create",
            entity_type="token",
            entity_key=data.name,
            after={
                "owner": data.owner,
                "kind": data.kind.value,
                "scopes": scopes,
                "expires_at": data.expires_at.isoformat() if data.expires_at else None,
            },
        )
        uow.commit()
        return TokenIssued(**_read(token, now).model_dump(), token=secret)


def create_token(
    runtime: Runtime,
    name: str,
    scopes: list[Scope],
    actor: str = "cli",
    *,
    owner: str | None = None,
    kind: PrincipalKind = PrincipalKind.PERSON,
    expires_at: datetime | None = None,
) -> str:
    """The secret of a new token (the CLI and the demo); `owner` defaults to the name."""
    data = TokenCreate(
        name=name, owner=owner or name, kind=kind, scopes=scopes, expires_at=expires_at
    )
    return issue_token(runtime, data=data, actor=actor).token


def list_tokens(runtime: Runtime, *, include_inactive: bool = True) -> list[TokenRead]:
    now = runtime.clock()
    with runtime.db.sessions() as session:
        rows = [_read(t, now) for t in session.scalars(select(ApiToken).order_by(ApiToken.id))]
    return rows if include_inactive else [r for r in rows if r.state == "active"]


def revoke_token(runtime: Runtime, *, name: str, actor: str) -> TokenRead:
    """Revoked at once for every process: authentication reads the row on each request."""
    now = runtime.clock()
    with runtime.uow() as uow:
        token = uow.session.scalar(select(ApiToken).where(ApiToken.name == name))
        if token is None:
            raise NotFound(f"no token named {name!r}")
        if token.revoked_at is not None:
            raise Conflict(
                f"token {name!r} was already revoked at {token.revoked_at:%Y-%m-%d %H:%M} UTC"
            )
        token.revoked_at = now
        audit.record(
            uow.session,
            actor=actor,
            action="token.revoke",
            entity_type="token",
            entity_key=name,
            before={"revoked_at": None},
            after={"revoked_at": now.isoformat(), "owner": token.owner or token.name},
        )
        uow.commit()
        return _read(token, now)


def authenticate(runtime: Runtime, secret: str) -> Principal:
    """The token's holder; `Unauthenticated` (401) for an unknown, revoked or expired token."""
    digest = _hash(secret)
    for known, principal in runtime.bootstrap_tokens.items():
        if hmac.compare_digest(known, digest):
            return principal
    now = runtime.clock()
    with runtime.db.sessions() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if token is None:
            raise Unauthenticated("unknown token; see `hindsight token create`")
        state = _state(token, now)
        if state != "active":
            when = token.revoked_at if state == "revoked" else token.expires_at
            assert when is not None
            raise Unauthenticated(
                f"token {token.name!r} {state} at {when:%Y-%m-%d %H:%M} UTC; ask an admin for a "
                "new one"
            )
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            token.last_used_at = now  # at most one write a minute per token, not one per request
            session.commit()
        return Principal(
            token.owner or token.name,
            frozenset(Scope(s) for s in token.scopes),
            PrincipalKind(token.kind),
            token.name,
        )
