"""Which status changes make sense, so the API can answer 409 for the rest."""

from __future__ import annotations

from .vocabulary import ActionStatus, IncidentStatus, PostmortemStatus

_ACTION_NEXT: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.OPEN: frozenset(
        {ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED, ActionStatus.DONE, ActionStatus.WONT_DO}
    ),
    ActionStatus.IN_PROGRESS: frozenset(
        {ActionStatus.OPEN, ActionStatus.BLOCKED, ActionStatus.DONE, ActionStatus.WONT_DO}
    ),
    ActionStatus.BLOCKED: frozenset(
        {ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.WONT_DO}
    ),
    ActionStatus.DONE: frozenset(
        {ActionStatus.VERIFIED, ActionStatus.IN_PROGRESS, ActionStatus.OPEN}
    ),
    ActionStatus.VERIFIED: frozenset({ActionStatus.IN_PROGRESS, ActionStatus.OPEN}),
    ActionStatus.WONT_DO: frozenset({ActionStatus.OPEN}),
}

_POSTMORTEM_NEXT: dict[PostmortemStatus, frozenset[PostmortemStatus]] = {
    PostmortemStatus.DRAFT: frozenset({PostmortemStatus.IN_REVIEW, PostmortemStatus.PUBLISHED}),
    PostmortemStatus.IN_REVIEW: frozenset({PostmortemStatus.DRAFT, PostmortemStatus.PUBLISHED}),
    PostmortemStatus.PUBLISHED: frozenset({PostmortemStatus.IN_REVIEW}),
}


_ACTIVE = frozenset({IncidentStatus.OPEN, IncidentStatus.INVESTIGATING, IncidentStatus.MITIGATED})
# While it is live an incident may move freely among the active states and on to resolved or
# closed; once resolved it may only close. Going back from resolved or closed is a reopen: an
# explicit use case with a reason (POST /incidents/{key}/reopen), never a plain status write.
_INCIDENT_NEXT: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    **{s: frozenset(IncidentStatus) - {s} for s in _ACTIVE},
    IncidentStatus.RESOLVED: frozenset({IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset(),
}
REOPENABLE = frozenset({IncidentStatus.RESOLVED, IncidentStatus.CLOSED})
REOPEN_TO = _ACTIVE


class TransitionError(ValueError):
    """A status change that the workflow does not allow (HTTP 409)."""


def check_action_transition(current: ActionStatus, new: ActionStatus, reason: str | None) -> None:
    if current == new:
        return
    if new not in _ACTION_NEXT[current]:
        raise TransitionError(f"an action cannot go from {current} to {new}")
    if new in {ActionStatus.WONT_DO, ActionStatus.BLOCKED} and not (reason or "").strip():
        raise TransitionError(f"moving an action to {new} needs a reason")
    if current == ActionStatus.VERIFIED and new == ActionStatus.OPEN and not (reason or "").strip():
        # what a failed validation does; by hand it says why the check no longer holds
        raise TransitionError("moving a verified action back to open needs a reason")


def check_postmortem_transition(current: PostmortemStatus, new: PostmortemStatus) -> None:
    if current != new and new not in _POSTMORTEM_NEXT[current]:
        raise TransitionError(f"a postmortem cannot go from {current} to {new}")


def check_incident_transition(current: IncidentStatus, new: IncidentStatus) -> None:
    """A resolved or closed incident goes back only by reopening (which needs a reason)."""
    if current == new or new in _INCIDENT_NEXT[current]:
        return
    if current in REOPENABLE and new in REOPEN_TO:
        raise TransitionError(
            f"an incident cannot go from {current} to {new} by a status change; reopen it with "
            "POST /api/v1/incidents/{key}/reopen and a reason"
        )
    raise TransitionError(f"an incident cannot go from {current} to {new}")
