"""Who is acting: the one small value every entry point fills and every use case reads.

A bearer token fills it with the token's owner (a person, or a named
automation such as a CI job); a web session can fill it with the signed-in
user's name and their role's scope. Use cases decide permissions and write
the audit log from it, so an audit entry names a person, never a secret's
label, whichever way they came in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .vocabulary import Scope


class PrincipalKind(StrEnum):
    PERSON = "person"
    AUTOMATION = "automation"


@dataclass(frozen=True)
class Principal:
    person: str  # the name the audit log shows: a person's name or an automation's
    scopes: frozenset[Scope]
    kind: PrincipalKind = PrincipalKind.PERSON
    via: str = ""  # how they came in: the token's name, "session", "cli"

    def can(self, needed: Scope) -> bool:
        return any(scope.grants(needed) for scope in self.scopes)

    @property
    def is_admin(self) -> bool:
        return self.can(Scope.ADMIN)

    @property
    def actor(self) -> str:
        """What the audit log and the status history record as having acted."""
        return self.person


def system(name: str) -> Principal:
    """Hindsight itself or an operator at the shell (`cli`, `demo`, `rules`): all scopes."""
    return Principal(name, frozenset({Scope.ADMIN}), PrincipalKind.AUTOMATION, name)
