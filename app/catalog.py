"""The service catalog (config/catalog.yaml): teams, services, people.

Ownership checks, facilitator assignment, escalation and Jira user mapping
all read it, so it is parsed once into typed objects and validated at start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    email: str | None = None
    team: str
    jira_account_id: str | None = None
    jira_username: str | None = None
    facilitator: bool = False


Channel = Literal["webhook", "email", "jira_comment"]
CHANNELS: tuple[Channel, ...] = ("webhook", "email", "jira_comment")


class TeamNotify(BaseModel):
    """Where a team hears about reminders and escalations (all channels when left out)."""

    model_config = ConfigDict(extra="forbid")
    channels: list[Channel] = Field(default_factory=lambda: list(CHANNELS))
    webhook_url: str | None = None  # else HINDSIGHT_NOTIFY_WEBHOOK_URL


class Team(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    lead: str
    director: str | None = None
    default_owner: str | None = None
    slack_channel: str | None = None
    notify: TeamNotify = Field(default_factory=TeamNotify)


class Service(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    team: str
    tier: int = Field(default=2, ge=1, le=4)


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")
    teams: list[Team] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)

    def person(self, name_or_id: str | None) -> Person | None:
        """Find by name, email, Jira accountId or user name: the ways owners get written."""
        if not name_or_id:
            return None
        needle = name_or_id.strip().lower()
        for p in self.people:
            keys = {p.name, p.email, p.jira_account_id, p.jira_username}
            if needle in {k.lower() for k in keys if k}:
                return p
        return None

    def team(self, name: str | None) -> Team | None:
        return next((t for t in self.teams if name and t.name == name), None)

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    def team_for_services(self, services: list[str]) -> Team | None:
        for name in services:
            svc = self.service(name)
            if svc and (team := self.team(svc.team)):
                return team
        return None

    def facilitator_for(self, services: list[str]) -> Person | None:
        """A trained facilitator from outside the owning team keeps the review blameless."""
        owning = self.team_for_services(services)
        outside = [
            p for p in self.people if p.facilitator and (not owning or p.team != owning.name)
        ]
        inside = [p for p in self.people if p.facilitator]
        candidates = outside or inside
        return candidates[0] if candidates else None


class CatalogError(ValueError):
    pass


def load_catalog(config_dir: Path) -> Catalog:
    path = config_dir / "catalog.yaml"
    if not path.exists():
        return Catalog()
    try:
        data = yaml.safe_load(path.read_text()) or {}
        return Catalog.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise CatalogError(f"{path}: {exc}") from None
