"""Checks on an incident document that one field's type cannot express, each with its path.

Refs must resolve and be unique; an action's history must be a chain the
workflow allows (each step starts where the previous one ended, in time
order, ending at the action's status), and its completion and verification
times must fit its status. An import that fails any of these names every
failing field and stores nothing.
"""

from __future__ import annotations

from typing import Any

from app.domain.transitions import TransitionError, check_action_transition
from app.domain.vocabulary import ActionStatus, PostmortemStatus
from app.schemas.documents import ActionDoc, IncidentDocument

Loc = list[str | int]
_COMPLETED = {ActionStatus.DONE, ActionStatus.VERIFIED, ActionStatus.WONT_DO}


def document_errors(doc: IncidentDocument) -> list[dict[str, Any]]:
    errors = dangling_refs(doc)
    for i, action in enumerate(doc.actions):
        errors += history_errors(action, ["actions", i])
    pm = doc.postmortem
    if pm is not None and pm.published_at and pm.status != PostmortemStatus.PUBLISHED:
        errors.append(_err(["postmortem", "published_at"], "only a published postmortem has it"))
    return errors


def _err(loc: Loc, msg: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg}


def dangling_refs(doc: IncidentDocument) -> list[dict[str, Any]]:
    evidence = {e.ref for e in doc.evidence}
    causes = {c.ref for c in doc.causes}
    errors: list[dict[str, Any]] = []
    for label, refs in (
        ("evidence", [e.ref for e in doc.evidence]),
        ("causes", [c.ref for c in doc.causes]),
    ):
        for i, ref in enumerate(refs):
            if refs.index(ref) != i:
                errors.append(_err([label, i, "ref"], f"duplicate ref {ref!r}"))
    for i, cause in enumerate(doc.causes):
        if cause.parent is not None and cause.parent not in causes:
            errors.append(_err(["causes", i, "parent"], f"unknown cause ref {cause.parent!r}"))
        for j, ref in enumerate(cause.evidence):
            if ref not in evidence:
                errors.append(_err(["causes", i, "evidence", j], f"unknown evidence ref {ref!r}"))
    keys = [a.key.upper() for a in doc.actions if a.key]
    for i, action in enumerate(doc.actions):
        for j, ref in enumerate(action.addresses):
            if ref not in causes:
                errors.append(_err(["actions", i, "addresses", j], f"unknown cause ref {ref!r}"))
        if action.key and keys.count(action.key.upper()) > 1:
            errors.append(_err(["actions", i, "key"], f"duplicate action key {action.key!r}"))
    return errors


def history_errors(action: ActionDoc, loc: Loc) -> list[dict[str, Any]]:
    """The history is what happened: a chain the workflow allows, in time order."""
    errors: list[dict[str, Any]] = []
    previous: ActionStatus | None = None
    for n, step in enumerate(action.history):
        here: Loc = [*loc, "history", n]
        if step.from_status != previous:
            want = "null (the first step)" if previous is None else repr(previous.value)
            errors.append(_err([*here, "from_status"], f"must be {want}"))
        elif previous is not None:
            try:
                check_action_transition(previous, step.to_status, step.reason)
            except TransitionError as exc:
                errors.append(_err([*here, "to_status"], str(exc)))
        if n and step.at < action.history[n - 1].at:
            errors.append(_err([*here, "at"], "is earlier than the step before it"))
        previous = step.to_status
    if action.history and previous != action.status:
        errors.append(_err([*loc, "status"], "must be where the history ends"))
    return errors + _time_errors(action, loc)


def _time_errors(action: ActionDoc, loc: Loc) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if action.completed_at and action.status not in _COMPLETED:
        errors.append(_err([*loc, "completed_at"], f"an action that is {action.status} has none"))
    if action.verified_at and action.status != ActionStatus.VERIFIED:
        errors.append(_err([*loc, "verified_at"], "only a verified action has it"))
    if action.verified_at and action.completed_at and action.verified_at < action.completed_at:
        errors.append(_err([*loc, "verified_at"], "is earlier than completed_at"))
    first = action.created_at
    if first and action.history and action.history[0].at < first:
        errors.append(_err([*loc, "history", 0, "at"], "is earlier than created_at"))
    if first and action.completed_at and action.completed_at < first:
        errors.append(_err([*loc, "completed_at"], "is earlier than created_at"))
    return errors
