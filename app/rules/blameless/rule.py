"""The row type of the blame table: one phrase pattern, the words it needs, and what to say."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, get_args

from .advice import Advice
from .checks import Check
from .prefilter import Group, check_groups

BlameKind = Literal["individual_blame", "person_as_cause", "human_error"]
KINDS: frozenset[str] = frozenset(get_args(BlameKind))

IB: BlameKind = "individual_blame"
PC: BlameKind = "person_as_cause"
HE: BlameKind = "human_error"

_ID = re.compile(r"blame\.[a-z_]+\.[a-z_]+")


@dataclass(frozen=True)
class BlameRule:
    """One rule of the detector.

    ``pattern`` is a regular expression (matched case-insensitively) in which ``{S}``, ``{REF}``,
    ``{ADV}`` ... stand for the shared fragments of :mod:`.vocabulary` and ``{NAME}`` for the
    participant names, filled in per set of names. ``needs`` declares the words no match can lack
    (see :mod:`.prefilter`): each entry is a keyword or a tuple of keywords of which one is
    enough, and every entry must hold. ``check`` is a context check that must keep the match;
    ``cause_only`` rules run on cause statements only. ``id`` is stable: findings may name it.
    """

    id: str
    kind: BlameKind
    pattern: str
    needs: tuple[Group, ...]
    advice: Advice
    check: Check | None = None
    cause_only: bool = False

    def __post_init__(self) -> None:
        if not _ID.fullmatch(self.id):
            raise ValueError(f"rule id {self.id!r} is not blame.<family>.<name>")
        if self.kind not in KINDS:
            raise ValueError(f"rule {self.id}: unknown kind {self.kind!r}")
        if not self.needs:
            raise ValueError(f"rule {self.id}: declare the keywords it cannot match without")
        check_groups(self.needs)

    @cached_property
    def groups(self) -> tuple[frozenset[str], ...]:
        """``needs`` as keyword sets."""
        return check_groups(self.needs)
