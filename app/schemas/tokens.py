"""API models for tokens: who holds one, what it may do, until when."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.domain.people import PrincipalKind
from app.domain.vocabulary import Scope

from .common import Input, Name, Output, Timestamp

TokenState = Literal["active", "revoked", "expired"]


class TokenCreate(Input):
    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="a label for the token, unique (e.g. ci-deploy, priya-laptop)",
    )
    owner: Name = Field(description="the person or automation the audit log names for its use")
    kind: PrincipalKind = PrincipalKind.PERSON
    scopes: list[Scope] = Field(min_length=1, max_length=3)
    expires_at: Timestamp | None = Field(
        default=None, description="after this the token gets 401; none: until revoked"
    )


class TokenRead(Output):
    name: str
    owner: str
    kind: PrincipalKind
    scopes: list[Scope]
    state: TokenState
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(TokenRead):
    token: str = Field(description="the secret, shown this once; only its SHA-256 is stored")
