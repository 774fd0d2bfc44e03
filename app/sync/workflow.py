"""Finding a way through a tracker workflow to a status *and* a resolution.

A status category alone is not a destination: "Done" and "Won't Do" are both in
the done category, and a simplified workflow may offer "Won't Do" first. So the
choice is made by target (category, optional status name, resolution), and the
tracker only ever tells us the transitions offered from where the issue is now,
so the path is found one hop at a time:

* a transition into the target category that *sets* the wanted resolution wins:
  its screen has a resolution field allowing it, or (no screen) its name or its
  status's name is the resolution (a post-function sets it, as in "Done");
* a screenless transition named after another resolution ("Won't Do" when Done
  is wanted) is never taken;
* otherwise step through a status not visited yet (To Do -> In Progress ->
  Done; Closed -> Reopened -> In Progress), preferring the categories on the
  way to the target, for at most `MAX_HOPS` transitions;
* a screenless transition whose resolution we cannot tell is the last resort,
  and the caller checks the result;
* nothing left: `NoPath`, which the pusher turns into a dead-letter entry that
  names what was offered.

Pure: options in, a decision out. The pusher does the calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .tracker import StatusTarget, TrackerError, TransitionOption

MAX_HOPS = 4
# From where to where a detour is worth taking, by the target's category.
_DETOUR_ORDER = {
    "done": ("indeterminate", "new"),
    "indeterminate": ("new", "indeterminate"),
    "new": ("indeterminate", "new"),
}
# How sure we are that a transition lands on the target: it sets the resolution (SURE), its
# name says it does (NAMED), it does but not in the preferred status name (OTHER_STATUS), or
# it reaches the category and we cannot tell the resolution (UNKNOWN: the caller checks).
SURE, NAMED, OTHER_STATUS, UNKNOWN = 0, 1, 2, 3


class NoPath(TrackerError):
    """The workflow offers no way to the target from where the issue is: permanent (a
    dead-letter entry in these words), not an HTTP failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=409)

    @property
    def transient(self) -> bool:
        """409 is otherwise a conflict worth retrying; a missing path stays missing."""
        return False

    def __str__(self) -> str:
        return f"no workflow path: {self.message}"


@dataclass(frozen=True)
class Step:
    option: TransitionOption
    final: bool  # lands on the target (if `certainty` is not UNKNOWN)
    certainty: int = SURE


def _norm(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", (text or "").lower())


def final_rank(
    option: TransitionOption, target: StatusTarget, known_resolutions: Iterable[str] = ()
) -> int | None:
    """How surely `option` lands on `target` (lower is surer); None: it does not."""
    if option.to_category != target.category:
        return None
    rank = _resolution_rank(option, target, known_resolutions)
    if rank is None or not target.status_name:
        return rank
    if _norm(option.to_name) == _norm(target.status_name):
        return rank
    return max(rank, OTHER_STATUS)  # the name is a preference: used when not offered


def _resolution_rank(
    option: TransitionOption, target: StatusTarget, known_resolutions: Iterable[str]
) -> int | None:
    wanted = target.resolution
    if not wanted or target.category != "done":
        return SURE
    if option.takes_resolution:
        allowed = {_norm(r) for r in option.resolutions}
        return SURE if not allowed or _norm(wanted) in allowed else None
    # The transition's own name says more than its status's ("Won't Do" -> status Done).
    others = {_norm(r) for r in known_resolutions} - {_norm(wanted)}
    for name in (_norm(option.name), _norm(option.to_name)):
        if name == _norm(wanted):
            return NAMED
        if name in others:
            return None  # e.g. "Won't Do" when Done is wanted: the post-function sets that
    return UNKNOWN


def next_step(
    options: Sequence[TransitionOption],
    target: StatusTarget,
    visited: set[str],
    known_resolutions: Iterable[str] = (),
    hops: int = 0,
) -> Step:
    """The next transition towards `target`, having already been through `visited`."""
    known = tuple(known_resolutions)
    ranked = [
        (rank, n, o)
        for n, o in enumerate(options)
        if (rank := final_rank(o, target, known)) is not None
    ]
    best = min(ranked, key=lambda r: (r[0], r[1]), default=None)
    if best is not None and best[0] < UNKNOWN:
        return Step(best[2], True, best[0])
    if hops < MAX_HOPS:
        order = _DETOUR_ORDER.get(target.category, ())
        detours = [
            o
            for o in options
            if o.to_id not in visited and o.to_category in order and o.to_category != "done"
        ]
        detours.sort(key=lambda o: order.index(o.to_category or ""))
        if detours:
            return Step(detours[0], False)
    if best is not None:
        return Step(best[2], True, best[0])
    offered = ", ".join(f"{o.name or o.id} -> {o.to_name}" for o in options) or "nothing"
    raise NoPath(f"the workflow offers no path to {describe(target)} (offered here: {offered})")


def describe(target: StatusTarget) -> str:
    where = target.status_name or f"a {target.category} status"
    return where + (f" with resolution {target.resolution}" if target.resolution else "")


def choose_transition(
    options: Sequence[TransitionOption], target: StatusTarget, known: Iterable[str] = ()
) -> TransitionOption | None:
    """The one transition that lands on `target` directly, if any (no detours)."""
    ranked = [
        (r, n, o) for n, o in enumerate(options) if (r := final_rank(o, target, known)) is not None
    ]
    best = min(ranked, key=lambda r: (r[0], r[1]), default=None)
    return best[2] if best else None
