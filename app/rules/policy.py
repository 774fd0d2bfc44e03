"""The policy file (config/policy.yaml) as typed, validated settings.

Teams tune their policy by editing YAML, so a mistake there must fail at
start, naming the file, the line and the key; a typo must never silently
fall back to a default. PyYAML's composed node tree keeps the line of every
key, so pydantic's error location is mapped back onto it.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from app.domain.vocabulary import (
    ActionType,
    Effort,
    FindingSeverity,
    Priority,
    RegulatoryFlag,
    Severity,
    TimelineKind,
)
from app.settings import SettingsError

from .catalogue import RULES
from .follow_through import FollowThroughPolicy
from .permissions import VerificationPolicy, WaiverPolicy
from .review import ReviewPolicy

FILE_NAME = "policy.yaml"
LADDER = ("owner", "team_lead", "director")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _covers(name: str, mapping: dict[Any, Any], keys: type[Any]) -> dict[Any, Any]:
    missing = [k.value for k in keys if k not in mapping]
    if missing:
        raise ValueError(f"{name} needs a value for {', '.join(missing)}")
    return mapping


class OwnershipPolicy(_Strict):
    require_catalog_owner: bool = True
    assign_default_owner: bool = False


class EscalationStep(_Strict):
    after_days: int = Field(ge=0)
    to: Literal["owner", "team_lead", "director"]


_DEFAULT_MAX = {Priority.P0: 7, Priority.P1: 30, Priority.P2: 90, Priority.P3: 180}
_DEFAULT_LADDER = (
    EscalationStep(after_days=0, to="owner"),
    EscalationStep(after_days=7, to="team_lead"),
    EscalationStep(after_days=21, to="director"),
)


class DeadlinePolicy(_Strict):
    max_days: dict[Priority, int] = Field(default_factory=lambda: dict(_DEFAULT_MAX))
    default_due: bool = True
    default_days: dict[Priority, int] | None = None
    unprioritised: Priority = Priority.P2
    stale_after_days: int = Field(default=14, ge=1)
    escalation: tuple[EscalationStep, ...] = _DEFAULT_LADDER

    @field_validator("max_days")
    @classmethod
    def _all_priorities(cls, value: dict[Priority, int]) -> dict[Priority, int]:
        if any(days < 1 for days in value.values()):
            raise ValueError("every max_days value must be at least 1")
        return _covers("max_days", value, Priority)

    @field_validator("escalation")
    @classmethod
    def _ladder(cls, value: tuple[EscalationStep, ...]) -> tuple[EscalationStep, ...]:
        days = [s.after_days for s in value]
        if not value or days[0] != 0 or days != sorted(set(days)):
            raise ValueError("escalation steps need strictly increasing after_days starting at 0")
        return value

    def default_for(self, priority: Priority) -> int:
        """Days from creation to the default due date; never beyond what policy allows."""
        days = (self.default_days or {}).get(priority, self.max_days[priority])
        return min(days, self.max_days[priority])


class ScoringPolicy(_Strict):
    severity: dict[Severity, float] = Field(
        default_factory=lambda: {
            Severity.SEV1: 40.0,
            Severity.SEV2: 30,
            Severity.SEV3: 15,
            Severity.SEV4: 5,
        }
    )
    action_type: dict[ActionType, float] = Field(
        default_factory=lambda: {
            ActionType.PREVENT: 25.0,
            ActionType.DETECT: 20,
            ActionType.MITIGATE: 15,
            ActionType.PROCESS: 10,
            ActionType.DOCUMENTATION: 5,
        }
    )
    effort: dict[Effort, float] = Field(
        default_factory=lambda: {Effort.SMALL: 15.0, Effort.MEDIUM: 8.0, Effort.LARGE: 0.0}
    )
    effort_unknown: float = 5
    per_related_incident: float = Field(default=10, ge=0)
    prevention_max: float = Field(default=30, ge=0)
    window_days: int = Field(default=180, ge=1)
    bands: dict[Priority, float] = Field(
        default_factory=lambda: {
            Priority.P0: 80.0,
            Priority.P1: 60.0,
            Priority.P2: 35.0,
            Priority.P3: 0.0,
        }
    )
    set_priority: Literal["never", "missing", "always"] = "missing"

    @field_validator("severity")
    @classmethod
    def _sev(cls, value: dict[Severity, float]) -> dict[Severity, float]:
        return _covers("severity", value, Severity)

    @field_validator("action_type")
    @classmethod
    def _types(cls, value: dict[ActionType, float]) -> dict[ActionType, float]:
        return _covers("action_type", value, ActionType)

    @field_validator("effort")
    @classmethod
    def _effort(cls, value: dict[Effort, float]) -> dict[Effort, float]:
        return _covers("effort", value, Effort)

    @field_validator("bands")
    @classmethod
    def _bands(cls, value: dict[Priority, float]) -> dict[Priority, float]:
        _covers("bands", value, Priority)
        ordered = [value[p] for p in Priority]
        if ordered != sorted(ordered, reverse=True) or len(set(ordered)) != len(ordered):
            raise ValueError("bands must fall strictly from P0 to P3")
        return value

    def band(self, score: float) -> Priority:
        """The most urgent priority whose threshold the score reaches."""
        for priority in Priority:
            if score >= self.bands[priority]:
                return priority
        return Priority.P3


class CompletenessPolicy(_Strict):
    detection_kinds: tuple[TimelineKind, ...] = (TimelineKind.DETECTION, TimelineKind.ALERT)
    resolution_kinds: tuple[TimelineKind, ...] = (TimelineKind.RESOLUTION,)
    # The incident's own detected_at / resolved_at count as detection / resolution too.
    incident_times_count: bool = True
    roles_required_for: tuple[Severity, ...] = (Severity.SEV1, Severity.SEV2)
    review_window_days: int = Field(default=5, ge=0)


class LanguagePolicy(_Strict):
    catalog_people_are_participants: bool = True
    # The blame classifier's cut-off (probability 0..1); None: the trained value in the model card.
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)


class Obligation(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$", max_length=60)
    title: str = Field(min_length=1, max_length=250)
    within_days: float | None = Field(default=None, gt=0)
    within_hours: float | None = Field(default=None, gt=0)
    starts: Literal["detected_at", "started_at", "resolved_at"] = "detected_at"
    owner_team: str | None = None
    priority: Priority = Priority.P0
    success_criteria: str = Field(min_length=1)
    validation_method: str = Field(min_length=1)
    # how often the escalation repeats at the top once the deadline passed (hours); unset:
    # a fraction of the clock (follow_through.regulatory.repeat_fraction, see there)
    repeat_every_hours: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_window(self) -> Obligation:
        if (self.within_days is None) == (self.within_hours is None):
            raise ValueError("give exactly one of within_days or within_hours")
        return self

    @property
    def hours(self) -> float:
        return self.within_hours if self.within_hours is not None else (self.within_days or 0) * 24


class CompliancePolicy(_Strict):
    create_actions: bool = True
    obligations: dict[RegulatoryFlag, tuple[Obligation, ...]] = Field(default_factory=dict)

    @field_validator("obligations")
    @classmethod
    def _unique(
        cls, value: dict[RegulatoryFlag, tuple[Obligation, ...]]
    ) -> dict[RegulatoryFlag, tuple[Obligation, ...]]:
        ids = [o.id for items in value.values() for o in items]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"obligation ids must be unique: {', '.join(dupes)}")
        return value


class RuleSetting(_Strict):
    enabled: bool = True
    severity: FindingSeverity | None = None


def _known_rule(rule_id: str) -> str:
    if rule_id not in RULES:
        raise ValueError(f"unknown rule {rule_id!r}; the rule ids are listed in policy.yaml")
    return rule_id


RuleId = Annotated[str, AfterValidator(_known_rule)]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def interval_seconds(value: object) -> int:
    """'15m' -> 900; an int is seconds; 'off' (or 0) -> 0, meaning never."""
    if isinstance(value, bool):
        raise ValueError("an interval is a number of seconds or text like 15m, 1h, 1d, off")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value.strip().lower() == "off":
        return 0
    elif isinstance(value, str) and value[:-1].isdigit() and value[-1:] in _UNITS:
        seconds = int(value[:-1]) * _UNITS[value[-1]]
    else:
        raise ValueError("an interval is a number of seconds or text like 15m, 1h, 1d, off")
    if seconds < 0:
        raise ValueError("an interval cannot be negative")
    return seconds


Interval = Annotated[int | str, AfterValidator(interval_seconds)]


class Policy(_Strict):
    version: Literal[1] = 1
    ownership: OwnershipPolicy = OwnershipPolicy()
    deadlines: DeadlinePolicy = DeadlinePolicy()
    scoring: ScoringPolicy = ScoringPolicy()
    completeness: CompletenessPolicy = CompletenessPolicy()
    language: LanguagePolicy = LanguagePolicy()
    compliance: CompliancePolicy = CompliancePolicy()
    review: ReviewPolicy = ReviewPolicy()
    follow_through: FollowThroughPolicy = FollowThroughPolicy()
    # Scheduled job name -> interval ("15m", "1h", "1d", seconds, or "off"); see
    # app/services/schedule.py for the jobs and their defaults.
    schedule: dict[str, Interval] = Field(default_factory=dict)
    waivers: WaiverPolicy = WaiverPolicy()
    verification: VerificationPolicy = VerificationPolicy()
    rules: dict[RuleId, RuleSetting] = Field(default_factory=dict)

    def enabled(self, rule_id: str) -> bool:
        setting = self.rules.get(rule_id)
        return setting is None or setting.enabled

    def severity(self, rule_id: str) -> str:
        setting = self.rules.get(rule_id)
        if setting is not None and setting.severity is not None:
            return setting.severity.value
        return RULES[rule_id].severity

    @cached_property
    def digest(self) -> str:
        """Identifies this policy's content: the engine registers one ruleset set per digest."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


class PolicyError(SettingsError):
    """Names the file, line and key, so the fix is obvious from the start-up log alone."""


def load_policy(config_dir: Path) -> Policy:
    """The policy in `config_dir/policy.yaml`; the built-in defaults when there is none."""
    path = config_dir / FILE_NAME
    if not path.exists():
        return Policy()
    return parse_policy(path.read_text(encoding="utf-8"), str(path))


def parse_policy(text: str, source: str = FILE_NAME) -> Policy:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise PolicyError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        raise PolicyError(f"{source}:1: the policy must be a mapping of sections")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False, include_input=False):
            loc = _yaml_loc(err["loc"])
            line = _line_of(node, loc)
            problems.append(f"{source}:{line}: {'.'.join(map(str, loc)) or '(top)'}: {err['msg']}")
        raise PolicyError("invalid policy:\n  " + "\n  ".join(problems)) from None


def _yaml_loc(loc: tuple[int | str, ...]) -> list[int | str]:
    """Drop pydantic's internal steps (`[key]` markers, validator names) from the path."""
    return [p for p in loc if not (isinstance(p, str) and p.startswith(("[key]", "function-")))]


def _line_of(node: yaml.Node | None, loc: list[int | str]) -> int:
    """The 1-based line of the deepest node on the path that exists in the file."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    line = key.start_mark.line + 1
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
