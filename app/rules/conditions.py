"""What policies declare and the engine returns: conditions, rules and matches, as plain data.

Kept apart from `engine.py` (the durable-rules adapter) so that a policy module, the policy
loader or the lint command can build and inspect rules without loading the durable-rules C
extension; only code that runs a session imports the engine.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

Op = Literal["==", "!=", "<", "<=", ">", ">=", "is_true", "is_false", "in"]
OPS: Final[frozenset[str]] = frozenset(get_args(Op))

NUMBER_TYPES: Final[frozenset[type]] = frozenset({int, float, bool})
STRING_TYPES: Final[frozenset[type]] = frozenset({str})
ORDERING_OPS: Final = frozenset({"<", "<=", ">", ">="})

# One JSON form for everything that is hashed or posted, so a rules version is stable.
encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, check_circular=False, separators=(",", ":")
).encode


class RulesEngineError(RuntimeError):
    """durable-rules refused an operation; callers need not know its exception types."""


def _is_scalar(value: object) -> bool:
    # NaN and infinities have no JSON form, so durable-rules could never see them.
    return isinstance(value, (str, int)) or (isinstance(value, float) and math.isfinite(value))


@dataclass(frozen=True)
class Condition:
    """One comparison of a fact field with a constant.

    Validated on construction so a bad policy fails where it is loaded, not on
    the first evaluation. Semantics are Python's for the values a fact builder
    produces: numbers compare with numbers (bools count as 0/1, so `is_true`
    means "== True"), strings with strings (ordering is by code point), and a
    fact value of the other family is a TypeError at evaluation rather than a
    silent coercion. A condition on a field the fact lacks (or holds as None)
    never holds, whatever the operator, `!=` included, as in SQL.
    """

    field: str
    op: Op
    value: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.field, str) or not self.field:
            raise ValueError(f"condition field must be a non-empty string, got {self.field!r}")
        if self.op not in OPS:
            raise ValueError(
                f"unknown op {self.op!r} on field {self.field!r}; expected one of {sorted(OPS)}"
            )
        where = f"condition {self.field} {self.op}"
        if self.op in ("is_true", "is_false"):
            if self.value is not None:
                raise ValueError(f"{where} takes no value, got {self.value!r}")
        elif self.op == "in":
            object.__setattr__(self, "value", _in_values(where, self.value))
        elif not _is_scalar(self.value):
            raise ValueError(f"{where} needs a string or number, got {self.value!r}")
        elif self.op in ORDERING_OPS and isinstance(self.value, bool):
            raise ValueError(f"{where} orders by a boolean; use is_true/is_false")

    def value_types(self) -> frozenset[type]:
        """Fact value types this condition can be compared with meaningfully."""
        if self.op in ("is_true", "is_false"):
            return NUMBER_TYPES
        sample = self.value[0] if self.op == "in" else self.value
        return STRING_TYPES if isinstance(sample, str) else NUMBER_TYPES


def _in_values(where: str, value: Any) -> tuple[Any, ...]:
    """The validated, ordered values of an `in` condition."""
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{where} needs a list of values, got {value!r}")
    values = tuple(value)
    if not values:
        raise ValueError(f"{where} needs at least one value")
    if not all(_is_scalar(v) for v in values):
        raise ValueError(f"{where} values must be strings or numbers, got {values!r}")
    if len({type(v) is str for v in values}) > 1:
        raise ValueError(f"{where} mixes strings and numbers: {values!r}")
    if isinstance(value, (set, frozenset)):  # a stable version needs a stable order
        values = tuple(sorted(values, key=encode))
    return values


@dataclass(frozen=True)
class Rule:
    """A named conjunction of conditions over facts of one kind."""

    id: str
    kind: str
    when: tuple[Condition, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"rule id must be a non-empty string, got {self.id!r}")
        if not isinstance(self.kind, str) or not self.kind:
            raise ValueError(f"rule {self.id!r}: kind must be a non-empty string")
        when = tuple(self.when) if isinstance(self.when, (list, tuple)) else None
        if not when:
            raise ValueError(f"rule {self.id!r}: `when` needs at least one condition")
        for c in when:
            if not isinstance(c, Condition):
                raise ValueError(f"rule {self.id!r}: {c!r} is not a Condition")
        object.__setattr__(self, "when", when)


@dataclass(frozen=True)
class Match:
    """A rule that holds for a fact; `fact` is the caller's own mapping, not a copy."""

    rule_id: str
    fact: Mapping[str, Any]


__all__ = ["OPS", "Condition", "Match", "Op", "Rule", "RulesEngineError"]
