"""People who sign in: local accounts, password checks, server-side sessions.

Passwords are hashed with Argon2id (argon2-cffi's defaults, the OWASP choice); a
session is a random secret in an HttpOnly cookie whose SHA-256 is a row here, so
signing out or deactivating someone ends their sessions at once, on every process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import audit
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.people import Principal, PrincipalKind
from app.domain.vocabulary import Scope
from app.models import User, WebSession, utcnow
from app.runtime import Runtime

SESSION_LIFETIME = timedelta(hours=12)
_hasher = PasswordHasher()
# Checked against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    VIEWER = "viewer"
    MEMBER = "member"
    FACILITATOR = "facilitator"
    ADMIN = "admin"

    @property
    def scope(self) -> Scope:
        """The API scope a role carries: the web checks the same scopes the API does."""
        if self is Role.VIEWER:
            return Scope.READ
        return Scope.ADMIN if self is Role.ADMIN else Scope.WRITE

    @property
    def can_waive(self) -> bool:
        """Whether the page offers the waiver form. Only a hint: the waivers policy decides
        (the incident's facilitator or an admin by default), and the service enforces it."""
        return self in {Role.FACILITATOR, Role.ADMIN}


@dataclass(frozen=True)
class Person:
    """Who is acting through the web: Principal-like (scopes, `can`, `actor`) with a name."""

    username: str
    display_name: str
    role: Role
    team: str | None = None

    @property
    def name(self) -> str:
        return self.username

    @property
    def scopes(self) -> frozenset[Scope]:
        return frozenset({self.role.scope})

    def can(self, needed: Scope) -> bool:
        return self.role.scope.grants(needed)

    @property
    def principal(self) -> Principal:
        """The same "who is acting" value a token fills, so permissions and the audit log
        treat a signed-in person and a person's token alike (`via` keeps the account)."""
        return Principal(
            self.display_name, self.scopes, PrincipalKind.PERSON, f"user:{self.username}"
        )

    @property
    def actor(self) -> str:
        """What the audit log records: the person's name, as for a token's owner."""
        return self.principal.actor


@dataclass(frozen=True)
class SignedIn:
    person: Person
    csrf_token: str
    secret: str | None = None  # set only when the session was just created (for the cookie)


def _person(user: User) -> Person:
    return Person(user.username, user.display_name, Role(user.role), user.team)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clean_username(username: str) -> str:
    name = username.strip().lower()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise Invalid(
            "a username is 1-100 characters without spaces",
            errors=[{"loc": ["username"], "msg": "1-100 characters, no spaces"}],
        )
    return name


def create_user(
    runtime: Runtime,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str | None,
    team: str | None = None,
    actor: str = "cli",
) -> Person:
    """A password of at least 12 characters, or none for someone who signs in through SSO."""
    name = _clean_username(username)
    if password is not None and len(password) < 12:
        raise Invalid(
            "a password has at least 12 characters",
            errors=[{"loc": ["password"], "msg": "at least 12 characters"}],
        )
    with runtime.uow() as uow:
        if uow.session.scalar(select(User).where(User.username == name)):
            raise Conflict(f"a user named {name!r} already exists")
        user = User(
            username=name,
            display_name=display_name.strip() or name,
            password_hash=_hasher.hash(password) if password else "",
            role=role.value,
            team=team,
            active=True,
        )
        uow.session.add(user)
        audit.record(
            uow.session,
            actor=actor,
            action="user.create",
            entity_type="user",
            entity_key=name,
            after={"role": role.value, "display_name": user.display_name, "team": team},
        )
        uow.commit()
        return _person(user)


def _open_session(session: Session, user: User, now: datetime) -> SignedIn:
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.add(
        WebSession(
            token_hash=_digest(secret),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return SignedIn(_person(user), csrf, secret)


def sign_in(runtime: Runtime, *, username: str, password: str) -> SignedIn | None:
    """A new session for a right username and password of an active account, else None."""
    now = utcnow()
    with runtime.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == username.strip().lower()))
        stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or not user.active or not user.password_hash:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        signed = _open_session(uow.session, user, now)
        uow.commit()
        return signed


def sign_in_trusted(runtime: Runtime, *, username: str) -> SignedIn:
    """A session for the person a trusted SSO proxy vouched for; they must have an account."""
    with runtime.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None or not user.active:
            raise NotFound(f"no active Hindsight account for {username!r}")
        signed = _open_session(uow.session, user, utcnow())
        uow.commit()
        return signed


def session_person(runtime: Runtime, secret: str) -> SignedIn | None:
    """The person behind a session cookie, while the session lasts and the account is active."""
    with runtime.db.sessions() as session:
        row = session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == _digest(secret))
        ).first()
        if row is None:
            return None
        web_session, user = row
        if not user.active or web_session.expires_at <= utcnow():
            return None
        return SignedIn(_person(user), web_session.csrf_token)


def sign_out(runtime: Runtime, secret: str) -> None:
    with runtime.uow() as uow:
        uow.session.execute(delete(WebSession).where(WebSession.token_hash == _digest(secret)))
        uow.commit()


def same_token(expected: str, given: str) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())
