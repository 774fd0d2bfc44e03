"""Which status changes make sense, so the API can answer 409 for the rest."""

from __future__ import annotations

from .vocabulary import ActionStatus, PostmortemStatus

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
    ActionStatus.VERIFIED: frozenset({ActionStatus.IN_PROGRESS}),
    ActionStatus.WONT_DO: frozenset({ActionStatus.OPEN}),
}

_POSTMORTEM_NEXT: dict[PostmortemStatus, frozenset[PostmortemStatus]] = {
    PostmortemStatus.DRAFT: frozenset({PostmortemStatus.IN_REVIEW, PostmortemStatus.PUBLISHED}),
    PostmortemStatus.IN_REVIEW: frozenset({PostmortemStatus.DRAFT, PostmortemStatus.PUBLISHED}),
    PostmortemStatus.PUBLISHED: frozenset({PostmortemStatus.IN_REVIEW}),
}


class TransitionError(ValueError):
    """A status change that the workflow does not allow (HTTP 409)."""


def check_action_transition(current: ActionStatus, new: ActionStatus, reason: str | None) -> None:
    if current == new:
        return
    if new not in _ACTION_NEXT[current]:
        raise TransitionError(f"an action cannot go from {current} to {new}")
    if new in {ActionStatus.WONT_DO, ActionStatus.BLOCKED} and not (reason or "").strip():
        raise TransitionError(f"moving an action to {new} needs a reason")


def check_postmortem_transition(current: PostmortemStatus, new: PostmortemStatus) -> None:
    if current != new and new not in _POSTMORTEM_NEXT[current]:
        raise TransitionError(f"a postmortem cannot go from {current} to {new}")
