"""What policies produce: findings to show and changes to write.

A finding's fingerprint leaves out anything that drifts over time (days
overdue, the score), so a waiver given today still matches the same finding
next week, and unchanged findings keep their row (and id) across
re-evaluations.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from app.catalog import Catalog

from .policy import Policy
from .views import ActionView


@dataclass(frozen=True)
class Context:
    """Everything a policy may consult besides the incident itself."""

    policy: Policy
    catalog: Catalog
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    today: date = field(init=False)
    _people: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "today", self.now.astimezone(UTC).date())
        keys = {
            k.lower()
            for p in self.catalog.people
            for k in (p.name, p.email, p.jira_account_id, p.jira_username)
            if k
        }
        object.__setattr__(self, "_people", frozenset(keys))

    def knows(self, person: str) -> bool:
        """Catalog membership by any of the ways owners get written (name, e-mail, Jira id)."""
        return person.strip().lower() in self._people


@dataclass(frozen=True)
class FindingDraft:
    rule: str
    severity: str
    entity_type: str
    entity_key: str
    message: str
    suggestion: str
    details: dict[str, Any] = field(default_factory=dict)
    discriminator: str = ""

    @property
    def fingerprint(self) -> str:
        raw = "|".join((self.rule, self.entity_type, self.entity_key, self.discriminator))
        return hashlib.sha256(raw.encode()).hexdigest()

    @property
    def line(self) -> int | None:
        value = self.details.get("line")
        return value if isinstance(value, int) else None


@dataclass(frozen=True)
class Change:
    """A write that evaluation makes itself (audited as the `rules` actor)."""

    rule: str
    entity_type: str
    entity_key: str
    values: dict[str, Any]
    reason: str


@dataclass
class Outcome:
    findings: list[FindingDraft] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def blockers(self) -> list[FindingDraft]:
        return [f for f in self.findings if f.severity == "blocker"]


def action_finding(
    ctx: Context,
    rule: str,
    action: ActionView,
    message: str,
    suggestion: str,
    details: dict[str, Any] | None = None,
) -> FindingDraft:
    """A finding about one action, at the policy's severity, pointing at its Markdown line."""
    data = dict(details or {})
    if action.line:
        data["line"] = action.line
    return FindingDraft(
        rule, ctx.policy.severity(rule), "action", action.key, message, suggestion, data
    )
