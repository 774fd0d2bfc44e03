"""Blameless language: summaries, causes, timeline text and lessons.

Blame ends an investigation at the first person found and teaches everyone
to hide the next mistake, so the policy flags individual blame, a person
named as a cause, and "human error" offered as an explanation, and proposes
a systems-focused rephrasing. Detection itself is `blameless.detect` (the
rules table points, the learned classifier decides; measured against a
labelled corpus), the same function `hindsight lint` reaches through this
policy; this module decides which texts are read, who counts as a person,
and turns each hit into an engine fact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .blameless import BlameMatch, detect
from .conditions import Condition, Rule
from .model import Context, FindingDraft
from .policy import Policy
from .views import IncidentView

KINDS = ("individual_blame", "person_as_cause", "human_error")


@dataclass(frozen=True, slots=True)
class Text:
    """One piece of prose and where it lives, so a finding can point at it."""

    entity_type: str
    entity_key: str
    field: str
    text: str
    as_cause: bool = False
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    where: Text
    match: BlameMatch
    occurrence: int

    @property
    def line(self) -> int | None:
        if self.where.line is None:
            return None
        return self.where.line + self.where.text.count("\n", 0, self.match.start)


def rules(policy: Policy) -> list[Rule]:
    return [
        Rule(f"language.{kind}", "blame", (Condition("blame_kind", "==", kind),)) for kind in KINDS
    ]


def texts(incident: IncidentView) -> Iterator[Text]:
    key = incident.key
    yield Text("incident", key, "summary", incident.summary, line=incident.line)
    for c in incident.causes:
        yield Text("cause", c.key, "statement", c.statement, as_cause=True, line=c.line)
        if c.why:
            yield Text("cause", c.key, "why", c.why, as_cause=True, line=c.why_line or c.line)
    for t in incident.timeline:
        yield Text("timeline_event", t.key, "text", t.text, line=t.line)
        if t.rationale:
            yield Text("timeline_event", t.key, "rationale", t.rationale, line=t.line)
    pm = incident.postmortem
    if pm is None:
        return
    if pm.summary.strip() and pm.summary.strip() != incident.summary.strip():
        yield Text("postmortem", key, "summary", pm.summary, line=pm.line_of("summary"))
    for name in ("went_well", "went_wrong", "lucky", "lessons"):
        for i, line in enumerate(getattr(pm, name)):
            field = f"{name}[{i}]"
            yield Text("postmortem", key, field, line, line=pm.line_of(field))


def people(incident: IncidentView, ctx: Context) -> tuple[str, ...]:
    """Participants and (by policy) everyone in the catalog: the names a cause must not use.

    Action owners are left out on purpose: with any names given, the detector
    reads other capitalised subjects as products, so the list should be the
    incident's people, not whoever happens to own a follow-up.
    """
    names = {p.name for p in incident.participants if p.name}
    names.update(incident.extra_people)
    if ctx.policy.language.catalog_people_are_participants:
        names.update(p.name for p in ctx.catalog.people)
    return tuple(sorted(names))


def hits(incident: IncidentView, ctx: Context) -> list[Hit]:
    names = people(incident, ctx)
    threshold = ctx.policy.language.threshold
    out: list[Hit] = []
    for where in texts(incident):
        if not where.text.strip():
            continue
        seen: dict[str, int] = {}
        for match in scan(where.text, names, where.as_cause, threshold):
            n = seen[match.phrase.lower()] = seen.get(match.phrase.lower(), 0) + 1
            out.append(Hit(where, match, n))
    return out


@lru_cache(maxsize=8192)
def scan(
    text: str, names: tuple[str, ...], as_cause: bool, threshold: float | None = None
) -> tuple[BlameMatch, ...]:
    """Blame in one text, memoised by the text (its hash) and how it is read: every write
    re-evaluates the whole incident, and most of its prose has not changed since the last
    evaluation, so each text is classified once per process."""
    return tuple(detect(text, people=names, as_cause=as_cause, threshold=threshold))


def fact_fields(hit: Hit) -> dict[str, Any]:
    return {"blame_kind": hit.match.kind, "field": hit.where.field}


def explain(rule: str, hit: Hit, ctx: Context) -> FindingDraft:
    where, match = hit.where, hit.match
    label = where.field.replace("_", " ")
    details: dict[str, Any] = {
        "field": where.field,
        "phrase": match.phrase,
        "start": match.start,
        "end": match.end,
        "kind": match.kind,
        "detector": match.rule,
        "score": round(match.score, 3),
    }
    if hit.line is not None:
        details["line"] = hit.line
    return FindingDraft(
        rule,
        ctx.policy.severity(rule),
        where.entity_type,
        where.entity_key,
        f"In the {label}: \u201c{match.phrase}\u201d \u2014 {match.message}",
        match.suggestion,
        details,
        discriminator=f"{where.field}:{match.phrase.lower()}:{hit.occurrence}",
    )
