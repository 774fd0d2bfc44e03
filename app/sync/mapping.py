"""config/jira.yaml: how Hindsight's incidents, postmortems and actions look in Jira.

Everything a site may name differently (issue types, priorities, statuses,
resolutions, custom field ids, required defaults) is read from the file and
validated at start, so a typo fails `hindsight sync check` instead of
producing silent 400s in the worker. The functions here are pure: they turn
model objects into tracker-neutral field values and tracker values back into
Hindsight values, which keeps them unit-testable without a database or Jira.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.catalog import Catalog
from app.domain.vocabulary import ActionStatus, IncidentStatus, PostmortemStatus
from app.models import Action, Incident, Postmortem

from .mapping_inbound import Inbound
from .tracker import SYNCED_FIELDS, Flavour, StatusTarget, UserRef

EntityType = Literal["incident", "postmortem", "action"]
ENTITY_TYPES: tuple[EntityType, ...] = ("incident", "postmortem", "action")
# Fields whose Jira-side changes flow back into Hindsight, per entity: a postmortem's
# assignee is its facilitator and its due date the review's; an incident has neither an
# owner nor a due date, and its priority follows its severity, so only its status returns.
INBOUND_FIELDS: dict[EntityType, tuple[str, ...]] = {
    "action": SYNCED_FIELDS,
    "postmortem": ("status", "assignee", "duedate"),
    "incident": ("status",),
}


class StatusRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Literal["new", "indeterminate", "done"]
    resolution: str | None = None
    status: str | None = Field(default=None, description="prefer this status name if offered")

    def target(self) -> StatusTarget:
        return StatusTarget(self.category, self.resolution, self.status)


class CustomField(BaseModel):
    """A Hindsight value written to a field by id (custom field ids differ per site)."""

    model_config = ConfigDict(extra="forbid")
    field: str
    source: Literal["severity", "incident_key", "services", "team", "action_type", "effort"]
    type: Literal["option", "string"] = "string"
    entities: list[EntityType] = Field(default_factory=lambda: list(ENTITY_TYPES))


def _status_map(pairs: dict[str, tuple[str, str | None]]) -> dict[str, StatusRule]:
    return {k: StatusRule(category=c, resolution=r) for k, (c, r) in pairs.items()}  # type: ignore[arg-type]


def _default_statuses() -> dict[EntityType, dict[str, StatusRule]]:
    return {
        "action": _status_map(
            {
                "open": ("new", None),
                "in_progress": ("indeterminate", None),
                "blocked": ("indeterminate", None),
                "done": ("done", "Done"),
                "verified": ("done", "Done"),
                "wont_do": ("done", "Won't Do"),
            }
        ),
        "postmortem": _status_map(
            {
                "draft": ("new", None),
                "in_review": ("indeterminate", None),
                "published": ("done", "Done"),
            }
        ),
        "incident": _status_map(
            {
                "open": ("new", None),
                "investigating": ("indeterminate", None),
                "mitigated": ("indeterminate", None),
                "resolved": ("done", "Done"),
                "closed": ("done", "Done"),
            }
        ),
    }


_VALID_STATUSES: dict[EntityType, set[str]] = {
    "action": {s.value for s in ActionStatus},
    "postmortem": {s.value for s in PostmortemStatus},
    "incident": {s.value for s in IncidentStatus},
}


_ISSUE_TYPES: dict[EntityType, str] = {"incident": "Bug", "postmortem": "Story", "action": "Task"}


class IncidentSource(BaseModel):
    """Jira as an incident source: which issues are incidents people run in Jira."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    project: str | None = Field(default=None, description="default: the mapping's project")
    issue_type: str | None = Field(default=None, description="default: issue_types.incident")


class JiraMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: str | None = None
    issue_types: dict[EntityType, str] = Field(default_factory=lambda: dict(_ISSUE_TYPES))
    actions_as_subtasks: bool = False
    link_type: str = "Relates"
    labels: list[str] = Field(default_factory=lambda: ["hindsight"])
    label_prefix: str = "hs-"
    priorities: dict[str, str] = Field(
        default_factory=lambda: {"P0": "Highest", "P1": "High", "P2": "Medium", "P3": "Low"}
    )
    severity_priorities: dict[str, str] = Field(
        default_factory=lambda: {"SEV1": "Highest", "SEV2": "High", "SEV3": "Medium", "SEV4": "Low"}
    )
    statuses: dict[EntityType, dict[str, StatusRule]] = Field(default_factory=_default_statuses)
    inbound: Inbound = Field(default_factory=Inbound)
    custom_fields: list[CustomField] = Field(default_factory=list)
    # Done, verified and won't-do actions are mirrored in their final state; false skips
    # closed actions that have no issue yet (an import of old history, say).
    mirror_closed_actions: bool = True
    # An owner (or facilitator) Hindsight cannot name in Jira (not in the catalog, or no
    # Jira id there): "leave" the Jira assignee as it is, or "unassign" the issue.
    owner_without_jira_account: Literal["leave", "unassign"] = "leave"
    defaults: dict[EntityType, dict[str, Any]] = Field(default_factory=dict)
    incident_source: IncidentSource = Field(default_factory=IncidentSource)

    @field_validator("labels")
    @classmethod
    def _no_spaces(cls, value: list[str]) -> list[str]:
        bad = [lb for lb in value if not lb or any(c.isspace() for c in lb)]
        if bad:
            raise ValueError(f"Jira labels cannot contain spaces: {bad}")
        if not value:
            raise ValueError("at least one label is needed: reconcile searches by it")
        return value

    @field_validator("statuses")
    @classmethod
    def _complete(
        cls, value: dict[EntityType, dict[str, StatusRule]]
    ) -> dict[EntityType, dict[str, StatusRule]]:
        merged = _default_statuses()
        for entity, rules in value.items():
            unknown = set(rules) - _VALID_STATUSES[entity]
            if unknown:
                raise ValueError(f"{entity}: unknown Hindsight status(es) {sorted(unknown)}")
            merged[entity].update(rules)
        return merged

    # -- names ----------------------------------------------------------------------------
    @property
    def sync_label(self) -> str:
        """The label reconcile searches by; every mirrored issue carries it."""
        return self.labels[0]

    def entity_label(self, entity_type: EntityType, key: str) -> str:
        """hs-<key>: the idempotency key that makes a lost create response harmless."""
        suffix = f"{key}-pm" if entity_type == "postmortem" else key
        return f"{self.label_prefix}{suffix}".replace(" ", "_")

    # -- outbound -------------------------------------------------------------------------
    def status_target(self, entity_type: EntityType, status: str) -> StatusTarget:
        rule = self.statuses[entity_type].get(status)
        return rule.target() if rule else StatusTarget("new")

    @property
    def resolution_names(self) -> tuple[str, ...]:
        """Every resolution the mapping names, both ways: a screenless transition named
        after one of them sets that one, so it is never taken to reach another."""
        names = {r.resolution for rules in self.statuses.values() for r in rules.values()}
        return tuple(sorted({n for n in names if n} | self.inbound.resolution_names()))

    def jira_priority(self, value: str | None) -> str | None:
        return self.priorities.get(value) if value else None

    # -- inbound --------------------------------------------------------------------------
    def hindsight_status(
        self, status_name: str | None, category: str | None, resolution: str | None
    ) -> ActionStatus | None:
        """An action's status: status name first (e.g. Blocked), then resolution (Won't Do),
        then category."""
        return self.inbound.action_status(status_name, category, resolution)

    def inbound_status(
        self,
        entity_type: EntityType,
        status_name: str | None,
        category: str | None,
        resolution: str | None,
    ) -> str | None:
        """The Hindsight status of any mirrored entity for a Jira status (None: none)."""
        return self.inbound.status(entity_type, status_name, category, resolution)

    def hindsight_priority(self, jira_name: str | None) -> str | None:
        if not jira_name:
            return None
        if jira_name in self.inbound.priorities:
            return self.inbound.priorities[jira_name]
        reverse = {v: k for k, v in self.priorities.items()}
        if jira_name in reverse:
            return reverse[jira_name]
        if jira_name.lower() == "lowest":  # Jira's fifth level has no P4: keep the lowest
            return max(self.priorities, default=None)
        return None


class MappingError(ValueError):
    pass


def load_mapping(config_dir: Path, project: str | None = None) -> JiraMapping:
    """Read config/jira.yaml (absent: the defaults); HINDSIGHT_JIRA_PROJECT wins."""
    path = config_dir / "jira.yaml"
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise MappingError(f"{path}: {exc}") from None
    try:
        mapping = JiraMapping.model_validate(data)
    except ValidationError as exc:
        raise MappingError(f"{path}: {exc}") from None
    if project:
        mapping.project = project
    return mapping


# -- entity -> neutral fields ---------------------------------------------------------------


def _one_line(text: str, limit: int = 250) -> str:
    """Jira rejects summaries with newlines or over 255 characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def user_id(person: UserRef | None, flavour: Flavour) -> str | None:
    """The one id a flavour accepts when setting a user field."""
    if person is None:
        return None
    return person.account_id if flavour == "cloud" else (person.name or person.key)


def owner_ref(catalog: Catalog, owner: str | None) -> UserRef | None:
    person = catalog.person(owner)
    if person is None or not (person.jira_account_id or person.jira_username):
        return None
    return UserRef(
        account_id=person.jira_account_id, name=person.jira_username, display_name=person.name
    )


def _source_value(source: str, entity: Incident | Postmortem | Action) -> str | None:
    incident = entity if isinstance(entity, Incident) else entity.incident
    values: dict[str, str | None] = {
        "severity": incident.severity,
        "incident_key": incident.key,
        "services": ", ".join(incident.services or []) or None,
        "team": entity.team if isinstance(entity, Action) else None,
        "action_type": entity.type if isinstance(entity, Action) else None,
        "effort": entity.effort if isinstance(entity, Action) else None,
    }
    return values.get(source)


def custom_values(
    mapping: JiraMapping, entity_type: EntityType, entity: Incident | Postmortem | Action
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cf in mapping.custom_fields:
        if entity_type not in cf.entities:
            continue
        value = _source_value(cf.source, entity)
        if value is None:
            out[cf.field] = None
        else:
            out[cf.field] = {"value": value} if cf.type == "option" else value
    return out


def _lines(*parts: tuple[str, object]) -> str:
    return "\n\n".join(
        f"{label}: {value}" if label else str(value)
        for label, value in parts
        if value not in (None, "", [])
    )


def desired_fields(
    mapping: JiraMapping,
    catalog: Catalog,
    flavour: Flavour,
    entity_type: EntityType,
    entity: Incident | Postmortem | Action,
) -> dict[str, Any]:
    """What the tracker issue should say now, keyed by neutral field name.

    Every value is JSON-serialisable and comparable with the stored snapshot,
    so "what changed" is a dict comparison, field by field.
    """
    fields: dict[str, Any]
    if isinstance(entity, Incident):
        fields = {
            "summary": _one_line(f"{entity.key}: {entity.title}"),
            "description": _lines(
                ("", entity.summary),
                ("Severity", entity.severity),
                ("Services", ", ".join(entity.services or [])),
                ("Hindsight", entity.key),
            ),
            "priority": mapping.severity_priorities.get(entity.severity),
            "duedate": None,
            "assignee": None,
        }
    elif isinstance(entity, Postmortem):
        incident = entity.incident
        fields = {
            "summary": _one_line(f"Postmortem {incident.key}: {incident.title}"),
            "description": _lines(
                ("", entity.summary),
                ("Impact", entity.impact),
                ("Lessons", "; ".join(entity.lessons or [])),
                ("Hindsight", f"{incident.key} postmortem"),
            ),
            "priority": mapping.severity_priorities.get(incident.severity),
            "duedate": _iso(entity.review_due),
            **_assignee(mapping, catalog, flavour, entity.facilitator),
        }
    else:
        fields = {
            "summary": _one_line(f"{entity.key}: {entity.title}"),
            "description": _lines(
                ("", entity.description),
                ("Success criteria", entity.success_criteria),
                ("Validation", entity.validation_method),
                ("Hindsight", f"{entity.key} from {entity.incident.key}"),
            ),
            "priority": mapping.jira_priority(entity.priority),
            "duedate": _iso(entity.due_date),
            **_assignee(mapping, catalog, flavour, entity.owner),
        }
    fields["status"] = mapping.status_target(entity_type, entity.status).token()
    for fid, value in custom_values(mapping, entity_type, entity).items():
        fields[f"custom:{fid}"] = value
    return fields


def _assignee(
    mapping: JiraMapping, catalog: Catalog, flavour: Flavour, person: str | None
) -> dict[str, str | None]:
    """No person: unassigned. A person with no Jira id: left out under "leave" (nothing
    to send, so the Jira assignee stays), unassigned under "unassign"."""
    ident = user_id(owner_ref(catalog, person), flavour) if person else None
    if person and ident is None and mapping.owner_without_jira_account == "leave":
        return {}
    return {"assignee": ident}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def changed_fields(
    desired: dict[str, Any], agreed: dict[str, Any], *, creating: bool = False
) -> dict[str, Any]:
    """Fields whose desired value differs from the last agreed one (all, when creating)."""
    if creating:
        return dict(desired)
    return {k: v for k, v in desired.items() if k not in agreed or agreed[k] != v}
