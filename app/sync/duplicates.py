"""Closing the duplicates a lagging search let through, as part of every reconcile.

The push never creates an issue twice knowingly (`creates.py` searches across a
settle window after a lost create), but a window shorter than Jira's index lag
can still let a second create through. Every issue Hindsight creates carries
its entity's `hs-<key>` label, so duplicates are found by label: the
reconcile's search hits (issues updated since the last run, which includes
every issue created since) name the suspicious labels at no extra call, one
search fetches every issue with those labels, and for each label with
several issues the oldest (the smallest Jira id) is kept. The entity is repointed to
it first (so the changes we make to the others never come back as changes to
the entity), an outbox row sends the entity's current state to it, and an
audit entry records which issues were closed; then each other issue is
linked to the kept one, commented on, and moved to Done / Duplicate.

An issue already closed as Duplicate and linked to the kept one is left as it
is, so the next reconcile does nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app import audit

from . import outbox
from .connect import SyncContext
from .items import load_entity
from .models import TrackerLink
from .tracker import Link, RemoteChange, RemoteIssue, StatusTarget, TrackerError
from .workflow import MAX_HOPS, NoPath, next_step

log = logging.getLogger(__name__)

DUPLICATE = "Duplicate"  # the resolution and the link type Jira ships with


@dataclass
class DuplicateReport:
    closed: int = 0  # issues closed as duplicates
    entities: int = 0  # entities repointed to their oldest issue
    problems: list[str] = field(default_factory=list)


def _oldest_first(issues: list[RemoteIssue]) -> list[RemoteIssue]:
    unique = {i.id: i for i in issues}
    return sorted(unique.values(), key=lambda i: (int(i.id) if i.id.isdigit() else 0, i.key))


def _already_closed(issue: RemoteIssue, kept: RemoteIssue) -> bool:
    return (
        issue.status_category == "done"
        and issue.resolution == DUPLICATE
        and kept.key in issue.linked_keys
    )


def suspects(ctx: SyncContext, changes: Iterable[RemoteChange]) -> set[str]:
    """Entity labels the reconcile's own search hits make suspicious, at no extra call: two
    hits carry the label, or a hit carries it but the entity points at another issue. A
    duplicate is created shortly after its original, so both fall in the same window."""
    shared = set(ctx.mapping.labels)
    seen: dict[str, set[str]] = {}
    for change in changes:
        for label in change.labels:
            if label not in shared:
                seen.setdefault(label, set()).add(change.issue_key)
    if not seen:
        return set()
    with ctx.db.sessions() as session:
        links = dict(
            session.execute(
                select(TrackerLink.label, TrackerLink.issue_key).where(
                    TrackerLink.label.in_(list(seen))
                )
            ).all()
        )
    return {
        label
        for label, keys in seen.items()
        if label in links and (len(keys) > 1 or links[label] not in (None, *keys))
    }


def close_duplicates(ctx: SyncContext, labels: set[str]) -> DuplicateReport:
    """One search for every issue with the suspicious labels; close all but the oldest."""
    report = DuplicateReport()
    if not labels:
        return report
    for label, found in ctx.tracker.find_all_by_labels(sorted(labels)).items():
        issues = _oldest_first(found)
        kept, others = issues[0], [i for i in issues[1:] if not _already_closed(i, issues[0])]
        if not others:
            continue
        _repoint(ctx, label, kept, others)
        report.entities += 1
        for dup in others:
            try:
                _close(ctx, dup, kept, label)
                report.closed += 1
            except TrackerError as exc:  # the next reconcile tries again
                report.problems.append(f"{dup.key}: {exc}")
                log.warning("could not close duplicate %s of %s: %s", dup.key, kept.key, exc)
    return report


def _agreed(ctx: SyncContext, issue: RemoteIssue) -> dict[str, Any]:
    """What the kept issue shows, as the base of the next push's comparison."""
    who = issue.assignee
    assignee = (who.account_id if ctx.flavour == "cloud" else who.name) if who else None
    return {
        "status": issue.status_token(),
        "priority": issue.priority,
        "duedate": issue.duedate,
        "assignee": assignee,
    }


def _repoint(ctx: SyncContext, label: str, kept: RemoteIssue, others: list[RemoteIssue]) -> None:
    with ctx.db.sessions() as session, session.begin():
        link = session.scalar(select(TrackerLink).where(TrackerLink.label == label))
        if link is None:
            return
        before = link.issue_key
        if link.issue_key != kept.key:
            link.issue_key, link.issue_id = kept.key, kept.id
            # Only the fields the kept issue was seen with: the rest is pushed again.
            link.fields, link.versions = _agreed(ctx, kept), {}
        link.create_unconfirmed_at = None
        entity = load_entity(session, link.entity_type, link.entity_id)
        if entity is not None:
            entity.tracker_key = kept.key
            outbox.add(session, link.entity_type, link.entity_id, link.entity_key)
        audit.record(
            session,
            actor="jira-sync",
            action=f"{link.entity_type}.tracker_duplicates_closed",
            entity_type=link.entity_type,
            entity_key=link.entity_key,
            before={"tracker_key": before},
            after={"tracker_key": kept.key, "duplicates": [i.key for i in others]},
        )


def _close(ctx: SyncContext, dup: RemoteIssue, kept: RemoteIssue, label: str) -> None:
    tracker = ctx.tracker
    if kept.key not in dup.linked_keys:
        tracker.add_link(dup.key, Link(DUPLICATE, kept.key))
    tracker.add_comment(
        dup.key,
        f"Duplicate of {kept.key}: Hindsight created this issue twice (label {label}) while "
        f"Jira's search did not show the first one yet. {kept.key} is the one kept in sync; "
        "this one was closed automatically.",
    )
    if dup.status_category == "done" and dup.resolution == DUPLICATE:
        return
    target = StatusTarget("done", DUPLICATE)
    known = (*ctx.mapping.resolution_names, DUPLICATE)
    visited: set[str] = set()
    for hops in range(MAX_HOPS + 1):
        step = next_step(tracker.transitions(dup.key), target, visited, known, hops)
        tracker.transition(dup.key, step.option, DUPLICATE)
        visited.add(step.option.to_id)
        if step.final:
            return
    raise NoPath(f"Done / {DUPLICATE} not reached within {MAX_HOPS} transitions")
