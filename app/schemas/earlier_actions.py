"""A repeat's earlier actions, held packed: a large recurrence report has a million of them.

At 100,000 incidents the recurrence report names about 100,000 repeats and a million
earlier actions. As a million models they were most of the report's time and memory
(a model with its `__dict__` is about 260 bytes and microseconds to build). Here
each repeat's earlier actions are one string (fields joined by US, actions by RS, the
status and verdict as one letter each) and
an `EarlierAction` is built only when someone reads one, a plain slotted dataclass.
To pydantic `EarlierActions` is a list of `EarlierAction` objects: the same JSON and
JSON Schema, validated from a list of objects and serialised to one.
A key holding a separator character (never one of ours) is kept unpacked, as a tuple.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, overload

from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

FIELD, ACTION = "\x1f", "\x1e"
# Statuses and verdicts are few words: packed as one letter each (a word of more than one
# letter not listed here is packed as itself, and read back as itself).
CODES = {
    "open": "o",
    "in_progress": "p",
    "blocked": "b",
    "done": "d",
    "verified": "v",
    "wont_do": "w",
    "not_created": "n",
    "ineffective": "i",
    "too_late": "t",
}
WORDS = {code: word for word, code in CODES.items()}


@dataclass(slots=True)
class EarlierAction:
    """The earlier incident's action, its status when the repeat began, and the verdict."""

    key: str
    status_at_repeat: str
    verdict: Annotated[str, Field(description="ineffective, too_late or open")]


class EarlierActions(Sequence[EarlierAction]):
    """The earlier actions of one repeat, in order; read like a list of `EarlierAction`."""

    __slots__ = ("_n", "_packed")

    def __init__(self, n: int, packed: str | tuple[EarlierAction, ...]) -> None:
        self._n, self._packed = n, packed

    @classmethod
    def of(cls, actions: Iterable[EarlierAction | tuple[str, str, str]]) -> EarlierActions:
        items = [
            a if isinstance(a, tuple) else (a.key, a.status_at_repeat, a.verdict) for a in actions
        ]
        return cls.columns(
            [k for k, _, _ in items], [s for _, s, _ in items], [v for *_, v in items]
        )

    @classmethod
    def columns(cls, keys: list[str], statuses: list[str], verdicts: list[str]) -> EarlierActions:
        """From three equal-length lists."""
        n = len(keys)
        if n == 0:
            return cls(0, "")
        words = set(statuses) | set(verdicts)
        packed = ACTION.join(
            f"{k}{FIELD}{CODES.get(s, s)}{FIELD}{CODES.get(v, v)}"
            for k, s, v in zip(keys, statuses, verdicts, strict=True)
        )
        unreadable = any(len(w) < 2 and w not in CODES for w in words)
        if unreadable or cls.packed(n, packed) is None:  # a separator or a bare letter in a value
            rows = zip(keys, statuses, verdicts, strict=True)
            return cls(n, tuple(EarlierAction(*row) for row in rows))
        return cls(n, packed)

    @classmethod
    def packed(cls, n: int, text: str) -> EarlierActions | None:
        """From `n` actions already packed (by PostgreSQL); None when a value held a
        separator, so that the text cannot be split back into `n` actions of 3 fields."""
        if text.count(FIELD) != 2 * n or text.count(ACTION) != n - 1:
            return None
        return cls(n, text)

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[EarlierAction]:
        if isinstance(self._packed, tuple):
            return iter(self._packed)
        if not self._n:
            return iter(())
        return (_unpack(*a.split(FIELD)) for a in self._packed.split(ACTION))

    @overload
    def __getitem__(self, index: int) -> EarlierAction: ...
    @overload
    def __getitem__(self, index: slice) -> list[EarlierAction]: ...
    def __getitem__(self, index: int | slice) -> EarlierAction | list[EarlierAction]:
        return list(self)[index]

    def verdicts(self) -> list[str]:
        """Only the verdicts, without building an `EarlierAction` per action."""
        if isinstance(self._packed, tuple):
            return [a.verdict for a in self._packed]
        verdicts = (a.rsplit(FIELD, 1)[1] for a in self._packed.split(ACTION))
        return [WORDS.get(v, v) for v in verdicts] if self._n else []

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EarlierActions | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to a list: not hashable either

    def __repr__(self) -> str:
        return f"EarlierActions({list(self)!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        items = handler.generate_schema(list[EarlierAction])
        packed = core_schema.no_info_after_validator_function(_from_list, items)
        return core_schema.json_or_python_schema(
            json_schema=packed,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls), packed]),
            serialization=core_schema.plain_serializer_function_ser_schema(
                list, return_schema=items
            ),
        )


def _unpack(key: str, status: str, verdict: str) -> EarlierAction:
    return EarlierAction(key, WORDS.get(status, status), WORDS.get(verdict, verdict))


def _from_list(value: list[EarlierAction]) -> EarlierActions:
    return EarlierActions.of(value)
