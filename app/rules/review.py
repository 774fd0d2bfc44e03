"""Review policy: when the postmortem review is due, who facilitates, who is invited.

Pure functions over plain values (dates, names, the catalog), so the closing service
can apply them and tests can walk calendars and rotations without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.catalog import Catalog, Person
from app.domain.vocabulary import Severity


class ReviewPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    due_business_days: int = Field(default=5, ge=0, le=60)
    holidays: tuple[date, ...] = ()
    facilitator_pool: Literal["team", "facilitators"] = "team"
    facilitator_not_incident_commander: bool = True
    stakeholder_for: tuple[Severity, ...] = (Severity.SEV1, Severity.SEV2)
    stakeholder: str = "director"  # "director", "lead", or a catalog person
    starts_at: time = time(15, 0)
    timezone: str = "UTC"
    minutes: int = Field(default=60, ge=15, le=480)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name, e.g. Europe/Berlin)"
            ) from None
        return value


def add_business_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """`days` working days after `start`: Saturdays, Sundays and the holidays do not count.

    With 0 days the review is due on `start` itself, or the next working day.
    """
    off = set(holidays)
    current = start
    while current.weekday() >= 5 or current in off:
        current += timedelta(days=1)
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in off:
            left -= 1
    return current


def facilitator_pool(
    policy: ReviewPolicy, catalog: Catalog, services: Sequence[str]
) -> list[Person]:
    """Who takes turns: the owning team's people (catalog order), or the trained facilitators.

    The team pool falls back to the trained facilitators when no service is in the catalog.
    """
    team = catalog.team_for_services(list(services))
    if policy.facilitator_pool == "team" and team is not None:
        members = [p for p in catalog.people if p.team == team.name]
        if members:
            return members
    trained = [p for p in catalog.people if p.facilitator]
    outside = [p for p in trained if team is None or p.team != team.name]
    return outside or trained


def pick_facilitator(
    pool: Sequence[Person],
    last_facilitated: Mapping[str, datetime],
    *,
    exclude: Iterable[str] = (),
) -> Person | None:
    """Rotation: whoever facilitated longest ago (never first, in pool order) goes next.

    `exclude` (the incident commander, when policy says so) is skipped; if that leaves
    nobody, nobody is picked rather than the commander reviewing their own calls.
    """
    barred = {name.lower() for name in exclude}
    candidates = [p for p in pool if p.name.lower() not in barred]
    if not candidates:
        return None
    order = {p.name: i for i, p in enumerate(candidates)}
    never = datetime.min.replace(tzinfo=None)
    return min(
        candidates,
        key=lambda p: (_naive(last_facilitated.get(p.name)) or never, order[p.name]),
    )


def _naive(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=None) if value is not None else None


def stakeholder(policy: ReviewPolicy, catalog: Catalog, services: Sequence[str]) -> str | None:
    """The business stakeholder: the owning team's director or lead, or a named person."""
    team = catalog.team_for_services(list(services))
    if policy.stakeholder == "director":
        return team.director if team else None
    if policy.stakeholder == "lead":
        return team.lead if team else None
    person = catalog.person(policy.stakeholder)
    return person.name if person else policy.stakeholder


def suggested_participants(
    policy: ReviewPolicy,
    catalog: Catalog,
    *,
    services: Sequence[str],
    severity: Severity,
    facilitator: str | None,
    already: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """(name, why) in invitation order: facilitator, service owners, affected teams'
    leads, people already on the incident, and a business stakeholder for SEV1-SEV2."""
    out: dict[str, str] = {}

    def add(name: str | None, why: str) -> None:
        if name and name not in out:
            out[name] = why

    add(facilitator, "facilitator")
    for name in services:
        svc = catalog.service(name)
        team = catalog.team(svc.team) if svc else None
        if team is not None:
            add(team.default_owner or team.lead, f"owner of {name}")
            add(team.lead, f"lead of {team.name}, affected team")
    for name, role in already:
        add(name, role.replace("_", " "))
    if severity in policy.stakeholder_for:
        add(stakeholder(policy, catalog, services), "business stakeholder")
    return list(out.items())


def review_window(policy: ReviewPolicy, due: date) -> tuple[datetime, datetime]:
    """The review meeting on its due date, at the policy's hour in its time zone."""
    start = datetime.combine(due, policy.starts_at, tzinfo=ZoneInfo(policy.timezone))
    return start, start + timedelta(minutes=policy.minutes)
