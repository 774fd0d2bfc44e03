"""Plain, immutable snapshots of what the policies look at.

Policies read these rather than ORM objects so the same code checks an
incident in the database, a Markdown file under `hindsight lint`, and the
100,000 synthetic actions of the benchmark, with no session, lazy loading
or I/O in sight (and so unit tests build them in a line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from app.domain.vocabulary import ActionStatus


@dataclass(frozen=True, slots=True)
class ValidationView:
    """The latest validation record of an action (what was checked, and whether it held)."""

    id: int
    result: str  # pass | fail
    checked: str
    checked_at: datetime
    checked_by: str
    evidence: str


@dataclass(frozen=True, slots=True)
class ActionView:
    key: str
    title: str
    type: str
    owner: str | None = None
    team: str | None = None
    due_date: date | None = None
    priority: str | None = None
    score: float | None = None
    effort: str | None = None
    success_criteria: str | None = None
    validation_method: str | None = None
    status: str = "open"
    is_compliance: bool = False
    compliance_rule: str | None = None
    created_at: datetime | None = None
    last_activity_at: datetime | None = None
    cause_keys: tuple[str, ...] = ()
    line: int | None = None
    last_validation: ValidationView | None = None
    has_passing_validation: bool = False

    @property
    def is_open(self) -> bool:
        return not ActionStatus(self.status).is_closed

    @property
    def counts(self) -> bool:
        """A won't-do action addresses nothing: it was decided against."""
        return self.status != ActionStatus.WONT_DO.value


@dataclass(frozen=True, slots=True)
class CauseView:
    key: str
    kind: str
    category: str
    statement: str
    why: str | None = None
    line: int | None = None
    why_line: int | None = None  # in Markdown the "Why:" may sit lines below the statement


@dataclass(frozen=True, slots=True)
class TimelineView:
    key: str
    kind: str
    text: str
    at: datetime | None = None
    is_decision: bool = False
    rationale: str | None = None
    line: int | None = None
    obligation: str | None = None  # a `notification` event: the compliance obligation it meets


@dataclass(frozen=True, slots=True)
class ParticipantView:
    role: str
    name: str | None = None
    team: str | None = None


@dataclass(frozen=True, slots=True)
class PostmortemView:
    status: str = "draft"
    facilitator: str | None = None
    review_due: date | None = None
    review_held_at: datetime | None = None
    summary: str = ""
    went_well: tuple[str, ...] = ()
    went_wrong: tuple[str, ...] = ()
    lucky: tuple[str, ...] = ()
    lessons: tuple[str, ...] = ()
    lines: tuple[tuple[str, int], ...] = ()  # field ("summary", "lessons[2]") -> Markdown line

    def line_of(self, name: str) -> int | None:
        return next((line for field_name, line in self.lines if field_name == name), None)


@dataclass(frozen=True, slots=True)
class RelatedIncident:
    """An earlier incident, for prevention potential: same service and cause category."""

    key: str
    services: frozenset[str]
    categories: frozenset[str]


@dataclass(frozen=True, slots=True)
class IncidentView:
    key: str
    title: str
    severity: str
    status: str = "open"
    summary: str = ""
    services: tuple[str, ...] = ()
    regulatory: tuple[str, ...] = ()
    started_at: datetime | None = None
    detected_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    created_at: datetime | None = None
    timeline: tuple[TimelineView, ...] = ()
    causes: tuple[CauseView, ...] = ()
    actions: tuple[ActionView, ...] = ()
    participants: tuple[ParticipantView, ...] = ()
    postmortem: PostmortemView | None = None
    related: tuple[RelatedIncident, ...] = ()
    line: int | None = None
    extra_people: tuple[str, ...] = field(default=())
    backfilled: bool = False  # imported after the fact: its rows' created_at is the import time

    @property
    def is_resolved(self) -> bool:
        """Completeness is judged once there is something to complete: a postmortem."""
        return self.postmortem is not None or self.status in {"resolved", "closed"}
