"""Hindsight's own Markdown export read back whole: the facts of every rule family.

A hand-written postmortem is judged by what a document can say (completeness
and language). An export says more, because `app/templates/postmortem.md.j2`
writes down every fact the policies read: its head table names the moment it
was generated (`| Generated | 2026-03-10T09:00:00Z by Hindsight |`), the
incident's status, source, services, regulatory flags, its times and the
earlier incidents scoring counted; each action lists its type, team, due date,
priority, effort, score, compliance obligation, when it was raised and last
touched, and every validation record; the timeline table has each event's
time and the obligation a notification met. This module reads those back into
the same `IncidentView` the service builds, with the service's own subject
keys (`INC-3/17` for cause RC17, `INC-3/5` for timeline event T5), so
`hindsight lint` on an export finds what the service found, fingerprints
included.

Values are read exactly as written: a field starts on a line of its own at the
item's indentation ("Owner: ..."), continuation lines are indented two more,
and "_None recorded._" is no value.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime

from app.domain.vocabulary import ActionType, Effort, Priority

from . import markdown_items as items
from .markdown import Block, Document
from .views import ActionView, IncidentView, RelatedIncident, TimelineView
from .views import ValidationView as Check

_GENERATED = re.compile(r"^\s*(\S+)\s+by\s+Hindsight\s*$")
_STATUS = re.compile(r"incident\s+(\w+),\s*postmortem\s+(\w+)")
_RELATED = re.compile(r"([A-Za-z]+-\d+)\s*\(([^;()]*);([^()]*)\)")
_FIELD = re.compile(r"^([A-Z][A-Za-z ]{1,30}):(?: (.*))?$")
_RECORD = re.compile(r"^- \*\*V(\d+)\*\*: (pass|fail) at (\S+) by (.*)$")
_COMPLIANCE = re.compile(r"^(yes|no)(?:\s*\(([^)]*)\))?")
_ACTION_KEYS = {
    "status",
    "type",
    "owner",
    "team",
    "due",
    "priority",
    "effort",
    "score",
    "compliance",
    "raised",
    "last activity",
    "addresses",
    "success criteria",
    "validation",
}
_RECORD_KEYS = {"checked", "evidence", "note", "recorded"}
_TYPES = {t.value for t in ActionType}
_EFFORTS = {e.value for e in Effort}
_PRIORITIES = {p.value for p in Priority}


def generated_at(doc: Document) -> datetime | None:
    """When Hindsight wrote the document; None for anything else (it is not an export)."""
    found = doc.head.get("generated")
    m = _GENERATED.match(found[0]) if found else None
    return items.parse_time(m.group(1)) if m else None


def is_redacted(doc: Document) -> bool:
    """A shared export: names are roles, so owners, participants and escalation targets are no
    longer the record's, and only the rules that need no people (completeness, language) apply."""
    return "redacted" in doc.head


def head_line(doc: Document, name: str) -> int | None:
    found = doc.head.get(name)
    return found[1] if found else None


def keyed(lines: list[str], indent: int, known: set[str]) -> dict[str, str]:
    """`Key: value` fields starting at exactly `indent` spaces; lines indented two more
    continue the field before them (less that indentation), so typed text keeps its shape."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        m = _FIELD.match(line[indent:]) if line[:indent] == " " * indent else None
        key = m.group(1).lower() if m else ""
        if m and key in known and key not in out:
            current = out[key] = [m.group(2) or ""]
        elif current is not None:
            current.append(line[indent + 2 :] if line.strip() else "")
    return {k: "\n".join(v).rstrip() for k, v in out.items()}


def _list(text: str | None) -> tuple[str, ...]:
    found = items.value(text)
    return tuple(x.strip() for x in found.split(",") if x.strip()) if found else ()


def _related(text: str | None) -> tuple[RelatedIncident, ...]:
    return tuple(
        RelatedIncident(m.group(1), frozenset(_list(m.group(2))), frozenset(_list(m.group(3))))
        for m in _RELATED.finditer(items.value(text) or "")
    )


def _head(doc: Document, name: str) -> str | None:
    found = doc.head.get(name)
    return items.value(found[0]) if found else None


def _time(text: str | None) -> datetime | None:
    found = items.value(text)
    return items.parse_time(found) if found else None


def _date(text: str | None) -> date | None:
    """A day as the export writes it; an edited, unreadable one is no value (lint says so)."""
    try:
        return date.fromisoformat(text.strip()) if text else None
    except ValueError:
        return None


def _one_of(text: str | None, allowed: set[str]) -> str | None:
    """A value of the vocabulary, or none: a hand-edited "P9" must not stop the rules."""
    return text if text in allowed else None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def enrich(view: IncidentView, doc: Document) -> IncidentView:
    """The view `markdown.to_view` read, completed with what only an export carries."""
    key = doc.title.partition(":")[0].strip() or view.key
    status = _STATUS.search(_head(doc, "status") or "")
    causes = {c.key: f"{key}/{c.key[2:]}" for c in view.causes if c.key.startswith("RC")}
    postmortem = view.postmortem
    if postmortem is not None:
        postmortem = replace(
            postmortem,
            status=status.group(2) if status else postmortem.status,
            review_due=_date(_head(doc, "review due")),
            review_held_at=_time(_head(doc, "review held")),
            facilitator=_head(doc, "facilitator"),
        )
    return replace(
        view,
        key=key,
        title=doc.title.partition(":")[2].strip() or view.title,
        status=status.group(1) if status else view.status,
        services=_list(_head(doc, "services")),
        regulatory=_list(_head(doc, "regulatory")),
        created_at=_time(_head(doc, "created")),
        # The head's own rows, not a "Detected: ..." typed into a summary further down.
        started_at=_time(_head(doc, "started")),
        detected_at=_time(_head(doc, "detected")),
        resolved_at=_time(_head(doc, "resolved")),
        closed_at=_time(_head(doc, "closed")),
        related=_related(_head(doc, "related incidents")),
        backfilled=_head(doc, "source") in {"import", "demo"},
        causes=tuple(replace(c, key=causes.get(c.key, c.key)) for c in view.causes),
        timeline=tuple(
            _event(key, event, block)
            for event, block in zip(view.timeline, doc.blocks.get("timeline", []), strict=True)
        ),
        actions=tuple(
            _action(action, block, causes)
            for action, block in zip(view.actions, doc.blocks.get("actions", []), strict=True)
        ),
        postmortem=postmortem,
        # Redacted, a participant's "name" is their role ("the incident commander"): not a
        # person the blame detector should look for.
        participants=tuple(replace(p, name=None) for p in view.participants)
        if is_redacted(doc)
        else view.participants,
    )


def _event(key: str, event: TimelineView, block: Block) -> TimelineView:
    cells = block.cells or {}
    number = event.key[1:] if re.fullmatch(r"T\d+", event.key) else None
    return replace(
        event,
        key=f"{key}/{number}" if number else event.key,
        at=_time(cells.get("Time (UTC)")),
        obligation=items.value(cells.get("Obligation")),
    )


def _action(action: ActionView, block: Block, causes: dict[str, str]) -> ActionView:
    lines = block.text.splitlines()[1:]
    split = next(
        (n for n, ln in enumerate(lines) if ln.startswith("Validation records:")), len(lines)
    )
    f = {k: items.value(v) for k, v in keyed(lines[:split], 0, _ACTION_KEYS).items()}
    checks = _checks(lines[split + 1 :])
    compliance = _COMPLIANCE.match(f.get("compliance") or "")
    return replace(
        action,
        type=_one_of(f.get("type"), _TYPES) or action.type,
        owner=f.get("owner"),
        team=f.get("team"),
        due_date=_date(f.get("due")),
        priority=_one_of(f.get("priority"), _PRIORITIES),
        effort=_one_of(f.get("effort"), _EFFORTS),
        score=_number(f.get("score")),
        success_criteria=f.get("success criteria"),
        validation_method=f.get("validation"),
        is_compliance=bool(compliance and compliance.group(1) == "yes"),
        compliance_rule=compliance.group(2) if compliance and compliance.group(2) else None,
        created_at=_time(f.get("raised")),
        last_activity_at=_time(f.get("last activity")),
        cause_keys=tuple(causes.get(k, k) for k in action.cause_keys),
        last_validation=checks[-1] if checks else None,
        has_passing_validation=any(c.result == "pass" for c in checks),
    )


def _checks(lines: list[str]) -> list[Check]:
    """The action's validation records, oldest first, as `- **V3**: pass at ... by ...` items."""
    starts = [n for n, ln in enumerate(lines) if _RECORD.match(ln)]
    out = []
    for n, start in enumerate(starts):
        head = _RECORD.match(lines[start])
        assert head is not None
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        f = keyed(lines[start + 1 : end], 2, _RECORD_KEYS)
        checked_at = items.parse_time(head.group(3))
        if checked_at is None:
            continue
        out.append(
            Check(
                id=int(head.group(1)),
                result=head.group(2),
                checked=f.get("checked", ""),
                checked_at=checked_at,
                checked_by=head.group(4).strip(),
                evidence=f.get("evidence", ""),
            )
        )
    return out
