"""config/jira.yaml `inbound:`: what a status people set in Jira means in Hindsight.

Actions keep their keys at the top of `inbound` (categories, resolutions,
status_names, priorities). Postmortem and incident issues have a section each
(`inbound.postmortem`, `inbound.incident`) of the same shape; the entries a
site lists replace the defaults one by one, the rest stay. A resolution mapped
to nothing (`null`) says "a done issue closed like this is no decision
Hindsight takes": a postmortem issue closed as Won't Do is not a publication.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.domain.vocabulary import ActionStatus, IncidentStatus, PostmortemStatus

Category = Literal["new", "indeterminate", "done"]
_NOT_DECISIONS = ("Won't Do", "Duplicate", "Cannot Reproduce")


class EntityInbound(BaseModel):
    """Jira status -> Hindsight status for one kind of issue (postmortem or incident)."""

    model_config = ConfigDict(extra="forbid")
    categories: dict[Category, str] = Field(default_factory=dict)
    resolutions: dict[str, str | None] = Field(default_factory=dict)
    status_names: dict[str, str] = Field(default_factory=dict)

    def status(
        self, status_name: str | None, category: str | None, resolution: str | None
    ) -> str | None:
        """Status name first, then a done issue's resolution, then the category; None: no
        Hindsight status (unknown, or a resolution that is no decision)."""
        if status_name and status_name in self.status_names:
            return self.status_names[status_name]
        if category == "done" and resolution and resolution in self.resolutions:
            return self.resolutions[resolution]
        return self.categories.get(category or "")  # type: ignore[call-overload]

    def merged(self, defaults: EntityInbound, valid: set[str], entity: str) -> EntityInbound:
        named = [*self.categories.values(), *self.status_names.values()]
        named += [v for v in self.resolutions.values() if v is not None]
        unknown = sorted(set(named) - valid)
        if unknown:
            raise ValueError(f"inbound.{entity}: unknown Hindsight status(es) {unknown}")
        return EntityInbound(
            categories={**defaults.categories, **self.categories},
            resolutions={**defaults.resolutions, **self.resolutions},
            status_names={**defaults.status_names, **self.status_names},
        )


def _postmortem_defaults() -> EntityInbound:
    return EntityInbound(
        categories={
            "new": PostmortemStatus.DRAFT,
            "indeterminate": PostmortemStatus.IN_REVIEW,
            "done": PostmortemStatus.PUBLISHED,
        },
        resolutions=dict.fromkeys(_NOT_DECISIONS),
    )


def _incident_defaults() -> EntityInbound:
    return EntityInbound(
        categories={
            "new": IncidentStatus.OPEN,
            "indeterminate": IncidentStatus.INVESTIGATING,
            "done": IncidentStatus.RESOLVED,
        }
    )


class Inbound(BaseModel):
    model_config = ConfigDict(extra="forbid")
    categories: dict[str, ActionStatus] = Field(
        default_factory=lambda: {
            "new": ActionStatus.OPEN,
            "indeterminate": ActionStatus.IN_PROGRESS,
            "done": ActionStatus.DONE,
        }
    )
    resolutions: dict[str, ActionStatus] = Field(
        default_factory=lambda: {r: ActionStatus.WONT_DO for r in _NOT_DECISIONS}
    )
    status_names: dict[str, ActionStatus] = Field(default_factory=dict)
    priorities: dict[str, str] = Field(
        default_factory=dict, description="extra Jira priority name -> P0..P3"
    )
    postmortem: EntityInbound = Field(default_factory=_postmortem_defaults)
    incident: EntityInbound = Field(default_factory=_incident_defaults)

    @field_validator("postmortem", mode="after")
    @classmethod
    def _postmortem(cls, value: EntityInbound) -> EntityInbound:
        valid = {s.value for s in PostmortemStatus}
        return value.merged(_postmortem_defaults(), valid, "postmortem")

    @field_validator("incident", mode="after")
    @classmethod
    def _incident(cls, value: EntityInbound) -> EntityInbound:
        return value.merged(_incident_defaults(), {s.value for s in IncidentStatus}, "incident")

    def action_status(
        self, status_name: str | None, category: str | None, resolution: str | None
    ) -> ActionStatus | None:
        """Status name first (e.g. Blocked), then resolution (Won't Do), then category."""
        if status_name and status_name in self.status_names:
            return self.status_names[status_name]
        if category == "done" and resolution and resolution in self.resolutions:
            return self.resolutions[resolution]
        return self.categories.get(category or "")

    def status(
        self, entity_type: str, status_name: str | None, category: str | None, res: str | None
    ) -> str | None:
        if entity_type == "action":
            return self.action_status(status_name, category, res)
        section: EntityInbound = getattr(self, entity_type)
        return section.status(status_name, category, res)

    def resolution_names(self) -> set[str]:
        names: set[str] = set(self.resolutions)
        return names | set(self.postmortem.resolutions) | set(self.incident.resolutions)
