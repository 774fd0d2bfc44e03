"""The whole blame table, and the rule set it becomes for one set of participant names.

Rules are compiled per set of names because a name is part of a rule's subject; the detector only
ever asks for the names a text actually contains (see ``detector._present``), so texts that
mention the same people, or nobody, share one rule set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

from .prefilter import Requirement, in_lookup_order, mask, requirement
from .rows_causes import ROWS_CAUSES
from .rows_phrases import ROWS_PHRASES
from .rows_subject import ROWS_SUBJECT
from .rule import BlameRule
from .vocabulary import FLAGS, FRAGMENTS, NEVER

TABLE: tuple[BlameRule, ...] = ROWS_SUBJECT + ROWS_PHRASES + ROWS_CAUSES

_PLACEHOLDER = re.compile(r"\{([A-Z_]+)\}")  # regex quantifiers ({0,3}) never match this


@dataclass(frozen=True)
class ActiveRule:
    """A table row made concrete for one set of names: its regex and its prefilter."""

    row: BlameRule
    source: str  # the regular expression, compiled with FLAGS on first use (see ``pattern``)
    needs: Requirement
    mask: int | None  # the bits of ``needs`` (see ``prefilter.TextWords``); None: never matches

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Compiled on first use: a whole rule set costs ~50 ms to compile, and with the
        prefilter most rules of a set built for a new group of names never run."""
        return re.compile(self.source, FLAGS)


@cache
def _without_names(template: str) -> str:
    """``template`` with every fragment filled in except ``{NAME}`` (fragments nest)."""

    def fill(m: re.Match[str]) -> str:
        key = m.group(1)
        if key == "NAME":
            return m.group(0)
        if key not in FRAGMENTS:
            raise KeyError(f"unknown fragment {{{key}}} in a blame rule pattern")
        return _without_names(FRAGMENTS[key])

    return _PLACEHOLDER.sub(fill, template)


def _name_alt(names: tuple[str, ...]) -> str:
    if not names:
        return NEVER
    parts = sorted(set(names), key=len, reverse=True)  # longest first: "Emma Larsen" before "Emma"
    return "|".join(r"\s+".join(map(re.escape, p.split())) for p in parts)


def name_body(names: tuple[str, ...]) -> str:
    """Any one participant name, as a whole word (optionally @-mentioned)."""
    return rf"(?<![\w@])@?(?:{_name_alt(names)})(?![\w@])"


def expand(template: str, names: tuple[str, ...]) -> str:
    """A rule's regular expression for ``names``; ``{NAME}`` is the group named ``name``."""
    return _without_names(template).replace("{NAME}", f"(?P<name>{name_body(names)})")


@lru_cache(maxsize=128)
def rule_set(names: tuple[str, ...]) -> tuple[ActiveRule, ...]:
    """The table for one set of names, in table order, each rule with its prefilter."""
    present = bool(names)
    needs = in_lookup_order([requirement(row.groups, present) for row in TABLE])
    return tuple(
        ActiveRule(row, expand(row.pattern, names), req, mask(req))
        for row, req in zip(TABLE, needs, strict=True)
    )


def _intern_clauses() -> None:
    """Intern every clause the table can ask for (with and without names) at import, so the
    word masks of ``prefilter.text_words`` cover them from the first text on."""
    for row in TABLE:
        requirement(row.groups, True)
        requirement(row.groups, False)


def _check_ids() -> None:
    seen: set[str] = set()
    for row in TABLE:
        if row.id in seen:
            raise ValueError(f"duplicate blame rule id {row.id!r}")
        seen.add(row.id)


_check_ids()
_intern_clauses()
